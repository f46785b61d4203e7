//! Service levels and unclaimed items, on both backends: due-by times in working hours on site
//! calendars (weekends, holidays, 24/7 sites), the sweeper (missed deadlines, reminders,
//! escalation, disposal requests) doing each step once even when two sweeps race, supervisors'
//! decisions, the custody log holding every step, and who may do what.

use crate::both_backends;
use crate::support::{Backend, Client, TestServer, open_app};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use mailroom_app::App;
use mailroom_app::followup::sweep;
use mailroom_domain::auth::Role;
use mailroom_domain::custody::CustodyEvent;
use mailroom_domain::ids::{ItemId, TenantId};
use serde_json::{Value, json};

both_backends!(
    due_by_on_site_calendars,
    sweeps_mark_missed_deadlines_once,
    unclaimed_items_step_by_step,
    concurrent_sweeps
);

/// Beijing local time as UTC.
fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, 0).unwrap().and_utc() - Duration::hours(8)
}

/// Sets the app's clock to `at` (intake, the dashboard and decisions read it).
fn set_clock(app: &App, at: DateTime<Utc>) {
    app.clock.advance(at - app.clock.now());
}

fn due_of(item: &Value) -> DateTime<Utc> {
    item["due_by"].as_str().unwrap_or_else(|| panic!("no due_by: {item}")).parse().unwrap()
}

/// Asserts `got` is `want` give or take the few milliseconds a request takes.
fn about(got: DateTime<Utc>, want: DateTime<Utc>, what: &str) {
    assert!((got - want).num_seconds().abs() < 30, "{what}: due {got}, expected {want}");
}

async fn register(c: &Client, body: Value) -> Value {
    let r = c.post("/api/v1/items", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn events(app: &App, t: TenantId, id: &str) -> Vec<CustodyEvent> {
    let id: ItemId = id.parse().unwrap();
    app.store.item_events(t, id).await.unwrap()
}

fn kinds(evs: &[CustodyEvent], kind: &str) -> Vec<Value> {
    evs.iter().filter(|e| e.kind == kind).map(|e| serde_json::from_str(&e.details).unwrap()).collect()
}

async fn due_by_on_site_calendars(backend: Backend) {
    let Some(srv) = TestServer::start(backend).await else { return };
    let clerk = srv.client(&srv.token("clerk").await);
    let admin = srv.client(&srv.token("admin").await);
    let hq = srv.fx.shelf.site_id.to_string();
    let person = srv.fx.person.id.to_string();

    // The site has no calendar of its own: Monday to Friday 09:00-18:00, mainland China's holidays.
    let cal = admin.get(&format!("/api/v1/sites/{hq}/calendar")).await;
    assert_eq!((cal.status, &cal.body["default"], &cal.body["utc_offset_minutes"]), (200, &json!(true), &json!(480)));
    assert_eq!(cal.body["config"]["hours"]["mon"], "09:00-18:00");
    assert_eq!(cal.body["config"]["holidays"], "china_mainland");

    // Friday 27 November 2026, 16:30 in Shanghai: an urgent item is due 2 working hours later,
    // 1.5 h on Friday and 0.5 h on Monday: Monday 09:30.
    set_clock(&srv.app, bj(2026, 11, 27, 16, 30));
    let urgent =
        register(&clerk, json!({"recipient": {"person_id": person}, "site_id": hq, "priority": "urgent"})).await;
    about(due_of(&urgent), bj(2026, 11, 30, 9, 30), "urgent on Friday afternoon");
    // A patient report is due within 1 working hour: Friday 17:30.
    let report = register(
        &clerk,
        json!({"recipient": {"person_id": person}, "site_id": hq, "kind": "document", "notes": "病理报告",
               "seal_number": "PR-9"}),
    )
    .await;
    assert_eq!(report["category"], "patient_report");
    about(due_of(&report), bj(2026, 11, 27, 17, 30), "patient report");
    // An item without a due-within rule has no due-by.
    let plain = register(&clerk, json!({"recipient": {"person_id": person}, "site_id": hq})).await;
    assert_eq!(plain["due_by"], Value::Null);

    // The eve of 国庆节 2026: 1-7 October are holidays, back on Thursday 8 October.
    set_clock(&srv.app, bj(2026, 9, 30, 17, 0));
    let before_holiday =
        register(&clerk, json!({"recipient": {"person_id": person}, "site_id": hq, "priority": "urgent"})).await;
    about(due_of(&before_holiday), bj(2026, 10, 8, 10, 0), "urgent before National Day");

    // A hospital ward works around the clock: plain elapsed time, holidays included.
    let ward = admin.post("/api/v1/sites", &json!({"name": "Ward 3"})).await;
    assert_eq!(ward.status, 201, "{}", ward.text);
    let ward = ward.body["id"].as_str().unwrap().to_string();
    let put = admin.put(&format!("/api/v1/sites/{ward}/calendar"), &json!({"always_open": true})).await;
    assert_eq!((put.status, &put.body["default"]), (200, &json!(false)), "{}", put.text);
    let on_ward =
        register(&clerk, json!({"recipient": {"person_id": person}, "site_id": ward, "priority": "urgent"})).await;
    about(due_of(&on_ward), bj(2026, 9, 30, 19, 0), "urgent on a 24/7 ward");

    // The site's own hours and extra days: Saturday mornings worked, a company holiday on Monday.
    let custom = json!({"hours": {"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00",
        "thu": "09:00-18:00", "fri": "09:00-17:00", "sat": "09:00-12:00"}, "extra_holidays": ["2026-11-30"]});
    let put = admin.put(&format!("/api/v1/sites/{hq}/calendar"), &custom).await;
    assert_eq!(put.status, 200, "{}", put.text);
    set_clock(&srv.app, bj(2026, 11, 27, 16, 30));
    let custom_due =
        register(&clerk, json!({"recipient": {"person_id": person}, "site_id": hq, "priority": "urgent"})).await;
    // 0.5 h on Friday (closing at 17:00), 1.5 h on Saturday morning: Saturday 10:30.
    about(due_of(&custom_due), bj(2026, 11, 28, 10, 30), "urgent with Saturday hours");
    // Bad calendars are refused, naming the field; nothing changes.
    let bad = admin.put(&format!("/api/v1/sites/{hq}/calendar"), &json!({"hours": {"mon": "18:00-09:00"}})).await;
    bad.assert_problem(422, "validation_failed");
    let bad = admin.put(&format!("/api/v1/sites/{hq}/calendar"), &json!({"hours": {}})).await;
    bad.assert_problem(422, "validation_failed");
    let unknown =
        admin.put(&format!("/api/v1/sites/{hq}/calendar"), &json!({"hours": {"monday": "09:00-18:00"}})).await;
    unknown.assert_problem(422, "validation_failed");
    let still = admin.get(&format!("/api/v1/sites/{hq}/calendar")).await;
    assert_eq!(still.body["config"]["hours"]["sat"], "09:00-12:00");
    // The change is in the audit log.
    let audit = admin.get("/api/v1/audit?kind=service_levels").await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert!(audit.text.contains("service_levels.calendar"), "{}", audit.text);

    // Who may: staff neither reads nor sets calendars; supervisors read but do not set them.
    clerk.get(&format!("/api/v1/sites/{hq}/calendar")).await.assert_problem(403, "forbidden");
    let sup = srv.client(&srv.user_with_role("sup", Role::Supervisor, None).await);
    assert_eq!(sup.get(&format!("/api/v1/sites/{hq}/calendar")).await.status, 200);
    sup.put(&format!("/api/v1/sites/{hq}/calendar"), &custom).await.assert_problem(403, "forbidden");
    admin.get(&format!("/api/v1/sites/{}/calendar", uuid::Uuid::now_v7())).await.assert_problem(404, "not_found");
    srv.stop().await;
}

async fn sweeps_mark_missed_deadlines_once(backend: Backend) {
    let Some(srv) = TestServer::start(backend).await else { return };
    let (app, t) = (&srv.app, srv.fx.tenant.id);
    let clerk = srv.client(&srv.token("clerk").await);
    let admin = srv.client(&srv.token("admin").await);
    let hq = srv.fx.shelf.site_id.to_string();
    // The recipient's department has a key contact: escalations go to them.
    let dept = srv.fx.dept.id;
    let contact = srv.fx.other_person.id.to_string();
    let r = admin
        .put(
            &format!("/api/v1/departments/{dept}"),
            &json!({"code": "FIN", "name": "财务部", "key_contact_id": contact}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    set_clock(app, bj(2026, 11, 23, 10, 0));
    let urgent =
        register(&clerk, json!({"recipient": {"person_id": srv.fx.person.id}, "site_id": hq, "priority": "urgent"}))
            .await;
    let due = due_of(&urgent);
    about(due, bj(2026, 11, 23, 12, 0), "urgent on Monday morning");
    let id = urgent["id"].as_str().unwrap().to_string();
    // Not yet due: nothing happens.
    let r = sweep(app, due - Duration::minutes(1)).await.unwrap();
    assert_eq!(r.deadline_missed, 0, "{r:?}");
    // The dashboard shows it at risk (due within 2 working hours).
    set_clock(app, due - Duration::minutes(30));
    let sup = srv.client(&srv.user_with_role("sup", Role::Supervisor, None).await);
    let dash = sup.get("/api/v1/service-levels").await;
    assert_eq!(dash.status, 200, "{}", dash.text);
    assert!(dash.body["at_risk"].as_array().unwrap().iter().any(|e| e["item_id"] == id.as_str()), "{}", dash.text);
    // Past due: marked once, however often the sweeper runs.
    let after = due + Duration::minutes(5);
    let r = sweep(app, after).await.unwrap();
    assert_eq!(r.deadline_missed, 1, "{r:?}");
    for _ in 0..2 {
        assert_eq!(sweep(app, after + Duration::hours(1)).await.unwrap().deadline_missed, 0);
    }
    let evs = events(app, t, &id).await;
    let missed = kinds(&evs, "deadline_missed");
    assert_eq!(missed.len(), 1, "{evs:?}");
    assert_eq!(missed[0]["due_by"].as_str().map(|s| s.parse::<DateTime<Utc>>().unwrap()), Some(due));
    let escalated = kinds(&evs, "escalated");
    assert_eq!(escalated.len(), 1);
    assert_eq!(
        (&escalated[0]["reason"], &escalated[0]["to_person_id"], &escalated[0]["via"]),
        (&json!("deadline"), &json!(contact), &json!("department_key_contact"))
    );
    // The dashboard lists it as a breach.
    set_clock(app, after);
    let dash = sup.get("/api/v1/service-levels").await;
    let breach = dash.body["breaches"].as_array().unwrap().iter().find(|e| e["item_id"] == id.as_str()).cloned();
    let breach = breach.unwrap_or_else(|| panic!("not among the breaches: {}", dash.text));
    assert!(breach["followup"]["breached_at"].is_string(), "{breach}");
    assert!(breach["working_minutes_left"].as_i64().unwrap() < 0, "{breach}");
    // An item handed over in time is never marked.
    let handled =
        register(&clerk, json!({"recipient": {"person_id": srv.fx.person.id}, "site_id": hq, "priority": "urgent"}))
            .await;
    let hid = handled["id"].as_str().unwrap();
    for body in [
        json!({"action": "store", "location_id": srv.fx.shelf.id}),
        json!({"action": "ready_for_pickup"}),
        json!({"action": "pick_up", "handover": {"taken_by": "Zhang"}, "signature": {"data": crate::support::png_signature()}}),
    ] {
        let r = clerk.post(&format!("/api/v1/items/{hid}/transitions"), &body).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(sweep(app, due_of(&handled) + Duration::days(3)).await.unwrap().deadline_missed, 0);
    assert!(kinds(&events(app, t, hid).await, "deadline_missed").is_empty());
    // Staff do not see the dashboard; the console page is there for supervisors.
    clerk.get("/api/v1/service-levels").await.assert_problem(403, "forbidden");
    let page = srv.browser("acme", "sup").await.get("/ui/service-levels").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(urgent["reference"].as_str().unwrap()), "{}", page.text);
    srv.stop().await;
}

async fn unclaimed_items_step_by_step(backend: Backend) {
    let Some(srv) = TestServer::start(backend).await else { return };
    let (app, t) = (&srv.app, srv.fx.tenant.id);
    let clerk = srv.client(&srv.token("clerk").await);
    let admin = srv.client(&srv.token("admin").await);
    let sup = srv.client(&srv.user_with_role("sup", Role::Supervisor, None).await);
    let policy = json!({"policies": [{"category": "general", "remind_after_days": 2, "remind_every_days": 2,
        "escalate_after_days": 5, "final_after_days": 10, "final_action": "dispose"},
        {"category": "personal", "remind_after_days": 3, "escalate_after_days": 7, "final_after_days": 14,
        "final_action": "return_to_sender"}]});
    // Supervisors read the policies, only administrators set them.
    sup.put("/api/v1/unclaimed-policies", &policy).await.assert_problem(403, "forbidden");
    let r = admin.put("/api/v1/unclaimed-policies", &policy).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(sup.get("/api/v1/unclaimed-policies").await.body["policies"].as_array().map(Vec::len), Some(2));
    let bad = json!({"policies": [{"category": "general", "remind_after_days": 5, "escalate_after_days": 3,
        "final_after_days": 10, "final_action": "dispose"}]});
    admin.put("/api/v1/unclaimed-policies", &bad).await.assert_problem(422, "validation_failed");

    // Two items arrive and wait on the shelf.
    let mut ids = Vec::new();
    for notes in ["box one", "box two"] {
        let item = register(&clerk, json!({"recipient": {"person_id": srv.fx.person.id}, "notes": notes})).await;
        let id = item["id"].as_str().unwrap().to_string();
        for body in [json!({"action": "store", "location_id": srv.fx.shelf.id}), json!({"action": "notify"})] {
            let r = clerk.post(&format!("/api/v1/items/{id}/transitions"), &body).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
        ids.push(id);
    }
    let arrived: DateTime<Utc> = app.store.item(t, ids[0].parse().unwrap()).await.unwrap().unwrap().created_at;
    // The sweeper pages through waiting items in id order.
    let later = arrived + Duration::days(1);
    let first = app.store.waiting_items(t, later, None, 1).await.unwrap();
    let second = app.store.waiting_items(t, later, Some(first[0].item.id), 1).await.unwrap();
    let rest = app.store.waiting_items(t, later, Some(second[0].item.id), 1).await.unwrap();
    assert_eq!(
        (first[0].item.id.to_string(), second[0].item.id.to_string(), rest.len()),
        (ids[0].clone(), ids[1].clone(), 0)
    );
    let day = |d: i64| arrived + Duration::days(d) + Duration::minutes(1);
    let r = sweep(app, day(1)).await.unwrap();
    assert_eq!((r.reminders, r.escalations, r.disposal_requests), (0, 0, 0));
    assert_eq!(sweep(app, day(2)).await.unwrap().reminders, 2);
    assert_eq!(sweep(app, day(3)).await.unwrap().reminders, 0);
    assert_eq!(sweep(app, day(4)).await.unwrap().reminders, 2);
    let r = sweep(app, day(5)).await.unwrap();
    assert_eq!((r.reminders, r.escalations), (0, 2), "{r:?}");
    let r = sweep(app, day(10)).await.unwrap();
    assert_eq!((r.reminders, r.disposal_requests), (2, 2), "{r:?}");
    // Pending a decision: nothing more happens.
    let r = sweep(app, day(12)).await.unwrap();
    assert_eq!((r.reminders, r.escalations, r.disposal_requests), (0, 0, 0), "{r:?}");

    // The supervisor decides an hour after the requests.
    set_clock(app, day(10) + Duration::hours(1));
    // Staff cannot dispose of an item themselves, nor decide.
    let direct =
        clerk.post(&format!("/api/v1/items/{}/transitions", ids[0]), &json!({"action": "dispose", "note": "x"})).await;
    direct.assert_problem(422, "validation_failed");
    clerk
        .post(&format!("/api/v1/items/{}/disposal/approve", ids[0]), &json!({}))
        .await
        .assert_problem(403, "forbidden");
    // The supervisor sees both requests and decides.
    let dash = sup.get("/api/v1/service-levels").await;
    let pending: Vec<&str> =
        dash.body["pending_approvals"].as_array().unwrap().iter().filter_map(|e| e["item_id"].as_str()).collect();
    assert_eq!(pending.len(), 2, "{}", dash.text);
    assert!(dash.body["unclaimed"].as_array().unwrap().len() >= 2);
    let approved =
        sup.post(&format!("/api/v1/items/{}/disposal/approve", ids[0]), &json!({"note": "unclaimed 10 days"})).await;
    assert_eq!((approved.status, &approved.body["status"]), (200, &json!("disposed")), "{}", approved.text);
    // The second is rejected in the console.
    let console = srv.browser("acme", "sup").await;
    let page = console.get("/ui/service-levels").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&format!("/ui/service-levels/{}/reject", ids[1])), "{}", page.text);
    let rejected = console.post(&format!("/ui/service-levels/{}/reject", ids[1]), &[]).await;
    assert_eq!(rejected.status, 303, "{}", rejected.text);
    assert!(rejected.location.starts_with("/ui/service-levels?done="), "{}", rejected.location);
    let item = sup.get(&format!("/api/v1/items/{}", ids[1])).await;
    assert_eq!(item.body["status"], "notified");
    // Decided once: a second decision finds nothing to decide.
    sup.post(&format!("/api/v1/items/{}/disposal/reject", ids[0]), &json!({})).await.assert_problem(409, "conflict");
    sup.post(&format!("/api/v1/items/{}/disposal/approve", ids[1]), &json!({})).await.assert_problem(409, "conflict");

    // The custody log holds every step, in order.
    let evs = events(app, t, &ids[0]).await;
    let steps: Vec<&str> = evs.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        steps,
        [
            "registered",
            "store",
            "notify",
            "reminder",
            "reminder",
            "escalated",
            "reminder",
            "disposal_requested",
            "disposal_approved",
            "dispose"
        ]
    );
    let reminders = kinds(&evs, "reminder");
    assert_eq!(reminders.iter().map(|d| d["n"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(reminders[0]["days_waiting"], 2);
    let esc = &kinds(&evs, "escalated")[0];
    assert_eq!((&esc["reason"], &esc["days_waiting"]), (&json!("unclaimed"), &json!(5)));
    // No key contact in the department and no supervisor with a directory entry: recorded as such.
    assert_eq!((&esc["via"], &esc["to_person_id"]), (&json!("none"), &Value::Null));
    assert_eq!(kinds(&evs, "disposal_requested")[0]["action"], "dispose");
    let approval = &kinds(&evs, "disposal_approved")[0];
    assert_eq!((&approval["note"], &approval["decided_by"]), (&json!("unclaimed 10 days"), &json!("sup")));
    assert_eq!(kinds(&evs, "dispose")[0]["to"], "disposed");
    assert_eq!(kinds(&events(app, t, &ids[1]).await, "disposal_rejected").len(), 1);
    // A disposed item is final; the rejected one goes on waiting (and being reminded of) and, the
    // final period after the rejection, is asked about again.
    let r = sweep(app, day(15)).await.unwrap();
    assert_eq!((r.reminders, r.disposal_requests), (1, 0), "{r:?}");
    let r = sweep(app, day(21)).await.unwrap();
    assert_eq!(r.disposal_requests, 1, "{r:?}");
    let again = kinds(&events(app, t, &ids[1]).await, "disposal_requested");
    assert_eq!(again.iter().map(|d| d["n"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 2]);
    // Collected while the request is pending: nothing is left to decide.
    assert_eq!(sup.get("/api/v1/service-levels").await.body["pending_approvals"].as_array().map(Vec::len), Some(1));
    for body in [
        json!({"action": "ready_for_pickup"}),
        json!({"action": "pick_up", "handover": {"taken_by": "Zhang"}, "signature": {"data": crate::support::png_signature()}}),
    ] {
        let r = clerk.post(&format!("/api/v1/items/{}/transitions", ids[1]), &body).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(sup.get("/api/v1/service-levels").await.body["pending_approvals"], json!([]));
    sup.post(&format!("/api/v1/items/{}/disposal/approve", ids[1]), &json!({}))
        .await
        .assert_problem(409, "invalid_transition");
    assert_eq!(kinds(&events(app, t, &ids[0]).await, "reminder").len(), 3);
    // The custody chain verifies.
    let v = admin.get("/api/v1/custody/verify").await;
    assert_eq!(v.body["intact"], true, "{}", v.text);
    srv.stop().await;
}

async fn concurrent_sweeps(backend: Backend) {
    let Some(srv) = TestServer::start(backend).await else { return };
    let (app, t) = (&srv.app, srv.fx.tenant.id);
    let clerk = srv.client(&srv.token("clerk").await);
    let admin = srv.client(&srv.token("admin").await);
    let policy = json!({"policies": [{"category": "general", "remind_after_days": 1, "remind_every_days": 0,
        "escalate_after_days": 2, "final_after_days": 3, "final_action": "return_to_sender"}]});
    assert_eq!(admin.put("/api/v1/unclaimed-policies", &policy).await.status, 200);
    set_clock(app, bj(2026, 11, 23, 9, 0));
    let mut overdue = Vec::new();
    let mut waiting = Vec::new();
    for i in 0..8 {
        let item = register(
            &clerk,
            json!({"recipient": {"person_id": srv.fx.person.id}, "priority": "urgent", "notes": format!("u{i}")}),
        )
        .await;
        overdue.push(item["id"].as_str().unwrap().to_string());
        let item =
            register(&clerk, json!({"recipient": {"person_id": srv.fx.person.id}, "notes": format!("w{i}")})).await;
        let id = item["id"].as_str().unwrap().to_string();
        let r = clerk
            .post(
                &format!("/api/v1/items/{id}/transitions"),
                &json!({"action": "store", "location_id": srv.fx.shelf.id}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        waiting.push(id);
    }
    // A second node: on PostgreSQL a second app with its own connections; SQLite has one writer
    // per database file, so both sweeps share this one.
    let other = match backend {
        Backend::Postgres => open_app(&srv.db.url).await,
        Backend::Sqlite => app.clone(),
    };
    let now = bj(2026, 12, 20, 9, 0);
    let mut done = [0; 4];
    for _ in 0..3 {
        let (a, b) = tokio::join!(sweep(app, now), sweep(&other, now));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!((a.failures, b.failures), (0, 0));
        for r in [a, b] {
            for (n, d) in done.iter_mut().zip([r.deadline_missed, r.reminders, r.escalations, r.disposal_requests]) {
                *n += d;
            }
        }
    }
    // Between them the two nodes did every step exactly once.
    assert_eq!(done, [8, 8, 8, 8]);
    for id in &overdue {
        let evs = events(app, t, id).await;
        assert_eq!(kinds(&evs, "deadline_missed").len(), 1, "{id}: {evs:?}");
        assert_eq!(kinds(&evs, "escalated").len(), 1, "{id}");
    }
    for id in &waiting {
        let evs = events(app, t, id).await;
        for kind in ["reminder", "escalated", "disposal_requested"] {
            assert_eq!(kinds(&evs, kind).len(), 1, "{id}: {kind} in {evs:?}");
        }
        assert_eq!(kinds(&evs, "disposal_requested")[0]["action"], "return_to_sender");
    }
    let v = admin.get("/api/v1/custody/verify").await;
    assert_eq!(v.body["intact"], true, "{}", v.text);
    srv.stop().await;
}
