//! Bulk directory import from CSV: every row is checked first, every bad row is reported with its
//! line number, and only a file without errors is written, in one transaction.

use crate::directory::{DepartmentInput, PersonInput, validate_department, validate_person};
use crate::{App, AppError, AppResult, RowError, audit, sha256_hex};
use mailroom_domain::custody::Actor;
use mailroom_domain::ids::{DepartmentId, PersonId, TenantId};
use mailroom_domain::{DomainError, ErrorCode};
use mailroom_store::{AdminChange, Department, DirectoryImport};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// Columns of a people file. `department` is a department code; `aliases` are separated by `;`.
pub const PEOPLE_COLUMNS: &[&str] =
    &["name", "name_latin", "aliases", "employee_no", "department", "email", "phone", "active", "forwarding"];
/// Columns of a departments file. `parent` is the code of the department a team belongs to.
pub const DEPARTMENT_COLUMNS: &[&str] = &["code", "name", "name_en", "kind", "parent", "email"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    People,
    Departments,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
}

struct Table {
    header: HashMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

fn read_table(data: &[u8], required: &[&str], known: &[&str], errors: &mut Vec<RowError>) -> Option<Table> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut rdr = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(data);
    let header = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errors.push(RowError { line: 1, reason: csv_reason(&e) });
            return None;
        }
    };
    let header: HashMap<String, usize> = header.iter().enumerate().map(|(i, h)| (h.to_lowercase(), i)).collect();
    for r in required {
        if !header.contains_key(*r) {
            errors.push(RowError { line: 1, reason: format!("missing column {r:?}") });
        }
    }
    for h in header.keys() {
        if !known.contains(&h.as_str()) {
            errors.push(RowError { line: 1, reason: format!("unknown column {h:?} (known: {})", known.join(", ")) });
        }
    }
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => rows.push((rec.position().map(|p| p.line()).unwrap_or(line), rec.clone())),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                errors.push(RowError { line, reason: csv_reason(&e) });
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
            }
        }
    }
    Some(Table { header, rows })
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 (save the file as UTF-8)".into(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} fields but the header has {expected_len}")
        }
        _ => e.to_string(),
    }
}

impl Table {
    fn get<'a>(&self, rec: &'a csv::StringRecord, col: &str) -> Option<&'a str> {
        self.header.get(col).and_then(|i| rec.get(*i)).filter(|s| !s.is_empty())
    }
}

fn parse_bool(v: Option<&str>) -> Result<Option<bool>, String> {
    match v.map(|s| s.to_lowercase()) {
        None => Ok(None),
        Some(s) => match s.as_str() {
            "true" | "yes" | "1" | "active" | "是" | "在职" => Ok(Some(true)),
            "false" | "no" | "0" | "left" | "否" | "离职" => Ok(Some(false)),
            _ => Err(format!("active must be true or false, not {s:?}")),
        },
    }
}

/// What the organisation's directory already holds, as far as an import needs to know.
#[derive(Debug, Clone, Default)]
pub struct ExistingDirectory {
    pub departments: Vec<Department>,
    /// People with an employee number, by that number.
    pub people: HashMap<String, PersonId>,
}

/// Refuses files that are plainly not CSV text: spreadsheets, archives, images, PDFs, UTF-16.
pub fn sniff_csv(data: &[u8]) -> Result<(), DomainError> {
    let unsupported = |what: &str| {
        DomainError::new(ErrorCode::UnsupportedMediaType, format!("{what}; save the file as CSV (UTF-8) and try again"))
    };
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "this is an Excel workbook or a ZIP archive, not CSV"),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "this is an old Excel or Office file, not CSV"),
        (b"%PDF-", "this is a PDF document, not CSV"),
        (b"\x89PNG", "this is an image, not CSV"),
        (b"\xFF\xD8\xFF", "this is an image, not CSV"),
        (b"GIF8", "this is an image, not CSV"),
        (b"\x1F\x8B", "this is a compressed file, not CSV"),
        (b"\xFF\xFE", "the file is UTF-16 text"),
        (b"\xFE\xFF", "the file is UTF-16 text"),
    ];
    for (magic, what) in SIGNATURES {
        if data.starts_with(magic) {
            return Err(unsupported(what));
        }
    }
    if data.iter().take(64 * 1024).any(|b| *b == 0) {
        return Err(unsupported("the file contains binary data, not text"));
    }
    Ok(())
}

/// Works out what importing a CSV file would write, without touching the database: every row is
/// checked, and either the whole import or every bad row (with its line number) is returned.
/// `progress` is called with the number of rows checked and the total.
pub fn plan_import(
    tenant: TenantId,
    kind: ImportKind,
    data: &[u8],
    existing: &ExistingDirectory,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<(DirectoryImport, ImportReport), AppError> {
    let mut errors = Vec::new();
    let (required, known) = match kind {
        ImportKind::People => (&["name"][..], PEOPLE_COLUMNS),
        ImportKind::Departments => (&["code", "name"][..], DEPARTMENT_COLUMNS),
    };
    sniff_csv(data)?;
    let Some(table) = read_table(data, required, known, &mut errors) else {
        return Err(AppError::Rows(errors));
    };
    if !errors.is_empty() && errors.iter().any(|e| e.line == 1) {
        return Err(AppError::Rows(errors));
    }
    let total = table.rows.len() as u64;
    let existing_depts = &existing.departments;
    let mut dept_by_code: HashMap<String, DepartmentId> =
        existing_depts.iter().map(|d| (d.code.clone(), d.id)).collect();
    let mut import = DirectoryImport::default();
    let mut report = ImportReport::default();
    match kind {
        ImportKind::Departments => {
            // First pass: assign ids so that a team may name a parent defined later in the file.
            let mut seen = HashSet::new();
            for (_, rec) in &table.rows {
                if let Some(code) = table.get(rec, "code") {
                    dept_by_code.entry(code.to_uppercase()).or_default();
                }
            }
            for (i, (line, rec)) in table.rows.iter().enumerate() {
                progress(i as u64 + 1, total);
                let code = table.get(rec, "code").unwrap_or_default().to_uppercase();
                if !seen.insert(code.clone()) {
                    errors.push(RowError { line: *line, reason: format!("department code {code} appears twice") });
                    continue;
                }
                let parent_id = match table.get(rec, "parent") {
                    None => None,
                    Some(pc) => match dept_by_code.get(&pc.to_uppercase()) {
                        Some(id) => Some(*id),
                        None => {
                            errors.push(RowError { line: *line, reason: format!("unknown parent department {pc:?}") });
                            continue;
                        }
                    },
                };
                let input = DepartmentInput {
                    code: code.clone(),
                    name: table.get(rec, "name").unwrap_or_default().to_string(),
                    name_en: table.get(rec, "name_en").map(str::to_string),
                    kind: table.get(rec, "kind").map(str::to_string),
                    parent_id,
                    key_contact_id: None,
                    email: table.get(rec, "email").map(str::to_string),
                };
                let id = dept_by_code.get(&code).copied().unwrap_or_default();
                match validate_department(tenant, id, &input) {
                    Ok(mut d) => {
                        if let Some(old) = existing_depts.iter().find(|o| o.id == id) {
                            d.key_contact_id = old.key_contact_id;
                            report.updated += 1;
                        } else {
                            report.created += 1;
                        }
                        import.departments.push(d);
                    }
                    Err(e) => errors.push(RowError { line: *line, reason: e.message }),
                }
            }
        }
        ImportKind::People => {
            let mut seen_no = HashSet::new();
            for (i, (line, rec)) in table.rows.iter().enumerate() {
                progress(i as u64 + 1, total);
                let active = match parse_bool(table.get(rec, "active")) {
                    Ok(a) => a,
                    Err(e) => {
                        errors.push(RowError { line: *line, reason: e });
                        continue;
                    }
                };
                let department_id = match table.get(rec, "department") {
                    None => None,
                    Some(code) => match dept_by_code.get(&code.to_uppercase()) {
                        Some(id) => Some(*id),
                        None => {
                            errors.push(RowError { line: *line, reason: format!("unknown department {code:?}") });
                            continue;
                        }
                    },
                };
                let employee_no = table.get(rec, "employee_no").map(str::to_string);
                if let Some(no) = &employee_no
                    && !seen_no.insert(no.clone())
                {
                    errors.push(RowError { line: *line, reason: format!("employee number {no} appears twice") });
                    continue;
                }
                let input = PersonInput {
                    name: table.get(rec, "name").unwrap_or_default().to_string(),
                    name_latin: table.get(rec, "name_latin").map(str::to_string),
                    aliases: table
                        .get(rec, "aliases")
                        .map(|a| a.split([';', '|']).map(|s| s.trim().to_string()).collect())
                        .unwrap_or_default(),
                    employee_no: employee_no.clone(),
                    department_id,
                    email: table.get(rec, "email").map(str::to_string),
                    phone: table.get(rec, "phone").map(str::to_string),
                    active,
                    forwarding: table.get(rec, "forwarding").map(str::to_string),
                };
                let existing = employee_no.as_ref().and_then(|no| existing.people.get(no)).copied();
                let id = existing.unwrap_or_else(PersonId::new);
                match validate_person(tenant, id, &input) {
                    Ok(p) => {
                        if existing.is_some() {
                            report.updated += 1;
                        } else {
                            report.created += 1;
                        }
                        import.people.push(p);
                    }
                    Err(e) => errors.push(RowError { line: *line, reason: e.message }),
                }
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(AppError::Rows(errors));
    }
    // Parents before their teams, whatever the order in the file.
    let mut ordered = Vec::with_capacity(import.departments.len());
    let mut pending = std::mem::take(&mut import.departments);
    while !pending.is_empty() {
        let before = pending.len();
        let waiting: HashSet<DepartmentId> = pending.iter().map(|d| d.id).collect();
        let (ready, rest): (Vec<_>, Vec<_>) =
            pending.into_iter().partition(|d| d.parent_id.is_none_or(|p| !waiting.contains(&p)));
        pending = rest;
        ordered.extend(ready);
        if pending.len() == before {
            return Err(AppError::Rows(vec![RowError {
                line: 1,
                reason: "departments form a cycle of parents".into(),
            }]));
        }
    }
    import.departments = ordered;
    if import.departments.is_empty() && import.people.is_empty() {
        return Err(AppError::Rows(vec![RowError { line: 2, reason: "the file has no rows".into() }]));
    }
    Ok((import, report))
}

impl App {
    /// Imports a CSV file into the caller's directory (administrators), audited as the caller.
    pub async fn import_as(
        &self,
        p: &crate::Principal,
        ctx: &crate::RequestCtx,
        kind: ImportKind,
        data: &[u8],
    ) -> AppResult<ImportReport> {
        mailroom_domain::auth::require(p.role, mailroom_domain::auth::Permission::ImportDirectory)?;
        self.import_csv(p.tenant_id, &p.actor(ctx), kind, data, &|_, _| {}).await
    }

    /// Imports a CSV file into a tenant's directory in one transaction, audited as `actor`.
    /// `progress` is called with the number of rows checked.
    pub async fn import_csv(
        &self,
        tenant: TenantId,
        actor: &Actor,
        kind: ImportKind,
        data: &[u8],
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> AppResult<ImportReport> {
        let mut existing =
            ExistingDirectory { departments: self.store.list_departments(tenant).await?, people: HashMap::new() };
        if kind == ImportKind::People {
            let mut after = None;
            loop {
                let page = self.store.search_people(tenant, "", after, 1000).await?;
                after = page.last().map(|p| p.id);
                for p in &page {
                    if let Some(no) = &p.employee_no {
                        existing.people.insert(no.clone(), p.id);
                    }
                }
                if page.len() < 1000 {
                    break;
                }
            }
        }
        let (import, report) = plan_import(tenant, kind, data, &existing, progress)?;
        let draft = audit::draft(
            audit::DIRECTORY_IMPORT,
            json!({
                "kind": match kind { ImportKind::People => "people", ImportKind::Departments => "departments" },
                "created": report.created,
                "updated": report.updated,
                "file_sha256": sha256_hex(data),
                "bytes": data.len(),
            }),
        );
        self.store.admin_write(tenant, AdminChange::ImportDirectory(import), actor, draft).await?;
        Ok(report)
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn plan(kind: ImportKind, data: &str) -> Result<(DirectoryImport, ImportReport), AppError> {
        plan_import(TenantId::new(), kind, data.as_bytes(), &ExistingDirectory::default(), &|_, _| {})
    }

    #[test]
    fn sniffing_refuses_what_is_not_csv_text() {
        assert!(sniff_csv(b"name\nA\n").is_ok());
        assert!(sniff_csv("\u{feff}name\n张三\n".as_bytes()).is_ok());
        for bad in
            [&b"PK\x03\x04xl/"[..], b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", b"%PDF-1.7", b"\xFF\xFEn\x00", b"a\x00b"]
        {
            let e = sniff_csv(bad).err().map(|e| e.code);
            assert_eq!(e, Some(ErrorCode::UnsupportedMediaType), "{bad:?}");
        }
    }

    #[test]
    fn plans_without_a_database() {
        let (import, report) =
            plan(ImportKind::Departments, "code,name,kind,parent\nRND-A,A组,team,RND\nRND,研究部,,\n")
                .unwrap_or_default();
        assert_eq!(report.created, 2);
        let codes: Vec<&str> = import.departments.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["RND", "RND-A"], "parents first");
        let rows = match plan(ImportKind::People, "name,employee_no\n,E1\nA,E2\nB,E2\n") {
            Err(AppError::Rows(rows)) => rows.into_iter().map(|r| r.line).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(rows, [2, 4]);
        assert!(matches!(plan(ImportKind::People, "name\n"), Err(AppError::Rows(_))));
        assert!(matches!(plan(ImportKind::People, "PK\u{3}\u{4}"), Err(AppError::Domain(_))));
    }
}
