//! The durable job queue at work: a [`JobRunner`] on every server node claims due jobs from the
//! database, runs the [`JobHandler`] registered for each job's kind, and records the outcome:
//! done, another attempt later (exponential back-off with jitter), or dead (the dead-letter
//! list, which an administrator may send back to the queue). See docs/JOBS.md.

use crate::{App, AppError, AppResult, Principal, RequestCtx};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::custody::EventDraft;
use mailroom_domain::ids::JobId;
use mailroom_domain::{DomainError, ErrorCode};
pub use mailroom_store::{JOB_DEAD, JOB_DONE, JOB_MAX_ATTEMPTS, JOB_PENDING, JOB_RUNNING, JOB_STATUSES, Job, NewJob};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinHandle;
use utoipa::ToSchema;

/// Why a job's attempt failed, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// Try again later, after the usual back-off ([`backoff`]).
    Retry(String),
    /// Try again, not before this long (e.g. a server's `Retry-After`).
    RetryAfter(String, Duration),
    /// Trying again cannot help (bad input, refused for good): the job is dead at once.
    Permanent(String),
}

impl JobFailure {
    pub fn message(&self) -> &str {
        match self {
            JobFailure::Retry(m) | JobFailure::RetryAfter(m, _) | JobFailure::Permanent(m) => m,
        }
    }
}

/// Runs the jobs of one kind. A handler may be called more than once for the same job (a node
/// that stops during a job leaves it to be claimed again when its lease ends): whatever it does
/// outside the database must tolerate that, e.g. by passing the job's idempotency key on to the
/// receiver (see docs/JOBS.md).
#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, app: &App, job: &Job) -> Result<(), JobFailure>;
}

/// Pauses before the next attempt after `attempt` failed ones (1-based), before jitter: 10 s,
/// 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, then 6 h.
pub fn backoff_base(attempt: i32) -> Duration {
    const STEPS: [i64; 8] = [10, 30, 120, 600, 1_800, 3_600, 10_800, 21_600];
    let i = usize::try_from(attempt.max(1) - 1).unwrap_or(0).min(STEPS.len() - 1);
    Duration::seconds(STEPS[i])
}

/// The pause after `attempt` failed attempts: [`backoff_base`] spread by ±25 % with `jitter`
/// (0.0–1.0, uniform), so that jobs that failed together do not all come back together.
pub fn backoff(attempt: i32, jitter: f64) -> Duration {
    let base = backoff_base(attempt).num_milliseconds() as f64;
    let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    Duration::milliseconds((base * factor).round() as i64)
}

/// The longest pause a handler may ask for with [`JobFailure::RetryAfter`].
pub const MAX_RETRY_AFTER: Duration = Duration::hours(24);

/// Errors are kept with the job up to this many characters.
const MAX_ERROR_CHARS: usize = 2_000;

/// Finished jobs are kept this long for inspection, then pruned.
pub const KEEP_DONE: Duration = Duration::days(7);

/// What happens to a job whose attempt (its `attempts`-th) failed: `Some(time)` of the next
/// attempt, or `None`: dead.
pub fn next_attempt(job: &Job, failure: &JobFailure, now: DateTime<Utc>, jitter: f64) -> Option<DateTime<Utc>> {
    if job.attempts >= job.max_attempts {
        return None;
    }
    match failure {
        JobFailure::Permanent(_) => None,
        JobFailure::Retry(_) => Some(now + backoff(job.attempts, jitter)),
        JobFailure::RetryAfter(_, after) => Some(now + (*after).clamp(Duration::seconds(1), MAX_RETRY_AFTER)),
    }
}

/// A name for this server process among the nodes sharing the queue: host name, process id and
/// a random part (a restarted process with a recycled pid is another node).
pub fn node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    let random = crate::random_bytes::<4>().map(|b| mailroom_domain::custody::hex(&b)).unwrap_or_default();
    format!("{host}:{}:{random}", std::process::id())
}

fn jitter() -> f64 {
    crate::random_bytes::<4>().map(|b| f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)).unwrap_or(0.5)
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_ERROR_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Settings of a [`JobRunner`].
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Jobs run at the same time on this node.
    pub concurrency: usize,
    /// How long a claimed job belongs to this node. A handler gets 80 % of it; a node that
    /// stops loses its jobs to the other nodes when their leases end.
    pub lease: Duration,
    /// How often an idle runner looks for due jobs (it also wakes when this node enqueues).
    pub poll: StdDuration,
}

impl RunnerSettings {
    /// The defaults, with `MAILROOM_JOB_WORKERS` (jobs at the same time, 1–256) and
    /// `MAILROOM_JOB_LEASE_SECS` (30–86400) when set.
    pub fn from_env() -> Result<RunnerSettings, String> {
        let mut s = RunnerSettings::default();
        if let Ok(v) = std::env::var("MAILROOM_JOB_WORKERS") {
            s.concurrency = v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=256).contains(n))
                .ok_or_else(|| format!("MAILROOM_JOB_WORKERS={v:?}: expected a number from 1 to 256"))?;
        }
        if let Ok(v) = std::env::var("MAILROOM_JOB_LEASE_SECS") {
            let secs = v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (30..=86_400).contains(n))
                .ok_or_else(|| format!("MAILROOM_JOB_LEASE_SECS={v:?}: expected seconds from 30 to 86400"))?;
            s.lease = Duration::seconds(secs);
        }
        Ok(s)
    }
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings { concurrency: 8, lease: Duration::minutes(5), poll: StdDuration::from_millis(250) }
    }
}

/// The runner of a server node with the handler of every job kind this build knows: what
/// `mailroom serve` runs. Each kind of job is registered here.
pub fn runner(app: App, node: impl Into<String>) -> JobRunner {
    JobRunner::new(app, node)
        .handler(crate::notify::NOTIFY_JOB, Arc::new(crate::notify::NotifyHandler))
        .handler(crate::notify::DIGEST_JOB, Arc::new(crate::notify::DigestHandler))
}

/// Claims and runs jobs. Build it with the handlers of every kind this node knows, then
/// [`JobRunner::spawn`] it:
///
/// ```ignore
/// let handle = JobRunner::new(app.clone(), jobs::node_id()).handler("notify", Arc::new(Notify)).spawn();
/// ```
///
/// A job of a kind without a handler dies at once with an error naming the kind.
#[derive(Clone)]
pub struct JobRunner {
    app: App,
    node: Arc<str>,
    handlers: Arc<HashMap<String, Arc<dyn JobHandler>>>,
    settings: RunnerSettings,
}

/// What one pass of a runner did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub done: usize,
    pub retried: usize,
    pub dead: usize,
    /// Outcomes the database refused because another node had taken the job over.
    pub lost: usize,
}

impl JobRunner {
    pub fn new(app: App, node: impl Into<String>) -> JobRunner {
        let node: String = node.into();
        JobRunner { app, node: node.into(), handlers: Arc::default(), settings: RunnerSettings::default() }
    }

    /// Registers the handler of jobs of `kind` (replacing any earlier one).
    pub fn handler(mut self, kind: impl Into<String>, handler: Arc<dyn JobHandler>) -> JobRunner {
        Arc::make_mut(&mut self.handlers).insert(kind.into(), handler);
        self
    }

    pub fn settings(mut self, settings: RunnerSettings) -> JobRunner {
        self.settings = settings;
        self
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// The kinds this runner has handlers for.
    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.handlers.keys().cloned().collect();
        k.sort();
        k
    }

    /// Claims up to `limit` due jobs and runs them (at the same time), waiting for all of them.
    pub async fn run_once(&self, limit: usize) -> AppResult<Pass> {
        let jobs = self.claim(limit).await?;
        let mut pass = Pass { claimed: jobs.len(), ..Pass::default() };
        let mut running = tokio::task::JoinSet::new();
        for job in jobs {
            let me = self.clone();
            running.spawn(async move { me.process(job).await });
        }
        while let Some(outcome) = running.join_next().await {
            match outcome {
                Ok(Outcome::Done) => pass.done += 1,
                Ok(Outcome::Retried) => pass.retried += 1,
                Ok(Outcome::Dead) => pass.dead += 1,
                Ok(Outcome::Lost) | Err(_) => pass.lost += 1,
            }
        }
        Ok(pass)
    }

    /// Runs passes until no job is due; returns the sum (for tests and the command line).
    pub async fn drain(&self) -> AppResult<Pass> {
        let mut total = Pass::default();
        loop {
            let pass = self.run_once(self.settings.concurrency.max(1)).await?;
            if pass.claimed == 0 {
                return Ok(total);
            }
            total.claimed += pass.claimed;
            total.done += pass.done;
            total.retried += pass.retried;
            total.dead += pass.dead;
            total.lost += pass.lost;
        }
    }

    async fn claim(&self, limit: usize) -> AppResult<Vec<Job>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self.app.store.claim_jobs(&self.node, self.app.clock.now(), self.settings.lease, limit).await?)
    }

    /// Runs one claimed job and records the outcome.
    async fn process(&self, job: Job) -> Outcome {
        let result = if job.attempts > job.max_attempts {
            // Claimed again after its last attempt's lease ran out: the node running it stopped.
            Err(JobFailure::Permanent(format!(
                "the last of {} attempts did not finish (the server running it stopped)",
                job.max_attempts
            )))
        } else {
            match self.handlers.get(&job.kind).cloned() {
                None => Err(JobFailure::Permanent(format!(
                    "no handler for jobs of kind \"{}\" on this server (it knows: {})",
                    job.kind,
                    self.kinds().join(", ")
                ))),
                Some(handler) => self.run_handler(handler, &job).await,
            }
        };
        let now = self.app.clock.now();
        let store = &self.app.store;
        let recorded = match &result {
            Ok(()) => store.complete_job(job.id, &self.node, now).await.map(|ok| (ok, Outcome::Done)),
            Err(failure) => {
                let next = next_attempt(&job, failure, now, jitter());
                let error = truncate(failure.message());
                if next.is_some() {
                    tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %error, "job failed; will retry");
                } else {
                    tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %error, "job is dead");
                }
                let outcome = if next.is_some() { Outcome::Retried } else { Outcome::Dead };
                store.fail_job(job.id, &self.node, &error, next, now).await.map(|ok| (ok, outcome))
            }
        };
        match recorded {
            Ok((true, outcome)) => outcome,
            Ok((false, _)) => {
                tracing::warn!(job = %job.id, kind = %job.kind, "job was taken over by another worker (lease expired)");
                Outcome::Lost
            }
            Err(e) => {
                // The job stays running until its lease ends; then it is claimed again.
                tracing::error!(job = %job.id, error = %e, "could not record the outcome of a job");
                Outcome::Lost
            }
        }
    }

    /// Runs the handler on its own task (a panic fails the attempt instead of the runner),
    /// within 80 % of the lease (so that no other node starts the job while it still runs here).
    async fn run_handler(&self, handler: Arc<dyn JobHandler>, job: &Job) -> Result<(), JobFailure> {
        let limit = (self.settings.lease * 4 / 5).to_std().unwrap_or(StdDuration::from_secs(1));
        let (app, owned) = (self.app.clone(), job.clone());
        let task = tokio::spawn(async move { handler.run(&app, &owned).await });
        let abort = task.abort_handle();
        match tokio::time::timeout(limit, task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) if e.is_panic() => Err(JobFailure::Retry("the job's handler panicked".into())),
            Ok(Err(_)) => Err(JobFailure::Retry("the job's handler was cancelled".into())),
            Err(_) => {
                abort.abort();
                Err(JobFailure::Retry(format!("the job took longer than {} s", limit.as_secs())))
            }
        }
    }

    /// Starts claiming and running jobs in the background until the handle is shut down.
    pub fn spawn(self) -> JobRunnerHandle {
        let (stop_tx, stop_rx) = watch::channel(false);
        let wake = self.app.jobs_wake.clone();
        let task = tokio::spawn(self.run_loop(stop_rx));
        JobRunnerHandle { stop: stop_tx, wake, task }
    }

    async fn run_loop(self, mut stop: watch::Receiver<bool>) {
        let concurrency = self.settings.concurrency.max(1);
        let slots = Arc::new(Semaphore::new(concurrency));
        let wake = self.app.jobs_wake.clone();
        let mut next_prune = tokio::time::Instant::now();
        let mut failures = 0u32;
        // Whether the last claim found nothing.
        let mut idle = false;
        tracing::info!(node = %self.node, kinds = ?self.kinds(), concurrency, "job runner started");
        loop {
            if *stop.borrow() {
                break;
            }
            if tokio::time::Instant::now() >= next_prune {
                self.prune().await;
                next_prune = tokio::time::Instant::now() + StdDuration::from_secs(600);
            }
            // Wait for a free slot.
            let first = tokio::select! {
                p = slots.clone().acquire_owned() => p,
                _ = stop.changed() => break,
            };
            let Ok(first) = first else { break };
            let free = slots.available_permits() + 1;
            // Idle, look before claiming: a read, where a claim is a write (on SQLite, a turn of
            // the single writer; with several processes on one file, its lock).
            if idle {
                match self.app.store.jobs_due(self.app.clock.now()).await {
                    Ok(false) => {
                        drop(first);
                        tokio::select! {
                            _ = wake.notified() => {},
                            _ = tokio::time::sleep(self.settings.poll) => {},
                            _ = stop.changed() => break,
                        }
                        continue;
                    }
                    Ok(true) => {}
                    // The claim will fail the same way, and is reported there.
                    Err(_) => {}
                }
            }
            let claimed = match self.claim(free).await {
                Ok(jobs) => {
                    failures = 0;
                    jobs
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(error = %e, "could not claim jobs");
                    drop(first);
                    let pause = self.settings.poll * failures.min(40);
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {},
                        _ = stop.changed() => break,
                    }
                    continue;
                }
            };
            let full = claimed.len() == free;
            idle = claimed.is_empty();
            let mut permit = Some(first);
            for job in claimed {
                let p = match permit.take() {
                    Some(p) => p,
                    None => match slots.clone().try_acquire_owned() {
                        Ok(p) => p,
                        // Cannot happen (this loop is the only one taking slots); the job comes
                        // back when its lease ends.
                        Err(_) => break,
                    },
                };
                let me = self.clone();
                tokio::spawn(async move {
                    me.process(job).await;
                    drop(p);
                });
            }
            drop(permit);
            if full {
                // There may be more due: claim again as soon as a slot is free.
                continue;
            }
            tokio::select! {
                _ = wake.notified() => {},
                _ = tokio::time::sleep(self.settings.poll) => {},
                _ = stop.changed() => break,
            }
        }
        // Let the jobs in hand finish (briefly); any still running come back after their lease.
        let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(StdDuration::from_secs(10), slots.acquire_many(all)).await;
        tracing::info!(node = %self.node, "job runner stopped");
    }

    /// Deletes jobs done more than [`KEEP_DONE`] ago, a thousand at a time.
    async fn prune(&self) {
        let before = self.app.clock.now() - KEEP_DONE;
        for _ in 0..100 {
            match self.app.store.prune_jobs(before, 1_000).await {
                Ok(n) if n >= 1_000 => continue,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not prune finished jobs");
                    return;
                }
            }
        }
    }
}

enum Outcome {
    Done,
    Retried,
    Dead,
    Lost,
}

/// A running [`JobRunner`]. Dropping the handle stops the runner too (without waiting): keep it
/// for as long as the runner should run.
pub struct JobRunnerHandle {
    stop: watch::Sender<bool>,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl JobRunnerHandle {
    /// Makes the runner look for due jobs now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops claiming, waits (up to 10 s) for the jobs in hand, and ends.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// How many jobs of the organisation are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct JobCounts {
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
}

/// Page size of the job list.
pub const MAX_JOB_LIST: i64 = 500;

impl App {
    /// Enqueues jobs (skipping those whose idempotency key is known) and wakes this node's
    /// runner. Returns how many were new.
    pub async fn enqueue(&self, jobs: &[NewJob]) -> AppResult<u64> {
        let n = self.store.enqueue_jobs(jobs).await?;
        if n > 0 {
            self.wake_jobs();
        }
        Ok(n)
    }

    /// Makes this node's job runner look for due jobs now.
    pub fn wake_jobs(&self) {
        self.jobs_wake.notify_one();
    }

    /// The organisation's jobs, newest first, optionally only those with one status
    /// (administrators).
    pub async fn list_jobs(&self, p: &Principal, status: Option<&str>, limit: Option<i64>) -> AppResult<Vec<Job>> {
        require(p.role, Permission::ManageJobs)?;
        let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if JOB_STATUSES.contains(&s) => Some(s),
            Some(s) => {
                return Err(DomainError::invalid(
                    "status",
                    format!("unknown job status {s:?}: use pending, running, done or dead"),
                )
                .into());
            }
        };
        let limit = limit.unwrap_or(100);
        if !(1..=MAX_JOB_LIST).contains(&limit) {
            return Err(DomainError::invalid("limit", format!("limit must be between 1 and {MAX_JOB_LIST}")).into());
        }
        Ok(self.store.list_jobs(p.tenant_id, status, limit).await?)
    }

    /// How many of the organisation's jobs are in each status (administrators).
    pub async fn job_counts(&self, p: &Principal) -> AppResult<JobCounts> {
        require(p.role, Permission::ManageJobs)?;
        let mut counts = JobCounts::default();
        for (status, n) in self.store.job_counts(p.tenant_id).await? {
            match status.as_str() {
                JOB_PENDING => counts.pending = n,
                JOB_RUNNING => counts.running = n,
                JOB_DONE => counts.done = n,
                JOB_DEAD => counts.dead = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// One of the organisation's jobs (administrators).
    pub async fn job(&self, p: &Principal, id: JobId) -> AppResult<Job> {
        require(p.role, Permission::ManageJobs)?;
        self.store.job(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("job"))
    }

    /// Sends a dead job back to the queue, due now with all its attempts again (administrators).
    /// Recorded in the audit log. 409 `conflict` unless the job is dead.
    pub async fn retry_job(&self, p: &Principal, ctx: &RequestCtx, id: JobId) -> AppResult<Job> {
        require(p.role, Permission::ManageJobs)?;
        let job = self.store.job(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("job"))?;
        let event = retry_event(&job);
        let retried = self.store.retry_job(p.tenant_id, id, self.clock.now(), &p.actor(ctx), event).await?;
        if !retried {
            return Err(AppError::new(ErrorCode::Conflict, "only a dead job can be retried"));
        }
        self.wake_jobs();
        self.store.job(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("job"))
    }
}

fn retry_event(job: &Job) -> EventDraft {
    EventDraft {
        item_id: None,
        kind: "jobs.retried".into(),
        location_id: None,
        details: serde_json::json!({
            "job_id": job.id,
            "kind": job.kind,
            "attempts": job.attempts,
            "last_error": job.last_error,
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let secs: Vec<i64> = (1..=10).map(|a| backoff_base(a).num_seconds()).collect();
        assert_eq!(secs, [10, 30, 120, 600, 1800, 3600, 10800, 21600, 21600, 21600]);
        assert_eq!(backoff_base(0), backoff_base(1));
        for a in 1..12 {
            let base = backoff_base(a).num_milliseconds();
            let low = backoff(a, 0.0).num_milliseconds();
            let high = backoff(a, 1.0).num_milliseconds();
            assert_eq!(low, base * 3 / 4);
            assert_eq!(high, base * 5 / 4);
            let mid = backoff(a, 0.3).num_milliseconds();
            assert!(low < mid && mid < high);
        }
    }

    fn job(attempts: i32, max: i32) -> Job {
        let now = Utc::now();
        Job {
            id: JobId::new(),
            tenant_id: mailroom_domain::ids::TenantId::new(),
            kind: "k".into(),
            payload: serde_json::json!({}),
            idempotency_key: "x".into(),
            status: JOB_RUNNING.into(),
            attempts,
            max_attempts: max,
            run_at: now,
            locked_by: Some("n".into()),
            locked_until: Some(now),
            last_error: None,
            created_at: now,
            finished_at: None,
        }
    }

    #[test]
    fn the_last_attempt_or_a_permanent_failure_is_the_end() {
        let now = Utc::now();
        let retry = JobFailure::Retry("x".into());
        assert_eq!(
            next_attempt(&job(1, 8), &retry, now, 0.0),
            Some(now + Duration::seconds(7) + Duration::milliseconds(500))
        );
        assert_eq!(next_attempt(&job(8, 8), &retry, now, 0.5), None);
        assert_eq!(next_attempt(&job(1, 8), &JobFailure::Permanent("x".into()), now, 0.5), None);
        let after = JobFailure::RetryAfter("x".into(), Duration::minutes(3));
        assert_eq!(next_attempt(&job(2, 8), &after, now, 0.9), Some(now + Duration::minutes(3)));
        let forever = JobFailure::RetryAfter("x".into(), Duration::days(30));
        assert_eq!(next_attempt(&job(2, 8), &forever, now, 0.9), Some(now + MAX_RETRY_AFTER));
    }

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let long = "错".repeat(3_000);
        let cut = truncate(&long);
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS + 1);
        assert_eq!(truncate("short"), "short");
    }

    #[test]
    fn node_ids_differ_between_runners() {
        let (a, b) = (node_id(), node_id());
        assert_ne!(a, b);
        assert!(a.contains(&std::process::id().to_string()));
    }
}
