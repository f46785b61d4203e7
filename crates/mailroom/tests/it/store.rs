//! The store contract: every test runs on SQLite and on PostgreSQL.

use crate::both_backends;
use crate::support::{Backend, Fixture, TestDb, ctx};
use mailroom_app::directory::PersonInput;
use mailroom_app::items::{
    HandoverInput, ListQuery, RecipientInput, RegisterItemInput, SignatureInput, TransitionInput,
};
use mailroom_app::store::{DirectoryImport, ItemFilter, StoreError};
use mailroom_domain::ErrorCode;
use mailroom_domain::custody::{Actor, EventDraft};
use mailroom_domain::item::Status;

async fn setup(backend: Backend) -> Option<(TestDb, Fixture)> {
    let db = TestDb::new(backend).await?;
    let app = crate::support::open_app(&db.url).await;
    let fx = Fixture::new(app, "acme").await;
    Some((db, fx))
}

fn parcel(fx: &Fixture, tracking: &str) -> RegisterItemInput {
    RegisterItemInput {
        tracking_number: Some(tracking.into()),
        recipient: RecipientInput { person_id: Some(fx.person.id), department_id: None, text: None },
        ..Default::default()
    }
}

fn step(action: &str) -> TransitionInput {
    TransitionInput { action: action.into(), ..Default::default() }
}

async fn directory_roundtrip(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let s = &fx.app.store;
    assert_eq!(s.tenant_by_slug("acme").await.unwrap().unwrap().id, fx.tenant.id);
    assert_eq!(s.list_sites(fx.tenant.id).await.unwrap().len(), 1);
    assert_eq!(s.list_locations(fx.tenant.id).await.unwrap().len(), 2);
    // Search by native script, pinyin (any case), alias, employee number and e-mail.
    for q in ["张伟", "zhang wei", "ZHANG", "wj", "E1", "wj@example"] {
        let found = s.search_people(fx.tenant.id, q, None, 10).await.unwrap();
        assert!(found.iter().any(|p| p.id == fx.person.id), "query {q}");
    }
    // LIKE wildcards in user text are literal.
    assert!(s.search_people(fx.tenant.id, "%", None, 10).await.unwrap().is_empty());
    assert_eq!(s.person_by_employee_no(fx.tenant.id, "E2").await.unwrap().unwrap().id, fx.other_person.id);
    // Departments: in use → refused; unknown → not found.
    assert!(matches!(s.delete_department(fx.tenant.id, fx.dept.id).await, Err(StoreError::Duplicate(_))));
    assert!(matches!(
        s.delete_department(fx.tenant.id, mailroom_domain::ids::DepartmentId::new()).await,
        Err(StoreError::NotFound)
    ));
    // Another tenant sees nothing of this one.
    let other = fx.app.create_tenant("other", "Other").await.unwrap();
    assert!(s.search_people(other.id, "", None, 10).await.unwrap().is_empty());
    assert!(s.person(other.id, fx.person.id).await.unwrap().is_none());
    assert!(s.department(other.id, fx.dept.id).await.unwrap().is_none());
    // Duplicate slug is refused.
    assert!(fx.app.create_tenant("other", "Again").await.is_err());
    db.cleanup().await;
}

async fn register_is_idempotent(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let a = fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, "SF1000000001"), None).await.unwrap();
    assert!(a.created);
    assert_eq!(a.item.status, Status::Received);
    // The same tracking number (typed differently) returns the same item.
    let again = fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, "sf 1000-000001"), None).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.item.id, a.item.id);
    // Idempotency key: replay returns the first answer; reuse for another body is refused.
    let key = Some(("k1".to_string(), "h1".to_string()));
    let first = fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, "SF1000000002"), key.clone()).await.unwrap();
    let replay = fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, "SF1000000002"), key).await.unwrap();
    assert!(first.created && replay.created);
    assert_eq!(first.item.id, replay.item.id);
    let mismatch =
        fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, "SF1000000003"), Some(("k1".into(), "h2".into()))).await;
    assert_eq!(mismatch.err().map(|e| e.code()), Some(ErrorCode::IdempotencyMismatch));
    assert_eq!(fx.app.store.count_items(fx.tenant.id).await.unwrap(), 2);
    // Items without tracking numbers are all distinct.
    let mut no_tracking = parcel(&fx, "");
    no_tracking.tracking_number = None;
    let x = fx.app.register_item(&fx.staff, &ctx(), &no_tracking, None).await.unwrap();
    let y = fx.app.register_item(&fx.staff, &ctx(), &no_tracking, None).await.unwrap();
    assert_ne!(x.item.id, y.item.id);
    assert_ne!(x.item.reference, y.item.reference);
    db.cleanup().await;
}

async fn lifecycle_writes_custody_in_same_transaction(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let app = &fx.app;
    let item = app.register_item(&fx.staff, &ctx(), &parcel(&fx, "JD0000000001"), None).await.unwrap().item;
    let mut store = step("store");
    store.location_id = Some(fx.shelf.id);
    let stored = app.transition(&fx.staff, &ctx(), item.id, &store).await.unwrap();
    assert_eq!((stored.status, stored.location_id), (Status::Stored, Some(fx.shelf.id)));
    app.transition(&fx.staff, &ctx(), item.id, &step("notify")).await.unwrap();
    app.transition(&fx.staff, &ctx(), item.id, &step("ready_for_pickup")).await.unwrap();
    // Invalid transition: refused, nothing written.
    let head_before = app.store.custody_head(fx.tenant.id).await.unwrap();
    let bad = app.transition(&fx.staff, &ctx(), item.id, &step("notify")).await;
    assert_eq!(bad.err().map(|e| e.code()), Some(ErrorCode::InvalidTransition));
    assert_eq!(app.store.custody_head(fx.tenant.id).await.unwrap(), head_before);
    // Pickup with handover and signature.
    let mut pick = step("pick_up");
    pick.handover = Some(HandoverInput {
        taken_by: "张伟杰".into(),
        taken_by_person_id: Some(fx.person.id),
        place: Some("Counter".into()),
        id_type: Some("staff_card".into()),
        id_last_digits: Some("1234".into()),
    });
    pick.signature = Some(SignatureInput { data: crate::support::png_signature() });
    let done = app.transition(&fx.staff, &ctx(), item.id, &pick).await.unwrap();
    assert_eq!(done.status, Status::PickedUp);
    assert_eq!(done.location_id, None);
    let h = app.store.handover(fx.tenant.id, item.id).await.unwrap().unwrap();
    assert_eq!(h.handover.id_last_digits.as_deref(), Some("1234"));
    let sig = app.store.attachment(fx.tenant.id, h.signature_id).await.unwrap().unwrap();
    assert_eq!(sig.media_type, "image/png");
    let events = app.store.item_events(fx.tenant.id, item.id).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["registered", "store", "notify", "ready_for_pickup", "pick_up"]);
    assert!(events.iter().all(|e| e.actor_name == "clerk" && e.request_id == "test" && e.source == "127.0.0.1"));
    assert_eq!(events[1].location_id, Some(fx.shelf.id));
    // Stale version is refused.
    let mut stale = step("hold");
    stale.note = Some("x".into());
    stale.expected_version = Some(1);
    let item2 = app.register_item(&fx.staff, &ctx(), &parcel(&fx, "JD0000000002"), None).await.unwrap().item;
    app.transition(&fx.staff, &ctx(), item2.id, &store).await.unwrap();
    let r = app.transition(&fx.staff, &ctx(), item2.id, &stale).await;
    assert_eq!(r.err().map(|e| e.code()), Some(ErrorCode::Conflict));
    let verdicts = app.verify_custody().await.unwrap();
    assert!(verdicts.iter().all(|v| v.broken.is_none()), "{verdicts:?}");
    db.cleanup().await;
}

async fn confidential_items_need_secure_locations(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let mut input = parcel(&fx, "EA123456785CN");
    input.confidentiality = Some("strictly_confidential".into());
    input.seal_number = Some("bag 001".into());
    let item = fx.app.register_item(&fx.staff, &ctx(), &input, None).await.unwrap().item;
    let mut store = step("store");
    store.seal_number = Some("BAG001".into());
    store.location_id = Some(fx.shelf.id);
    let r = fx.app.transition(&fx.staff, &ctx(), item.id, &store).await;
    assert_eq!(r.err().map(|e| e.code()), Some(ErrorCode::Forbidden));
    store.location_id = Some(fx.secure.id);
    assert!(fx.app.transition(&fx.staff, &ctx(), item.id, &store).await.is_ok());
    db.cleanup().await;
}

async fn custody_log_is_append_only_in_the_database(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let before = db.scalar("SELECT COUNT(*) FROM custody_event").await;
    fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, "YT0000000001"), None).await.unwrap();
    let upd = db.exec("UPDATE custody_event SET actor_name = 'mallory'").await;
    assert!(upd.is_err(), "UPDATE must be refused");
    assert!(upd.unwrap_err().contains("append-only"));
    let del = db.exec("DELETE FROM custody_event").await;
    assert!(del.is_err(), "DELETE must be refused");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM custody_event").await, before + 1);
    db.cleanup().await;
}

/// Tampering needs the triggers out of the way first; `verify` must still catch every edit.
async fn tampering_is_detected(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    for i in 0..4 {
        fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, &format!("ZT00000000{i}")), None).await.unwrap();
    }
    let (disable, enable) = match b {
        Backend::Sqlite => (
            "DROP TRIGGER custody_event_no_update; DROP TRIGGER custody_event_no_delete;".to_string(),
            "CREATE TRIGGER custody_event_no_update BEFORE UPDATE ON custody_event BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END; \
             CREATE TRIGGER custody_event_no_delete BEFORE DELETE ON custody_event BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END;".to_string(),
        ),
        Backend::Postgres => (
            "ALTER TABLE custody_event DISABLE TRIGGER USER".to_string(),
            "ALTER TABLE custody_event ENABLE TRIGGER USER".to_string(),
        ),
    };
    let t = fx.tenant.id.0.simple().to_string();
    let tenant_match = match b {
        Backend::Sqlite => format!("hex(tenant_id) = upper('{t}')"),
        Backend::Postgres => format!("tenant_id = '{t}'"),
    };
    let edits = [
        format!("UPDATE custody_event SET actor_name = 'mallory' WHERE seq = 2 AND {tenant_match}"),
        format!("UPDATE custody_event SET details = '{{}}' WHERE seq = 3 AND {tenant_match}"),
        format!("DELETE FROM custody_event WHERE seq = 2 AND {tenant_match}"),
        format!("DELETE FROM custody_event WHERE seq = 4 AND {tenant_match}"),
        // Reordering: swap the sequence numbers of two events.
        format!(
            "UPDATE custody_event SET seq = CASE seq WHEN 2 THEN 3 ELSE 2 END WHERE seq IN (2, 3) AND {tenant_match}"
        ),
    ];
    for edit in &edits {
        // Work on a copy of the log each time: snapshot, tamper, verify, restore.
        db.exec(&disable).await.unwrap();
        db.exec("CREATE TABLE custody_backup AS SELECT * FROM custody_event").await.unwrap();
        {
            // UNIQUE (tenant_id, seq) is checked per row; move through negative numbers.
            if edit.contains("CASE seq") {
                db.exec(&format!("UPDATE custody_event SET seq = -seq WHERE seq IN (2, 3) AND {tenant_match}"))
                    .await
                    .unwrap();
                db.exec(&format!("UPDATE custody_event SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq IN (-2, -3) AND {tenant_match}"))
                    .await
                    .unwrap();
            } else {
                db.exec(edit).await.unwrap();
            }
        }
        let verdicts = fx.app.verify_custody().await.unwrap();
        let acme = verdicts.iter().find(|v| v.tenant == "acme").unwrap();
        assert!(acme.broken.is_some(), "not detected: {edit}");
        db.exec("DELETE FROM custody_event").await.unwrap();
        db.exec("INSERT INTO custody_event SELECT * FROM custody_backup").await.unwrap();
        db.exec("DROP TABLE custody_backup").await.unwrap();
        db.exec(&enable).await.unwrap();
        let verdicts = fx.app.verify_custody().await.unwrap();
        assert!(verdicts.iter().all(|v| v.broken.is_none()), "restore failed after {edit}");
    }
    // An inserted forged event (a copy with a new id at the end) is caught by the head.
    let last = fx.app.store.custody_head(fx.tenant.id).await.unwrap().0;
    db.exec(&disable).await.unwrap();
    let forged = match b {
        Backend::Sqlite => format!(
            "INSERT INTO custody_event SELECT randomblob(16), tenant_id, {}, item_id, kind, actor_id, actor_name, source, request_id, \
             location_id, at, details, hash, hash FROM custody_event WHERE seq = {last} AND {tenant_match}",
            last + 1
        ),
        Backend::Postgres => format!(
            "INSERT INTO custody_event SELECT gen_random_uuid(), tenant_id, {}, item_id, kind, actor_id, actor_name, source, request_id, \
             location_id, at, details, hash, hash FROM custody_event WHERE seq = {last} AND {tenant_match}",
            last + 1
        ),
    };
    db.exec(&forged).await.unwrap();
    let verdicts = fx.app.verify_custody().await.unwrap();
    assert!(verdicts.iter().find(|v| v.tenant == "acme").unwrap().broken.is_some());
    db.cleanup().await;
}

async fn listing_filters_and_pages(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    for i in 0..7 {
        let mut input = parcel(&fx, &format!("DHL000000{i:03}"));
        if i % 2 == 1 {
            input.recipient = RecipientInput { person_id: Some(fx.other_person.id), department_id: None, text: None };
        }
        if i == 6 {
            input.recipient = RecipientInput { person_id: None, department_id: Some(fx.dept.id), text: None };
            input.notes = Some("季度对账单 quarterly statement".into());
            // The default rules make a bank statement confidential: it comes in a sealed bag.
            input.seal_number = Some("BAG-6".into());
        }
        fx.app.register_item(&fx.staff, &ctx(), &input, None).await.unwrap();
    }
    // Cursor pagination, newest first, no overlaps.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = fx
            .app
            .list_items(&fx.staff, &ListQuery { limit: Some(3), cursor: cursor.clone(), ..Default::default() })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|i| i.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);
    // Search over notes (any script) and tracking.
    let q = |s: &str| ListQuery { q: Some(s.into()), ..Default::default() };
    assert_eq!(fx.app.list_items(&fx.staff, &q("对账单")).await.unwrap().items.len(), 1);
    assert_eq!(fx.app.list_items(&fx.staff, &q("dhl000000")).await.unwrap().items.len(), 7);
    // Employee: own (3 for person, indices 0,2,4) + department (index 6).
    let mine = fx.app.list_items(&fx.employee, &ListQuery::default()).await.unwrap();
    assert_eq!(mine.items.len(), 4);
    // Lookup by reference code and by tracking number.
    let first = &mine.items[0];
    let by_ref = ListQuery { tracking: Some(first.reference.to_lowercase()), ..Default::default() };
    assert_eq!(fx.app.list_items(&fx.staff, &by_ref).await.unwrap().items[0].id, first.id);
    let by_tn = ListQuery { tracking: first.tracking_number.clone(), ..Default::default() };
    assert_eq!(fx.app.list_items(&fx.staff, &by_tn).await.unwrap().items[0].id, first.id);
    // Status filter.
    let f = ItemFilter { status: Some(Status::Stored), limit: 10, ..Default::default() };
    assert!(fx.app.store.list_items(fx.tenant.id, &f).await.unwrap().is_empty());
    db.cleanup().await;
}

async fn directory_import_is_all_or_nothing(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let before = fx.app.store.count_people(fx.tenant.id).await.unwrap();
    // The second person collides with an existing employee number at the database level.
    let p1 = mailroom_app::store::Person {
        id: mailroom_domain::ids::PersonId::new(),
        tenant_id: fx.tenant.id,
        name: "新人".into(),
        name_latin: None,
        aliases: vec![],
        employee_no: Some("E9".into()),
        department_id: None,
        email: None,
        phone: None,
        active: true,
        forwarding: None,
    };
    let mut p2 = p1.clone();
    p2.id = mailroom_domain::ids::PersonId::new();
    p2.employee_no = Some("E1".into());
    let r = fx
        .app
        .store
        .import_directory(fx.tenant.id, DirectoryImport { departments: vec![], people: vec![p1, p2] })
        .await;
    assert!(r.is_err());
    assert_eq!(fx.app.store.count_people(fx.tenant.id).await.unwrap(), before);
    db.cleanup().await;
}

/// Every directory write counts in the tenant's directory version, in its own transaction: the
/// recipient index of every server node relies on it.
async fn directory_version_counts_every_change(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let s = &fx.app.store;
    let t = fx.tenant.id;
    let v0 = s.directory_version(t).await.unwrap().version;
    assert!(v0 >= 3, "the fixture's department and two people count: {v0}");
    let d0 = s.directory_version(t).await.unwrap().departments;
    assert!(d0 >= 1);
    assert!(s.people_changed_since(t, v0, 100).await.unwrap().is_empty());
    let mut p = s.person(t, fx.other_person.id).await.unwrap().unwrap();
    p.active = false;
    s.upsert_person(&p).await.unwrap();
    assert_eq!(s.directory_version(t).await.unwrap().version, v0 + 1);
    assert_eq!(s.directory_version(t).await.unwrap().departments, d0, "people only");
    let changed = s.people_changed_since(t, v0, 100).await.unwrap();
    assert_eq!(changed.iter().map(|p| p.id).collect::<Vec<_>>(), vec![fx.other_person.id]);
    assert!(!changed[0].active);
    let mut d = fx.dept.clone();
    d.name_en = Some("Finance and Accounting".into());
    s.upsert_department(&d).await.unwrap();
    assert_eq!(s.directory_version(t).await.unwrap().version, v0 + 2);
    assert_eq!(s.directory_version(t).await.unwrap().departments, d0 + 1);
    // An import counts once, however many rows it writes.
    let person = |no: &str| mailroom_app::store::Person {
        id: mailroom_domain::ids::PersonId::new(),
        tenant_id: t,
        name: "新人".into(),
        name_latin: None,
        aliases: vec![],
        employee_no: Some(no.into()),
        department_id: None,
        email: None,
        phone: None,
        active: true,
        forwarding: None,
    };
    let import = DirectoryImport { departments: vec![d.clone()], people: vec![person("E10"), person("E11")] };
    s.import_directory(t, import).await.unwrap();
    assert_eq!(s.directory_version(t).await.unwrap().version, v0 + 3);
    assert_eq!(s.directory_version(t).await.unwrap().departments, d0 + 2);
    assert_eq!(s.people_changed_since(t, v0 + 2, 100).await.unwrap().len(), 2);
    assert_eq!(s.people_changed_since(t, v0, 100).await.unwrap().len(), 3);
    assert_eq!(s.people_changed_since(t, v0, 2).await.unwrap().len(), 2, "limit");
    // A failed import changes nothing, the version included.
    let failed = DirectoryImport { departments: vec![], people: vec![person("E12"), person("E1")] };
    assert!(s.import_directory(t, failed).await.is_err());
    assert_eq!(s.directory_version(t).await.unwrap().version, v0 + 3);
    // Changes through the use cases (with their audit event) count too.
    let input = PersonInput {
        name: "张伟杰".into(),
        name_latin: Some("Zhang Weijie".into()),
        aliases: vec![],
        employee_no: Some("E1".into()),
        department_id: Some(fx.dept.id),
        email: None,
        phone: None,
        active: Some(false),
        forwarding: Some("转交财务部".into()),
    };
    fx.app.update_person(&fx.admin, &ctx(), fx.person.id, &input).await.unwrap();
    assert_eq!(s.directory_version(t).await.unwrap().version, v0 + 4);
    let changed = s.people_changed_since(t, v0 + 3, 100).await.unwrap();
    assert_eq!(changed.iter().map(|p| p.id).collect::<Vec<_>>(), vec![fx.person.id]);
    // Another organisation's version is its own.
    let other = fx.app.create_tenant("other", "Other").await.unwrap();
    assert_eq!(s.directory_version(other.id).await.unwrap().version, 0);
    db.cleanup().await;
}

/// Concurrent writes share commits on SQLite; a failing write does not take its batch down.
async fn concurrent_writes_are_isolated(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let head_before = fx.app.store.custody_head(fx.tenant.id).await.unwrap().0;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let app = fx.app.clone();
        let p = fx.staff.clone();
        let mut input = parcel(&fx, &format!("STO{i:010}"));
        if i % 10 == 0 {
            // Unknown recipient: refused, must not disturb the others.
            input.recipient = RecipientInput {
                person_id: Some(mailroom_domain::ids::PersonId::new()),
                department_id: None,
                text: None,
            };
        }
        tasks.push(tokio::spawn(async move { app.register_item(&p, &ctx(), &input, None).await }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 180);
    assert_eq!(fx.app.store.count_items(fx.tenant.id).await.unwrap(), 180);
    // Same tracking number from many clients at once: exactly one item.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let app = fx.app.clone();
        let p = fx.staff.clone();
        let input = parcel(&fx, "SAME000000001");
        tasks.push(tokio::spawn(async move { app.register_item(&p, &ctx(), &input, None).await }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().created {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    // A store-level failure inside a batch: an event for an unknown tenant fails alone.
    let sys = Actor::system("t", "r");
    let (c, good_input) = (ctx(), parcel(&fx, "STO9999999999"));
    let bogus = fx.app.store.append_event(
        mailroom_domain::ids::TenantId::new(),
        &sys,
        EventDraft { item_id: None, kind: "x".into(), location_id: None, details: serde_json::json!({}) },
    );
    let good = fx.app.register_item(&fx.staff, &c, &good_input, None);
    let (bogus, good) = tokio::join!(bogus, good);
    assert!(bogus.is_err());
    assert!(good.is_ok());
    assert_eq!(fx.app.store.custody_head(fx.tenant.id).await.unwrap().0, head_before + 182);
    let verdicts = fx.app.verify_custody().await.unwrap();
    assert!(verdicts.iter().all(|v| v.broken.is_none()));
    db.cleanup().await;
}

async fn people_update_and_left(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let input = PersonInput {
        name: "张伟杰".into(),
        name_latin: Some("Zhang Weijie".into()),
        aliases: vec![],
        employee_no: Some("E1".into()),
        department_id: Some(fx.dept.id),
        email: None,
        phone: None,
        active: Some(false),
        forwarding: Some("转交财务部 Forward to Finance".into()),
    };
    let p = fx.app.update_person(&fx.admin, &ctx(), fx.person.id, &input).await.unwrap();
    assert!(!p.active);
    let again = fx.app.store.person(fx.tenant.id, fx.person.id).await.unwrap().unwrap();
    assert_eq!(again.forwarding.as_deref(), Some("转交财务部 Forward to Finance"));
    assert!(again.aliases.is_empty());
    // Taking another person's employee number is refused.
    let mut clash = input.clone();
    clash.employee_no = Some("E2".into());
    assert_eq!(
        fx.app.update_person(&fx.admin, &ctx(), fx.person.id, &clash).await.err().map(|e| e.code()),
        Some(ErrorCode::Conflict)
    );
    // Staff may not edit the directory.
    assert_eq!(
        fx.app.update_person(&fx.staff, &ctx(), fx.person.id, &input).await.err().map(|e| e.code()),
        Some(ErrorCode::Forbidden)
    );
    db.cleanup().await;
}

/// An intake like `template` (a new id, reference and tracking number) with its `registered`
/// event, as the store receives it.
fn intake_like(
    template: &mailroom_app::store::Item,
    reference: String,
    tracking: &str,
    key: Option<(&str, &str)>,
) -> (mailroom_app::store::ItemInsert, EventDraft) {
    let mut item = template.clone();
    item.id = mailroom_domain::ids::ItemId::new();
    item.reference = reference;
    item.tracking_number = Some(tracking.to_string());
    let draft = EventDraft {
        item_id: Some(item.id),
        kind: "registered".into(),
        location_id: None,
        details: serde_json::json!({ "reference": item.reference }),
    };
    let idempotency = key.map(|(k, h)| (k.to_string(), h.to_string()));
    (mailroom_app::store::ItemInsert { item, idempotency, exception: None }, draft)
}

/// Plain intakes that arrive together share transactions (group commit, on both backends), and
/// each caller still gets its own answer: an intake that breaks a constraint fails alone, a
/// tracking number sent several times at once makes one item, two organisations' chains stay
/// whole, and nothing is half written.
async fn concurrent_intakes_each_get_their_own_answer(b: Backend) {
    use mailroom_domain::ids::PersonId;
    let Some((db, fx)) = setup(b).await else { return };
    let other = Fixture::new(fx.app.clone(), "beta").await;
    let first = fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, "SF3000000000"), None).await.unwrap().item;
    let second =
        other.app.register_item(&other.staff, &ctx(), &parcel(&other, "SF3000000000"), None).await.unwrap().item;
    let mut tasks = Vec::new();
    for n in 0..80u32 {
        // Even: the first organisation; odd: the second.
        let tracking = match n {
            40..46 => "SF3999999999".to_string(),
            // Registered before, above.
            50..54 => "SF3000000000".to_string(),
            _ => format!("SF31{n:08}"),
        };
        let template = if n % 2 == 0 { &first } else { &second };
        let (mut ins, draft) = intake_like(template, format!("T{n:07}"), &tracking, None);
        if n % 20 == 7 {
            // Unknown recipient: the database refuses the row.
            ins.item.recipient_person_id = Some(PersonId::new());
        }
        let store = fx.app.store.clone();
        tasks.push(tokio::spawn(async move {
            (n, store.register_item(ins, &Actor::system("scanner", format!("req-{n}")), draft).await)
        }));
    }
    let mut dup_ids = [Vec::new(), Vec::new()];
    let mut dup_created = [0, 0];
    for t in tasks {
        let (n, r) = t.await.unwrap();
        if n % 20 == 7 {
            assert!(r.is_err(), "intake {n} has an unknown recipient");
            continue;
        }
        let reg = r.unwrap_or_else(|e| panic!("intake {n}: {e}"));
        if (50..54).contains(&n) {
            assert!(!reg.created, "intake {n}");
            assert_eq!(reg.item.id, if n % 2 == 0 { first.id } else { second.id });
        } else if (40..46).contains(&n) {
            let k = (n % 2) as usize;
            dup_ids[k].push(reg.item.id);
            dup_created[k] += usize::from(reg.created);
        } else {
            assert!(reg.created, "intake {n}");
            assert_eq!(reg.item.reference, format!("T{n:07}"));
        }
    }
    for k in 0..2 {
        assert_eq!(dup_created[k], 1, "one item per tracking number");
        assert!(dup_ids[k].iter().all(|id| *id == dup_ids[k][0]));
    }
    // 1 + 40 even intakes - 2 repeats - 2 registered before; 1 + 40 odd - 4 refused - 2 repeats
    // - 2 registered before.
    assert_eq!(fx.app.store.count_items(fx.tenant.id).await.unwrap(), 37);
    assert_eq!(fx.app.store.count_items(other.tenant.id).await.unwrap(), 33);
    for v in fx.app.verify_custody().await.unwrap() {
        assert!(v.ok(), "chain of {}: {:?}", v.tenant, v.broken);
    }
    // Every item has its event and every event its item.
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM item i WHERE NOT EXISTS (SELECT 1 FROM custody_event e WHERE e.item_id = i.id)"
        )
        .await,
        0
    );
    if b == Backend::Postgres {
        // Rows written by one transaction share its id: fewer transactions than events.
        let events = db.scalar("SELECT COUNT(*) FROM custody_event WHERE actor_name = 'scanner'").await;
        let transactions =
            db.scalar("SELECT COUNT(DISTINCT xmin::text) FROM custody_event WHERE actor_name = 'scanner'").await;
        assert_eq!(events, 68);
        assert!(transactions < events, "{transactions} transactions for {events} intakes");
    }
    db.cleanup().await;
}

/// Intakes with idempotency keys that arrive together (group commit on both backends) answer as
/// one at a time would: a new key creates and records; a key used before answers as then, or
/// refuses another request; one key sent several times at once makes one item; a key whose
/// tracking number was registered before records that item.
async fn concurrent_keyed_intakes_answer_as_one_at_a_time(b: Backend) {
    let Some((db, fx)) = setup(b).await else { return };
    let s = fx.app.store.clone();
    let template = fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, "SF4000000000"), None).await.unwrap().item;
    let intake = |n: u32, tracking: &str, key: &str, hash: &str| {
        intake_like(&template, format!("K{n:07}"), tracking, Some((key, hash)))
    };
    let actor = Actor::system("scanner", "req");
    let (ins, draft) = intake(0, "SF4100000000", "before", "h1");
    let before = s.register_item(ins, &actor, draft).await.unwrap();
    assert!(before.created);
    let mut tasks = Vec::new();
    for n in 1..40u32 {
        let (ins, draft) = match n {
            // The same request three times at once.
            30..33 => intake(n, "SF4200000000", "same", "h"),
            // A key used before: the same request, and another one.
            33 => intake(n, "SF4100000000", "before", "h1"),
            34 => intake(n, "SF4300000000", "before", "h2"),
            // New keys, tracking number registered before.
            35..38 => intake(n, "SF4000000000", &format!("old-{n}"), "h"),
            _ => intake(n, &format!("SF44{n:08}"), &format!("k{n}"), "h"),
        };
        let (s, actor) = (s.clone(), actor.clone());
        tasks.push(tokio::spawn(async move { (n, s.register_item(ins, &actor, draft).await) }));
    }
    let mut same = Vec::new();
    for t in tasks {
        let (n, r) = t.await.unwrap();
        match n {
            30..33 => {
                let r = r.unwrap();
                assert!(r.created, "a repeat answers as the first did");
                same.push(r.item.id);
            }
            33 => {
                let r = r.unwrap();
                assert_eq!((r.item.id, r.created), (before.item.id, true));
            }
            34 => assert_eq!(r.err().map(|e| e.to_string().contains("different request")), Some(true)),
            35..38 => {
                let r = r.unwrap();
                assert_eq!((r.item.id, r.created), (template.id, false), "intake {n}");
            }
            _ => {
                let r = r.unwrap();
                assert!(r.created, "intake {n}");
                assert_eq!(r.item.reference, format!("K{n:07}"));
            }
        }
    }
    assert!(same.iter().all(|id| *id == same[0]));
    // The records answer later repeats as the first time.
    let (ins, draft) = intake(99, "SF4000000000", "old-35", "h");
    let again = s.register_item(ins, &actor, draft).await.unwrap();
    assert_eq!((again.item.id, again.created), (template.id, false));
    let (ins, draft) = intake(98, "SF4200000000", "same", "h");
    let again = s.register_item(ins, &actor, draft).await.unwrap();
    assert_eq!((again.item.id, again.created), (same[0], true));
    // Template, "before", 31 new keys (1–29, 38, 39), one for "same".
    assert_eq!(s.count_items(fx.tenant.id).await.unwrap(), 34);
    // "before", the 31, "same", "old-35" to "old-37".
    assert_eq!(db.scalar("SELECT COUNT(*) FROM idempotency_key").await, 1 + 31 + 1 + 3);
    if b == Backend::Postgres {
        // The keyed intakes shared transactions: fewer transactions than key records.
        let transactions = db.scalar("SELECT COUNT(DISTINCT xmin::text) FROM idempotency_key").await;
        assert!(transactions < 36, "{transactions} transactions for 36 key records");
    }
    for v in fx.app.verify_custody().await.unwrap() {
        assert!(v.ok(), "chain of {}: {:?}", v.tenant, v.broken);
    }
    db.cleanup().await;
}

both_backends!(
    concurrent_keyed_intakes_answer_as_one_at_a_time,
    concurrent_intakes_each_get_their_own_answer,
    directory_roundtrip,
    register_is_idempotent,
    lifecycle_writes_custody_in_same_transaction,
    confidential_items_need_secure_locations,
    custody_log_is_append_only_in_the_database,
    tampering_is_detected,
    listing_filters_and_pages,
    directory_import_is_all_or_nothing,
    concurrent_writes_are_isolated,
    people_update_and_left,
    directory_version_counts_every_change,
);

/// PostgreSQL's pool lends a connection in steady use without a check first, so connections cut
/// under it (the server restarted, or an administrator ended the sessions) must cost no write,
/// and no read once the loss is known or the connection has been idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pool_recovers_from_cut_connections() {
    let Some((db, fx)) = setup(Backend::Postgres).await else { return };
    let s = &fx.app.store;
    fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, "SF2000000001"), None).await.unwrap();
    let cut = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
               WHERE datname = current_database() AND pid <> pg_backend_pid()";
    db.exec(cut).await.unwrap();
    // A write right away: its BEGIN meets a cut connection, and is tried again on a checked one.
    s.set_user_clearance(fx.tenant.id, fx.staff.user_id, 2).await.unwrap();
    // The loss is known now: every connection lent is checked, so reads and writes succeed.
    for n in 2..6 {
        fx.app.register_item(&fx.staff, &ctx(), &parcel(&fx, &format!("SF200000000{n}")), None).await.unwrap();
    }
    // A pool that has lost nothing yet: cut, then idle. A connection idle for a second is
    // checked before it is lent.
    let app = crate::support::open_app(&db.url).await;
    assert_eq!(app.store.count_items(fx.tenant.id).await.unwrap(), 5);
    db.exec(cut).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    for _ in 0..4 {
        assert_eq!(app.store.count_items(fx.tenant.id).await.unwrap(), 5);
    }
    assert_eq!(app.store.user_clearance(fx.tenant.id, fx.staff.user_id).await.unwrap(), 2);
    // Cut while in use, read at once: the connection is lent unchecked, the read meets the cut,
    // and is tried again on a checked connection, so the caller never sees the loss.
    let app = crate::support::open_app(&db.url).await;
    assert_eq!(app.store.count_items(fx.tenant.id).await.unwrap(), 5);
    db.exec(cut).await.unwrap();
    assert_eq!(app.store.count_items(fx.tenant.id).await.unwrap(), 5);
    assert!(app.store.tenant_by_slug(&fx.tenant.slug).await.unwrap().is_some());
    db.exec(cut).await.unwrap();
    let found = app.store.search_people(fx.tenant.id, &fx.person.name, None, 10).await.unwrap();
    assert!(found.iter().any(|p| p.id == fx.person.id));
    db.cleanup().await;
}

/// A TCP relay to PostgreSQL that can be taken down (every relayed connection cut, every new
/// one closed at once) and brought back, as when the server restarts or the network drops.
struct Relay {
    addr: String,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pipes: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let pipes = std::sync::Arc::new(std::sync::Mutex::new(Vec::<tokio::task::AbortHandle>::new()));
        let (d, p) = (down.clone(), pipes.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                p.lock().unwrap().push(pipe.abort_handle());
            }
        });
        Relay { addr, down, pipes }
    }

    fn take_down(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    fn bring_back(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// While PostgreSQL cannot be reached, requests answer 503 `store_unavailable` with
/// `Retry-After` (not a 500, and nothing is written); once it is back, the same server answers
/// again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_answers_503_until_it_is_back() {
    let Some((db, fx)) = setup(Backend::Postgres).await else { return };
    let token = fx.app.create_token(&fx.tenant.slug, "clerk").await.unwrap();
    // The server reaches the database through the relay.
    let (head, name) = db.url.rsplit_once('/').unwrap();
    let (user, target) = head.rsplit_once('@').unwrap();
    let relay = Relay::start(target.to_string()).await;
    let app = crate::support::open_app(&format!("{user}@{}/{name}", relay.addr)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mailroom_web::serve(mailroom_web::AppState::new(app.clone()), listener, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{base}{path}")).bearer_auth(&token).send();
    let intake = |tracking: &str| {
        http.post(format!("{base}/api/v1/items"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"tracking_number": tracking, "recipient": {"person_id": fx.person.id}}))
            .send()
    };
    assert_eq!(intake("SF3000000001").await.unwrap().status(), 201);
    assert_eq!(get("/api/v1/items?tracking=SF3000000001").await.unwrap().status(), 200);

    relay.take_down();
    for r in [get("/api/v1/items?tracking=SF3000000001").await.unwrap(), intake("SF3000000002").await.unwrap()] {
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "5");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["code"], "store_unavailable", "{p}");
    }
    assert_eq!(get("/readyz").await.unwrap().status(), 503, "a load balancer takes the node out");

    relay.bring_back();
    let mut back = None;
    for _ in 0..50 {
        let r = get("/api/v1/items?tracking=SF3000000001").await.unwrap();
        if r.status() == 200 {
            back = Some(r);
            break;
        }
        assert_eq!(r.status(), 503);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(back.is_some(), "the server answers again once the database is back");
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    assert_eq!(intake("SF3000000002").await.unwrap().status(), 201, "the refused intake wrote nothing");
    assert_eq!(fx.app.store.count_items(fx.tenant.id).await.unwrap(), 2);
    let _ = stop.send(());
    db.cleanup().await;
}
