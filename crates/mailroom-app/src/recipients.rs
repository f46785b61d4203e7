//! Recipient matching: finds the person, department or team an item is for, from what the clerk
//! types or what was read off a label. Each organisation's directory is held as an in-memory
//! index ([`mailroom_domain::matcher`]), cached per tenant and rebuilt when the directory's
//! version (bumped by the store in every directory write's transaction) moves, so every server
//! node answers from the current directory. See docs/MATCHING.md.

use crate::{App, AppError, AppResult, Principal};
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::ids::TenantId;
use mailroom_domain::matcher::{DepartmentRecord, EntryKind, IndexBuilder, Match, PersonRecord, RecipientIndex};
use mailroom_domain::{DomainError, text};
use mailroom_store::{Department, DirectoryVersion, Person};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use utoipa::ToSchema;

/// Longest query accepted, in characters.
pub const MAX_QUERY: usize = 100;
/// Most results one query returns.
pub const MAX_LIMIT: usize = 50;
/// People read from the store per page while building an index.
const PAGE: i64 = 5_000;

/// One match, best first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recipient {
    /// `person`, `department` or `team`.
    #[schema(value_type = String, example = "person")]
    pub kind: EntryKind,
    pub id: uuid::Uuid,
    /// The name in its own script, e.g. `张伟杰`.
    pub name: String,
    /// A person's Latin or pinyin name; a department's English name.
    pub name_latin: Option<String>,
    /// A person's department; the department a team belongs to.
    pub department_id: Option<uuid::Uuid>,
    pub department_name: Option<String>,
    /// False for people who left: deliver as `forwarding` says.
    pub active: bool,
    /// Where mail for someone who left goes.
    pub forwarding: Option<String>,
    /// Higher is better: exact matches score 900 and more, prefix matches 400–700, typo matches
    /// below 400.
    pub score: u32,
    /// Which key matched and how, e.g. `pinyin:exact`, `initials:exact`, `email:prefix`,
    /// `latin:fuzzy`.
    pub matched: String,
}

/// People changed since the base index was built that are indexed on the side before the
/// whole index is rebuilt.
const DELTA_MAX: i64 = 20_000;

/// An organisation's index at one directory version: a base index, and the people changed since
/// it was built in a small index of their own, which overrides the base's entries for them.
struct Built {
    version: DirectoryVersion,
    base: Arc<RecipientIndex>,
    base_version: i64,
    delta: Option<Delta>,
}

struct Delta {
    index: RecipientIndex,
    people: HashSet<uuid::Uuid>,
}

impl Built {
    fn search(&self, q: &str, limit: usize) -> Vec<Match<'_>> {
        let Some(delta) = &self.delta else { return self.base.search(q, limit) };
        let mut out = self.base.search_where(q, limit, |id| !delta.people.contains(id));
        // The side index also holds the departments, for the people's department names.
        out.extend(delta.index.search_where(q, limit, |id| delta.people.contains(id)));
        out.sort_by_key(|m| std::cmp::Reverse(m.score));
        out.truncate(limit);
        out
    }
}

#[derive(Default)]
struct Slot {
    current: RwLock<Option<Arc<Built>>>,
    /// Held while this tenant's index is rebuilt: one rebuild at a time per tenant, and other
    /// tenants are never waited for.
    rebuild: tokio::sync::Mutex<()>,
}

/// The per-tenant recipient indexes of this process.
#[derive(Default)]
pub struct RecipientCache {
    slots: Mutex<HashMap<TenantId, Arc<Slot>>>,
}

impl RecipientCache {
    fn slot(&self, t: TenantId) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(t).or_default().clone()
    }
}

impl Slot {
    fn current(&self) -> Option<Arc<Built>> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn current_at_least(&self, version: DirectoryVersion) -> Option<Arc<Built>> {
        self.current().filter(|b| b.version.version >= version.version)
    }
}

impl App {
    /// Finds recipients (people, departments, teams) for `q`, best first. Needs the same role as
    /// searching the directory (`GET /api/v1/people?q=`).
    pub async fn find_recipients(&self, p: &Principal, q: &str, limit: Option<i64>) -> AppResult<Vec<Recipient>> {
        require(p.role, Permission::ReadDirectory)?;
        let q = text::required("q", q, MAX_QUERY)?;
        if q.chars().all(|c| !c.is_alphanumeric()) {
            return Err(DomainError::invalid("q", "q must contain a letter, character or digit").into());
        }
        let limit = match limit {
            None => 10,
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
            Some(_) => return Err(DomainError::invalid("limit", format!("limit must be 1-{MAX_LIMIT}")).into()),
        };
        let built = self.recipient_index(p.tenant_id).await?;
        Ok(built
            .search(&q, limit)
            .into_iter()
            .map(|m| Recipient {
                kind: m.kind,
                id: m.id,
                name: m.name.to_string(),
                name_latin: m.name_latin.map(str::to_string),
                department_id: m.department_id,
                department_name: m.department_name.map(str::to_string),
                active: m.active,
                forwarding: m.forwarding.map(str::to_string),
                score: m.score,
                matched: m.matched.to_string(),
            })
            .collect())
    }

    /// The tenant's current index: the cached one while the directory version has not moved,
    /// else a fresh build (one per tenant at a time; callers of the tenant wait for it).
    async fn recipient_index(&self, t: TenantId) -> AppResult<Arc<Built>> {
        let version = self.store.directory_version(t).await?;
        let slot = self.recipients.slot(t);
        if let Some(b) = slot.current_at_least(version) {
            return Ok(b);
        }
        let _building = slot.rebuild.lock().await;
        if let Some(b) = slot.current_at_least(version) {
            return Ok(b);
        }
        // Read the version before the rows: the index is then at least as new as its number.
        let version = self.store.directory_version(t).await?;
        let started = std::time::Instant::now();
        // Only people changed since the base was built: index them on the side.
        if let Some(cur) = slot.current()
            && cur.version.departments == version.departments
        {
            let changed = self.store.people_changed_since(t, cur.base_version, DELTA_MAX + 1).await?;
            if changed.len() as i64 <= DELTA_MAX {
                let departments = self.store.list_departments(t).await?;
                let people: HashSet<uuid::Uuid> = changed.iter().map(|p| p.id.0).collect();
                let index = tokio::task::spawn_blocking(move || {
                    let mut b = IndexBuilder::new();
                    add_departments(&mut b, &departments);
                    add_people(&mut b, &changed);
                    b.build()
                })
                .await
                .map_err(|e| AppError::Internal(format!("recipient index build failed: {e}")))?;
                tracing::debug!(tenant = %t, version = version.version, changed = people.len(),
                    ms = started.elapsed().as_millis() as u64, "recipient index caught up");
                let built = Arc::new(Built {
                    version,
                    base: cur.base.clone(),
                    base_version: cur.base_version,
                    delta: Some(Delta { index, people }),
                });
                *slot.current.write().unwrap_or_else(|e| e.into_inner()) = Some(built.clone());
                return Ok(built);
            }
        }
        let index = self.build_recipient_index(t).await?;
        tracing::info!(
            tenant = %t, version = version.version, people = index.people(), departments = index.departments(),
            bytes = index.heap_bytes(), ms = started.elapsed().as_millis() as u64,
            "recipient index built"
        );
        let built = Arc::new(Built { version, base: Arc::new(index), base_version: version.version, delta: None });
        *slot.current.write().unwrap_or_else(|e| e.into_inner()) = Some(built.clone());
        Ok(built)
    }

    async fn build_recipient_index(&self, t: TenantId) -> AppResult<RecipientIndex> {
        let departments = self.store.list_departments(t).await?;
        let mut builder = IndexBuilder::new();
        add_departments(&mut builder, &departments);
        let mut after = None;
        loop {
            let page = self.store.search_people(t, "", after, PAGE).await?;
            // Indexing is CPU work: keep it off the async workers.
            let (b, last, full) = tokio::task::spawn_blocking(move || {
                let mut builder = builder;
                add_people(&mut builder, &page);
                (builder, page.last().map(|p| p.id), page.len() as i64 == PAGE)
            })
            .await
            .map_err(|e| AppError::Internal(format!("recipient index build failed: {e}")))?;
            builder = b;
            if !full || last.is_none() {
                break;
            }
            after = last;
        }
        tokio::task::spawn_blocking(move || builder.build())
            .await
            .map_err(|e| AppError::Internal(format!("recipient index build failed: {e}")))
    }
}

fn add_departments(b: &mut IndexBuilder, departments: &[Department]) {
    for d in departments {
        b.add_department(&DepartmentRecord {
            id: d.id.0,
            kind: if d.kind == "team" { EntryKind::Team } else { EntryKind::Department },
            parent_id: d.parent_id.map(|p| p.0),
            code: &d.code,
            name: &d.name,
            name_en: d.name_en.as_deref(),
        });
    }
}

fn add_people(b: &mut IndexBuilder, people: &[Person]) {
    for p in people {
        b.add_person(&PersonRecord {
            id: p.id.0,
            name: &p.name,
            name_latin: p.name_latin.as_deref(),
            aliases: &p.aliases,
            employee_no: p.employee_no.as_deref(),
            email: p.email.as_deref(),
            department_id: p.department_id.map(|d| d.0),
            active: p.active,
            forwarding: p.forwarding.as_deref(),
        });
    }
}
