//! The durable job queue on both backends: idempotent enqueueing, claiming and leases, back-off
//! until the dead-letter list, an administrator's retry over HTTP, unknown kinds, and two
//! independent stores (two nodes) sharing one queue of 10,000 jobs without doing any twice.

use crate::both_backends;
use crate::support::{Backend, TestDb, TestServer, open_app};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use mailroom_app::App;
use mailroom_app::jobs::{JobFailure, JobHandler, JobRunner, RunnerSettings, backoff_base};
use mailroom_app::store::{Job, NewJob, Store, Tenant};
use mailroom_domain::ids::{JobId, TenantId};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

async fn tenant(store: &Arc<dyn Store>, slug: &str) -> TenantId {
    let t = Tenant { id: TenantId::new(), slug: slug.into(), name: slug.to_uppercase(), created_at: Utc::now() };
    store.create_tenant(&t).await.unwrap();
    t.id
}

fn job(t: TenantId, kind: &str, key: &str, run_at: DateTime<Utc>) -> NewJob {
    NewJob::new(t, kind, json!({ "key": key }), key, run_at)
}

/// Records every run (job id → how many times, and which node ran it), and answers with the
/// outcomes it is given, one per run, then success.
#[derive(Default)]
struct Recorder {
    runs: Mutex<HashMap<JobId, Vec<String>>>,
    script: Mutex<Vec<JobFailure>>,
    node: String,
}

impl Recorder {
    fn new(node: &str) -> Recorder {
        Recorder { node: node.into(), ..Recorder::default() }
    }
    fn failing(node: &str, script: Vec<JobFailure>) -> Recorder {
        Recorder { node: node.into(), script: Mutex::new(script), ..Recorder::default() }
    }
    fn runs(&self, id: JobId) -> usize {
        self.runs.lock().unwrap().get(&id).map_or(0, Vec::len)
    }
}

#[async_trait]
impl JobHandler for Recorder {
    async fn run(&self, _app: &App, job: &Job) -> Result<(), JobFailure> {
        self.runs.lock().unwrap().entry(job.id).or_default().push(self.node.clone());
        let mut script = self.script.lock().unwrap();
        if script.is_empty() { Ok(()) } else { Err(script.remove(0)) }
    }
}

/// Records into a map shared by several runners.
struct Shared {
    node: String,
    runs: Arc<Mutex<HashMap<JobId, Vec<String>>>>,
}

#[async_trait]
impl JobHandler for Shared {
    async fn run(&self, _app: &App, job: &Job) -> Result<(), JobFailure> {
        self.runs.lock().unwrap().entry(job.id).or_default().push(self.node.clone());
        Ok(())
    }
}

async fn open(b: Backend) -> Option<(TestDb, App)> {
    let db = TestDb::new(b).await?;
    let app = open_app(&db.url).await;
    Some((db, app))
}

/// A key is enqueued once per tenant, however often and by whichever call; another tenant may
/// use the same key.
async fn enqueue_is_idempotent(b: Backend) {
    let Some((db, app)) = open(b).await else { return };
    let (a, z) = (tenant(&app.store, "a").await, tenant(&app.store, "z").await);
    let now = Utc::now();
    let first = [job(a, "k", "one", now), job(a, "k", "two", now), job(a, "k", "one", now)];
    assert_eq!(app.store.enqueue_jobs(&first).await.unwrap(), 2);
    assert_eq!(app.store.enqueue_jobs(&first).await.unwrap(), 0);
    assert_eq!(app.enqueue(&[job(a, "other-kind", "two", now)]).await.unwrap(), 0);
    assert_eq!(app.store.enqueue_jobs(&[job(z, "k", "one", now)]).await.unwrap(), 1);
    assert_eq!(app.store.enqueue_jobs(&[]).await.unwrap(), 0);
    let jobs = app.store.list_jobs(a, None, 100).await.unwrap();
    let mut keys: Vec<&str> = jobs.iter().map(|j| j.idempotency_key.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["one", "two"]);
    assert!(jobs.iter().all(|j| j.kind == "k" && j.status == "pending" && j.attempts == 0 && j.max_attempts == 8));
    assert_eq!(jobs.iter().find(|j| j.idempotency_key == "one").unwrap().payload, json!({"key": "one"}));
    assert_eq!(app.store.job_counts(a).await.unwrap(), vec![("pending".to_string(), 2)]);
    assert_eq!(app.store.job_counts(z).await.unwrap(), vec![("pending".to_string(), 1)]);
    db.cleanup().await;
}

/// A claim takes due jobs only, leases them to one node, and only that node may finish them.
async fn claim_and_complete(b: Backend) {
    let Some((db, app)) = open(b).await else { return };
    let s = &app.store;
    let t = tenant(s, "a").await;
    let now = Utc::now();
    let lease = Duration::minutes(5);
    assert!(!s.jobs_due(now).await.unwrap());
    s.enqueue_jobs(&[job(t, "k", "due", now), job(t, "k", "later", now + Duration::hours(1))]).await.unwrap();
    assert!(s.jobs_due(now).await.unwrap());
    let claimed = s.claim_jobs("node-a", now, lease, 10).await.unwrap();
    assert!(!s.jobs_due(now).await.unwrap(), "a leased job is not due");
    assert!(s.jobs_due(now + Duration::minutes(6)).await.unwrap(), "a job whose lease ran out is due");
    assert_eq!(claimed.len(), 1);
    let j = &claimed[0];
    assert_eq!((j.idempotency_key.as_str(), j.status.as_str(), j.attempts), ("due", "running", 1));
    assert_eq!(j.locked_by.as_deref(), Some("node-a"));
    let until = j.locked_until.unwrap();
    assert!(until > now + Duration::minutes(4) && until <= now + lease, "{until}");
    // Leased: nobody else gets it, nor the job that is not due yet.
    assert!(s.claim_jobs("node-b", now + Duration::minutes(1), lease, 10).await.unwrap().is_empty());
    // Only the node holding it finishes it.
    assert!(!s.complete_job(j.id, "node-b", now).await.unwrap());
    assert!(!s.fail_job(j.id, "node-b", "no", None, now).await.unwrap());
    assert!(s.complete_job(j.id, "node-a", now).await.unwrap());
    assert!(!s.complete_job(j.id, "node-a", now).await.unwrap(), "done twice");
    let done = s.job(t, j.id).await.unwrap().unwrap();
    assert_eq!(done.status, "done");
    assert!(done.finished_at.is_some() && done.locked_until.is_none());
    // A done job is kept, and never claimed again.
    let later = s.claim_jobs("node-b", now + Duration::hours(2), lease, 10).await.unwrap();
    assert_eq!(later.iter().map(|j| j.idempotency_key.as_str()).collect::<Vec<_>>(), ["later"]);
    assert_eq!(s.list_jobs(t, Some("done"), 10).await.unwrap().len(), 1);
    // Pruning removes done jobs older than the cut-off only.
    assert_eq!(s.prune_jobs(now - Duration::days(1), 100).await.unwrap(), 0);
    assert_eq!(s.prune_jobs(now + Duration::days(1), 100).await.unwrap(), 1);
    assert!(s.job(t, j.id).await.unwrap().is_none());
    assert_eq!(s.list_jobs(t, None, 10).await.unwrap().len(), 1, "the running job stays");
    db.cleanup().await;
}

/// A failing job comes back after the back-off (10 s, then 30 s, with jitter) and dies after its
/// last attempt, keeping the last error; the runner's time is the app's clock.
async fn retries_back_off_then_die(b: Backend) {
    let Some((db, app)) = open(b).await else { return };
    let t = tenant(&app.store, "a").await;
    let recorder = Arc::new(Recorder::failing(
        "n",
        vec![
            JobFailure::Retry("smtp down".into()),
            JobFailure::Retry("smtp still down".into()),
            JobFailure::Retry("smtp down for good".into()),
        ],
    ));
    let runner = JobRunner::new(app.clone(), "node-1").handler("send", recorder.clone());
    let mut new = job(t, "send", "mail-1", app.clock.now());
    new.max_attempts = 3;
    app.enqueue(&[new]).await.unwrap();
    let id = app.store.list_jobs(t, None, 1).await.unwrap()[0].id;

    let pass = runner.drain().await.unwrap();
    assert_eq!((pass.claimed, pass.retried), (1, 1));
    let j = app.store.job(t, id).await.unwrap().unwrap();
    assert_eq!((j.status.as_str(), j.attempts, j.last_error.as_deref()), ("pending", 1, Some("smtp down")));
    assert!(j.locked_by.is_none() && j.locked_until.is_none());
    let wait = j.run_at - app.clock.now();
    let base = backoff_base(1);
    assert!(wait > base * 3 / 4 - Duration::seconds(1) && wait <= base * 5 / 4, "first pause {wait}");
    // Not due yet: nothing runs.
    assert_eq!(runner.drain().await.unwrap().claimed, 0);
    assert_eq!(recorder.runs(id), 1);

    app.clock.advance(Duration::seconds(13));
    assert_eq!(runner.drain().await.unwrap().retried, 1);
    let j = app.store.job(t, id).await.unwrap().unwrap();
    assert_eq!((j.attempts, j.last_error.as_deref()), (2, Some("smtp still down")));
    let wait = j.run_at - app.clock.now();
    let base = backoff_base(2);
    assert!(wait > base * 3 / 4 - Duration::seconds(1) && wait <= base * 5 / 4, "second pause {wait}");

    app.clock.advance(Duration::seconds(40));
    let pass = runner.drain().await.unwrap();
    assert_eq!((pass.claimed, pass.dead), (1, 1));
    let j = app.store.job(t, id).await.unwrap().unwrap();
    assert_eq!((j.status.as_str(), j.attempts, j.last_error.as_deref()), ("dead", 3, Some("smtp down for good")));
    assert!(j.finished_at.is_some());
    // Dead stays dead, however much time passes.
    app.clock.advance(Duration::days(1));
    assert_eq!(runner.drain().await.unwrap().claimed, 0);
    assert_eq!(recorder.runs(id), 3);
    assert_eq!(app.store.list_jobs(t, Some("dead"), 10).await.unwrap().len(), 1);

    // A permanent failure dies at once; a server's Retry-After is honoured.
    let permanent = Arc::new(Recorder::failing("n", vec![JobFailure::Permanent("address rejected".into())]));
    let after = Arc::new(Recorder::failing("n", vec![JobFailure::RetryAfter("busy".into(), Duration::minutes(7))]));
    let runner = JobRunner::new(app.clone(), "node-1").handler("reject", permanent).handler("busy", after);
    app.enqueue(&[job(t, "reject", "r", app.clock.now()), job(t, "busy", "b", app.clock.now())]).await.unwrap();
    let pass = runner.drain().await.unwrap();
    assert_eq!((pass.dead, pass.retried), (1, 1));
    let jobs = app.store.list_jobs(t, None, 10).await.unwrap();
    let r = jobs.iter().find(|j| j.idempotency_key == "r").unwrap();
    assert_eq!((r.status.as_str(), r.attempts, r.last_error.as_deref()), ("dead", 1, Some("address rejected")));
    let busy = jobs.iter().find(|j| j.idempotency_key == "b").unwrap();
    assert_eq!(busy.status, "pending");
    let wait = busy.run_at - app.clock.now();
    assert!(wait > Duration::minutes(7) - Duration::seconds(1) && wait <= Duration::minutes(7), "{wait}");
    db.cleanup().await;
}

/// A job of a kind no handler knows dies at its first attempt with an error naming the kind,
/// instead of coming back forever.
async fn unknown_kind_is_dead_at_once(b: Backend) {
    let Some((db, app)) = open(b).await else { return };
    let t = tenant(&app.store, "a").await;
    let known = Arc::new(Recorder::new("n"));
    let runner = JobRunner::new(app.clone(), "node-1").handler("known", known.clone());
    app.enqueue(&[job(t, "known", "k", app.clock.now()), job(t, "mystery.kind", "m", app.clock.now())]).await.unwrap();
    let pass = runner.drain().await.unwrap();
    assert_eq!((pass.claimed, pass.done, pass.dead), (2, 1, 1));
    let dead = app.store.list_jobs(t, Some("dead"), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    let err = dead[0].last_error.clone().unwrap();
    assert!(err.contains("\"mystery.kind\"") && err.contains("known"), "{err}");
    assert_eq!(dead[0].attempts, 1);
    app.clock.advance(Duration::days(2));
    assert_eq!(runner.drain().await.unwrap().claimed, 0);
    db.cleanup().await;
}

/// A node that stops during a job (its lease runs out) loses it to another node, which runs it
/// again; the first node can no longer record an outcome. After the last attempt's lease runs
/// out the job is dead without running again.
async fn expired_lease_is_reclaimed(b: Backend) {
    let Some((db, app)) = open(b).await else { return };
    let s = &app.store;
    let t = tenant(s, "a").await;
    let now = Utc::now();
    let lease = Duration::seconds(30);
    s.enqueue_jobs(&[job(t, "k", "x", now)]).await.unwrap();
    let a = s.claim_jobs("node-a", now, lease, 10).await.unwrap();
    assert_eq!(a.len(), 1);
    assert!(s.claim_jobs("node-b", now + Duration::seconds(29), lease, 10).await.unwrap().is_empty());
    let b_claim = s.claim_jobs("node-b", now + Duration::seconds(31), lease, 10).await.unwrap();
    assert_eq!(b_claim.len(), 1);
    assert_eq!((b_claim[0].id, b_claim[0].attempts), (a[0].id, 2));
    assert_eq!(b_claim[0].locked_by.as_deref(), Some("node-b"));
    // Node A comes back: too late.
    assert!(!s.complete_job(a[0].id, "node-a", now + Duration::seconds(40)).await.unwrap());
    assert!(!s.fail_job(a[0].id, "node-a", "x", Some(now), now + Duration::seconds(40)).await.unwrap());
    assert!(s.complete_job(a[0].id, "node-b", now + Duration::seconds(40)).await.unwrap());

    // The last attempt's node stops: the next claim finds the job out of attempts.
    let mut last = job(t, "k", "last", app.clock.now());
    last.max_attempts = 1;
    s.enqueue_jobs(&[last]).await.unwrap();
    let recorder = Arc::new(Recorder::new("n"));
    let settings = RunnerSettings { lease: Duration::minutes(1), ..RunnerSettings::default() };
    let runner = JobRunner::new(app.clone(), "node-c").handler("k", recorder.clone()).settings(settings);
    let crashed = s.claim_jobs("node-gone", app.clock.now(), Duration::minutes(1), 10).await.unwrap();
    assert_eq!(crashed.len(), 1);
    assert_eq!(runner.drain().await.unwrap().claimed, 0, "still leased to the stopped node");
    app.clock.advance(Duration::minutes(2));
    let pass = runner.drain().await.unwrap();
    assert_eq!((pass.claimed, pass.dead), (1, 1));
    assert_eq!(recorder.runs(crashed[0].id), 0, "run again after its last attempt");
    let dead = s.job(t, crashed[0].id).await.unwrap().unwrap();
    assert_eq!(dead.status, "dead");
    assert!(dead.last_error.unwrap().contains("did not finish"));
    db.cleanup().await;
}

/// The dead-letter list over HTTP: administrators see it with the counts and send a dead job
/// back (recorded in the audit log); others are refused; only dead jobs can be retried.
async fn admin_retries_a_dead_job_over_http(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let app = srv.app.clone();
    let t = srv.fx.tenant.id;
    app.enqueue(&[job(t, "flaky", "f-1", app.clock.now()), job(t, "fine", "ok-1", app.clock.now())]).await.unwrap();
    let flaky = Arc::new(Recorder::failing("n", vec![JobFailure::Permanent("mailbox full".into())]));
    let runner = JobRunner::new(app.clone(), "node-1")
        .handler("flaky", flaky.clone())
        .handler("fine", Arc::new(Recorder::new("n")));
    let pass = runner.drain().await.unwrap();
    assert_eq!((pass.done, pass.dead), (1, 1));

    let admin = srv.client(&srv.token("admin").await);
    let r = admin.get("/api/v1/jobs?status=dead").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0]["kind"].as_str(), items[0]["last_error"].as_str()), (Some("flaky"), Some("mailbox full")));
    assert_eq!(r.body["counts"], json!({"pending": 0, "running": 0, "done": 1, "dead": 1}));
    let id = items[0]["id"].as_str().unwrap().to_string();
    let all = admin.get("/api/v1/jobs").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    admin.get("/api/v1/jobs?status=sleeping").await.assert_problem(422, "validation_failed");
    admin.get("/api/v1/jobs?limit=0").await.assert_problem(422, "validation_failed");
    assert_eq!(admin.get(&format!("/api/v1/jobs/{id}")).await.body["status"], "dead");

    let clerk = srv.client(&srv.token("clerk").await);
    clerk.get("/api/v1/jobs").await.assert_problem(403, "forbidden");
    clerk.post(&format!("/api/v1/jobs/{id}/retry"), &json!({})).await.assert_problem(403, "forbidden");

    let r = admin.post(&format!("/api/v1/jobs/{id}/retry"), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["status"].as_str(), r.body["attempts"].as_i64()), (Some("pending"), Some(0)));
    assert_eq!(r.body["last_error"], "mailbox full", "the last error is kept until the next attempt");
    admin.post(&format!("/api/v1/jobs/{id}/retry"), &json!({})).await.assert_problem(409, "conflict");
    let done = admin.get("/api/v1/jobs?status=done").await;
    let done_id = done.body["items"][0]["id"].as_str().unwrap().to_string();
    admin.post(&format!("/api/v1/jobs/{done_id}/retry"), &json!({})).await.assert_problem(409, "conflict");
    admin
        .post(&format!("/api/v1/jobs/{}/retry", uuid::Uuid::now_v7()), &json!({}))
        .await
        .assert_problem(404, "not_found");
    admin.post("/api/v1/jobs/not-an-id/retry", &json!({})).await.assert_problem(404, "not_found");

    // The retried job runs again, and this time succeeds.
    let pass = runner.drain().await.unwrap();
    assert_eq!((pass.claimed, pass.done), (1, 1));
    let job_id: JobId = id.parse().unwrap();
    assert_eq!(flaky.runs(job_id), 2);
    let counts = admin.get("/api/v1/jobs").await.body["counts"].clone();
    assert_eq!(counts, json!({"pending": 0, "running": 0, "done": 2, "dead": 0}));
    let audit = admin.get("/api/v1/audit?kind=jobs.").await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    let events = audit.body["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", audit.text);
    assert_eq!(events[0]["kind"], "jobs.retried");
    assert!(audit.text.contains(&id));

    // The console: the dead-letter list with its retry button, for administrators only.
    app.enqueue(&[job(t, "flaky", "f-2", app.clock.now())]).await.unwrap();
    let flaky2 = Arc::new(Recorder::failing("n", vec![JobFailure::Permanent("邮箱已满".into())]));
    JobRunner::new(app.clone(), "node-1").handler("flaky", flaky2).drain().await.unwrap();
    let ui = srv.browser(&srv.fx.tenant.slug, "admin").await;
    let page = ui.get("/ui/jobs").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("邮箱已满") && page.text.contains("f-2"), "{}", page.text);
    assert_eq!(page.text.matches("data-testid=\"retry\"").count(), 1);
    let dead_id = app.store.list_jobs(t, Some("dead"), 1).await.unwrap()[0].id;
    let posted = ui.post(&format!("/ui/jobs/{dead_id}/retry"), &[]).await;
    assert_eq!(posted.status, 303, "{}", posted.text);
    assert_eq!(app.store.job(t, dead_id).await.unwrap().unwrap().status, "pending");
    let again = ui.post(&format!("/ui/jobs/{dead_id}/retry"), &[]).await;
    assert_eq!(again.status, 409, "{}", again.text);
    let clerk_ui = srv.browser(&srv.fx.tenant.slug, "clerk").await;
    assert_eq!(clerk_ui.get("/ui/jobs").await.status, 403);
    srv.stop().await;
}

/// Two independent stores on one database (two connection pools, as two server nodes have),
/// each with a runner, work through 10,000 jobs at the same time: every job runs exactly once
/// and ends done.
async fn two_nodes_share_one_queue(b: Backend) {
    const JOBS: usize = 10_000;
    let Some(db) = TestDb::new(b).await else { return };
    let one = open_app(&db.url).await;
    let two = open_app(&db.url).await;
    assert!(!Arc::ptr_eq(&one.store, &two.store));
    let t = tenant(&one.store, "a").await;
    let now = Utc::now();
    let jobs: Vec<NewJob> = (0..JOBS).map(|i| job(t, "count", &format!("job-{i}"), now)).collect();
    assert_eq!(one.store.enqueue_jobs(&jobs).await.unwrap(), JOBS as u64);
    let runs: Arc<Mutex<HashMap<JobId, Vec<String>>>> = Arc::default();
    let settings = RunnerSettings { concurrency: 16, ..RunnerSettings::default() };
    let handles: Vec<_> = [("node-1", &one), ("node-2", &two)]
        .into_iter()
        .map(|(node, app)| {
            let handler = Arc::new(Shared { node: node.into(), runs: runs.clone() });
            JobRunner::new(app.clone(), node).handler("count", handler).settings(settings.clone()).spawn()
        })
        .collect();
    // Wait until the queue is empty (a guard against hanging, not a measure of speed).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let counts = one.store.job_counts(t).await.unwrap();
        if counts == vec![("done".to_string(), JOBS as i64)] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the queue did not drain: {counts:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for h in handles {
        h.shutdown().await;
    }
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), JOBS, "jobs that ran");
    let twice: Vec<_> = runs.iter().filter(|(_, nodes)| nodes.len() != 1).collect();
    assert!(twice.is_empty(), "{} jobs ran more than once, e.g. {:?}", twice.len(), twice.first());
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    for nodes in runs.values() {
        *per_node.entry(nodes[0].as_str()).or_default() += 1;
    }
    eprintln!("{b:?}: jobs per node {per_node:?}");
    assert_eq!(per_node.len(), 2, "both nodes worked: {per_node:?}");
    // Every job is done, held by the node that ran it.
    let done = one.store.list_jobs(t, Some("done"), JOBS as i64).await.unwrap();
    assert_eq!(done.len(), JOBS);
    for j in &done {
        assert_eq!(j.attempts, 1, "{}", j.idempotency_key);
        assert_eq!(j.locked_by.as_deref(), Some(runs[&j.id][0].as_str()));
    }
    db.cleanup().await;
}

/// A running runner is woken by `App::enqueue` and picks the job up without being asked again.
async fn spawned_runner_wakes_on_enqueue(b: Backend) {
    let Some((db, app)) = open(b).await else { return };
    let t = tenant(&app.store, "a").await;
    let recorder = Arc::new(Recorder::new("n"));
    let settings = RunnerSettings { poll: std::time::Duration::from_secs(3600), ..RunnerSettings::default() };
    let handle = JobRunner::new(app.clone(), "node-1").handler("k", recorder.clone()).settings(settings).spawn();
    // Let the runner make its first (empty) pass and go to sleep.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.enqueue(&[job(t, "k", "wake-me", app.clock.now())]).await.unwrap();
    let id = app.store.list_jobs(t, None, 1).await.unwrap()[0].id;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while app.store.job(t, id).await.unwrap().unwrap().status != "done" {
        assert!(std::time::Instant::now() < deadline, "the runner did not wake");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(recorder.runs(id), 1);
    handle.shutdown().await;
    db.cleanup().await;
}

both_backends!(
    enqueue_is_idempotent,
    claim_and_complete,
    retries_back_off_then_die,
    unknown_kind_is_dead_at_once,
    expired_lease_is_reclaimed,
    admin_retries_a_dead_job_over_http,
    two_nodes_share_one_queue,
    spawned_runner_wakes_on_enqueue,
);
