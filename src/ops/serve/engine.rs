//! The main loop of serve: read the store, decide what is due, start it in the background,
//! sleep until the next thing is due or the store changes, repeat. Work reports back as
//! messages; the loop alone changes serve's state.

use super::alerts::Alerts;
use super::document::Notification;
use super::healthz::Board;
use super::hosting::{Hosting, ProxyNews};
use super::metrics::Metrics;
use super::notifier::{self, Channels, Job};
use super::schedule;
use super::status::{self, Held, Next, ServeStatus};
use crate::model::health::{Health, Level, ShellWording};
use crate::model::serve::ServeSettings;
use crate::model::{Config, Settings};
use crate::ops::snapshot::Snapshot;
use crate::ops::tokens::{Policy, fresh_token_in};
use crate::services::imap::Timeouts;
use crate::services::{store_watch, systemd};
use crate::store::Store;
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Even with nothing due, look again this often: expiry warnings count days, and a clock
/// that jumped (suspend, NTP) must not leave a refresh asleep for hours.
const MAX_SLEEP: Duration = Duration::from_secs(300);
/// While a wave of refreshes is still running, the store is read again at most this often
/// (and once more when the wave ends): one read of 1,000 servers costs as much CPU as a few
/// dozen refreshes, and reading it again after every returning batch starved the wave.
const WAVE_READ_EVERY: Duration = Duration::from_secs(1);
/// On SIGTERM, work in flight (a refresh whose rotated token must be saved) gets this long.
const STOP_GRACE: Duration = Duration::from_secs(45);

/// Requests from outside the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// SIGHUP: read the settings again.
    Reload,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Ops(#[from] crate::ops::Error),
    #[error(transparent)]
    Status(#[from] status::StatusError),
    #[error(transparent)]
    Bind(#[from] crate::services::status_http::BindError),
    #[error(
        "the metrics address {0} is not a loopback address: metrics and /healthz name your mailboxes. Allow remote metrics to serve them to the network anyway"
    )]
    RemoteMetrics(SocketAddr),
    #[error("cannot watch the store {dir} for changes: {reason}")]
    Watch { dir: String, reason: String },
    #[error("cannot set up metrics: {0}")]
    Metrics(String),
    #[error("the IMAP proxy stopped: {0}")]
    Proxy(#[from] crate::ops::proxy::ProxyError),
}

impl ServeError {
    /// What to do, when there is more to say than the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            ServeError::Proxy(e) => e.hint(),
            _ => None,
        }
    }
}

/// What background work reports.
enum Done {
    Refreshed {
        id: String,
        name: String,
        outcome: Result<Option<String>, String>,
    },
    Tested {
        ids: Vec<String>,
        results: Vec<(String, Result<String, String>)>,
    },
}

struct Engine {
    store: Store,
    flags: ServeSettings,
    settings: ServeSettings,
    /// The store's settings as last taken up.
    applied: Settings,
    started: Timestamp,
    snapshot: Snapshot,
    alerts: Alerts,
    metrics: Arc<Metrics>,
    board: Arc<Mutex<Board>>,
    notifier: mpsc::UnboundedSender<Job>,
    held: Held,
    status: ServeStatus,
    /// Per server id: serve's own retry time after a failed refresh.
    retry_at: HashMap<String, Timestamp>,
    /// Per server id: when serve last started a test.
    tested_at: HashMap<String, Timestamp>,
    /// Ids with a refresh in flight, or finished since the store was last read (their token
    /// in `snapshot` is still the old one, so they must not start again).
    refreshing: HashSet<String>,
    /// Ids whose refresh finished since the store was last read.
    settled: Vec<String>,
    /// When the store was last read.
    read_at: std::time::Instant,
    /// The store changed while work was in flight and has not been read since: it is read
    /// at `read_at + WAVE_READ_EVERY` (serve's own token writes wake the watcher every
    /// debounce period during a wave, and each read is 1,000 files).
    stale: bool,
    /// A test finished since the wake-up time was worked out (its server's next test counts
    /// again).
    rewake: bool,
    testing: HashSet<String>,
    work: JoinSet<Done>,
    refresh_slots: Arc<Semaphore>,
    /// The size of `refresh_slots`.
    refresh_jobs: usize,
    /// The soft open-file limit after serve raised it (None: unlimited).
    open_files: Option<u64>,
    stopping: CancellationToken,
    /// Upstream refusals the hosted proxy saw (empty without a proxy).
    refusals: super::proxy_host::Refusals,
    /// How the alerts word a fix (the CLI's wording: they are read at a shell).
    wording: ShellWording,
}

/// Descriptors one refresh holds at once: its token file's lock, its connection to the token
/// endpoint, and the temporary file and directory of its write.
const FILES_PER_REFRESH: u64 = 3;

/// Refreshes at once: as set, or fewer when the open-file limit leaves no room for them.
fn refresh_jobs(wanted: usize, soft_file_limit: Option<u64>) -> usize {
    let fit = soft_file_limit.map_or(usize::MAX, |soft| {
        let room = soft.saturating_sub(crate::ops::proxy::files::FILES_RESERVED) / FILES_PER_REFRESH;
        usize::try_from(room).unwrap_or(usize::MAX)
    });
    wanted.min(fit).max(1)
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

/// Runs serve until `shutdown`; `control` brings SIGHUP. `proxy` is what runs the IMAP proxy
/// alongside (None: no proxy).
pub async fn run(
    store: Store,
    flags: ServeSettings,
    allow_remote_metrics: bool,
    shutdown: CancellationToken,
    mut control: mpsc::Receiver<Control>,
    wording: ShellWording,
) -> Result<(), ServeError> {
    let held = status::hold(&store)?;
    // A wave holds descriptors for each refresh in flight; the usual soft limit of 1,024
    // would cap it (an unprivileged process may raise its soft limit to the hard one).
    let files = crate::services::open_files::raise_to_hard();
    let settings = store
        .load()
        .map_err(crate::ops::Error::from)?
        .settings
        .serve
        .overlaid(&flags);
    let jobs = refresh_jobs(settings.refresh_jobs(), files.soft);
    let metrics = Arc::new(Metrics::new().map_err(|e| ServeError::Metrics(e.to_string()))?);
    let board = Arc::new(Mutex::new(Board::default()));
    let mut hosting = Hosting::new(
        store.clone(),
        metrics.clone(),
        board.clone(),
        allow_remote_metrics,
        wording,
    );
    hosting.set_metrics(settings.metrics).await?;
    // serve.json is serve's own: its writes are no change to read the store again for.
    let (_watch, mut changes) =
        store_watch::watch_except(store.dir(), &[status::STATUS_FILE]).map_err(|e| ServeError::Watch {
            dir: store.dir().display().to_string(),
            reason: e.to_string(),
        })?;
    let (notifier, sender) = notifier::start(Channels::from_settings(&settings), metrics.clone());
    let started = Timestamp::now();
    let snapshot = Snapshot::load(&store)?;
    hosting
        .set_proxy(settings.proxy.unwrap_or(false), &snapshot.config.settings, true)
        .await;
    let mut engine = Engine {
        alerts: Alerts::new(settings.flap(), settings.remind()),
        refresh_slots: Arc::new(Semaphore::new(jobs)),
        refresh_jobs: jobs,
        open_files: files.soft,
        status: ServeStatus {
            pid: std::process::id(),
            started_at: started,
            updated_at: started,
            proxy: hosting.proxy_running(),
            metrics: hosting.metrics_addr().map(|a| a.to_string()),
            next: BTreeMap::new(),
        },
        store,
        flags,
        settings,
        started,
        applied: snapshot.config.settings.clone(),
        snapshot,
        metrics,
        board,
        notifier,
        held,
        retry_at: HashMap::new(),
        tested_at: HashMap::new(),
        refreshing: HashSet::new(),
        settled: Vec::new(),
        read_at: std::time::Instant::now(),
        stale: false,
        rewake: false,
        testing: HashSet::new(),
        work: JoinSet::new(),
        stopping: CancellationToken::new(),
        refusals: Default::default(),
        wording,
    };
    tracing::info!(
        servers = engine.snapshot.config.servers.len(),
        pid = engine.status.pid,
        refresh_jobs = jobs,
        open_files = ?files.soft,
        "serve started"
    );
    let watchdog = systemd::watchdog_interval();
    let mut watchdog_tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    watchdog_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ready = false;
    let mut ping_only = false;
    let mut failure = None;
    let mut wake = tokio::time::Instant::now();
    loop {
        let now = Timestamp::now();
        if !ping_only {
            engine.evaluate(now);
            engine.start_due(now);
            if !ready {
                systemd::ready(&engine.status_line());
                ready = true;
            } else {
                systemd::status(&engine.status_line());
            }
        }
        // Nothing that decides the wake-up time changes between judgements but a finished
        // test: a returning refresh stays in `refreshing` until the store is read again. So
        // the 1,000 servers are not gone through again for every returning batch of a wave.
        if !ping_only || engine.rewake {
            wake = tokio::time::Instant::now() + engine.next_wake(now);
            engine.rewake = false;
        }
        ping_only = false;
        let read_due = engine
            .stale
            .then(|| tokio::time::Instant::from_std(engine.read_at + WAVE_READ_EVERY));
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep_until(read_due.map_or(wake, |r| r.min(wake))) => {
                if engine.stale {
                    engine.reload_store();
                    engine.follow_settings(&mut hosting, false).await;
                }
            }
            Some(()) = changes.recv() => {
                if engine.work.is_empty() || engine.read_at.elapsed() >= WAVE_READ_EVERY {
                    tracing::debug!("store changed: read again");
                    engine.reload_store();
                    engine.follow_settings(&mut hosting, false).await;
                } else {
                    // Work in flight (a wave's own token writes, most likely): read at the
                    // wave's next read, at most WAVE_READ_EVERY from the last one.
                    engine.stale = true;
                    ping_only = true;
                }
            }
            Some(c) = control.recv() => match c {
                Control::Reload => {
                    systemd::reloading();
                    engine.reload_store();
                    engine.follow_settings(&mut hosting, true).await;
                    // systemd ends the reload on READY=1.
                    systemd::ready(&engine.status_line());
                }
            },
            Some(done) = engine.work.join_next(), if !engine.work.is_empty() => {
                if let Ok(done) = done {
                    engine.finish(done);
                }
                // The rest of a wave that is already back, in one go.
                while let Some(Ok(done)) = engine.work.try_join_next() {
                    engine.finish(done);
                }
                if engine.work.is_empty() || engine.read_at.elapsed() >= WAVE_READ_EVERY {
                    engine.reload_store();
                    engine.follow_settings(&mut hosting, false).await;
                } else {
                    // Nothing to judge anew until the store is read again.
                    ping_only = true;
                }
            }
            Some(news) = async {
                match hosting.proxy.as_mut() {
                    Some(p) => Some(p.next().await),
                    None => None,
                }
            }, if hosting.proxy_running() => match news {
                ProxyNews::Event(event) => engine.refusals.observe(&event, &engine.metrics),
                ProxyNews::Ended(ended) => {
                    // The proxy ends only on its own failure (a port taken). Started with
                    // serve, serve stops with it, so that systemd shows the error; started
                    // by a change of settings, serve goes on without it.
                    let fatal = hosting.proxy.take().is_some_and(|p| p.fatal);
                    engine.status.proxy = false;
                    engine.held.write(&engine.status);
                    if let Err(e) = ended {
                        tracing::error!(error = %e, "the IMAP proxy stopped");
                        if fatal {
                            failure = Some(ServeError::Proxy(e));
                            break;
                        }
                    }
                }
            },
            _ = watchdog_tick.tick(), if watchdog.is_some() => {
                systemd::watchdog();
                ping_only = true;
            }
        }
    }
    systemd::stopping();
    tracing::info!(in_flight = engine.work.len(), "serve stopping");
    engine.stopping.cancel();
    let hosting_stopped = tokio::spawn(hosting.stop());
    // Refreshes in flight finish and save what they were given; nothing new starts.
    let drained = tokio::time::timeout(STOP_GRACE, async {
        while let Some(done) = engine.work.join_next().await {
            if let Ok(done) = done {
                engine.finish(done);
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("work still running after the stop grace period was abandoned");
        engine.work.abort_all();
    }
    let _ = hosting_stopped.await;
    engine.held.remove();
    drop(engine.notifier);
    // Notifications already raised get their chance (bounded by their own time limits).
    let _ = tokio::time::timeout(Duration::from_secs(5), sender).await;
    tracing::info!("serve stopped");
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl Engine {
    fn reload_store(&mut self) {
        self.read_at = std::time::Instant::now();
        self.stale = false;
        for id in self.settled.drain(..) {
            self.refreshing.remove(&id);
        }
        match Snapshot::load(&self.store) {
            Ok(s) => self.snapshot = s,
            // A damaged file (someone editing by hand) keeps the last good view; said once
            // per change.
            Err(e) => tracing::warn!(error = %e, "the store could not be read; keeping the last good view"),
        }
    }

    /// Takes up the settings in the store (SIGHUP, or `always`: only when they changed
    /// since last time): intervals, alert windows and channels, the metrics address and the
    /// proxy.
    async fn follow_settings(&mut self, hosting: &mut Hosting, always: bool) {
        if !always && self.snapshot.config.settings == self.applied {
            return;
        }
        self.applied = self.snapshot.config.settings.clone();
        self.settings = self.applied.serve.overlaid(&self.flags);
        self.alerts
            .set_windows(self.settings.flap(), self.settings.remind());
        let jobs = refresh_jobs(self.settings.refresh_jobs(), self.open_files);
        if jobs != self.refresh_jobs {
            // Refreshes in flight keep their slots in the old pool; new ones take the new.
            self.refresh_slots = Arc::new(Semaphore::new(jobs));
            self.refresh_jobs = jobs;
        }
        let _ = self
            .notifier
            .send(Job::Channels(Channels::from_settings(&self.settings)));
        if let Err(e) = hosting.set_metrics(self.settings.metrics).await {
            tracing::error!(error = %e, "metrics and /healthz are not served");
        }
        hosting
            .set_proxy(self.settings.proxy.unwrap_or(false), &self.applied, false)
            .await;
        self.status.metrics = hosting.metrics_addr().map(|a| a.to_string());
        self.status.proxy = hosting.proxy_running();
        self.status.updated_at = Timestamp::now();
        self.held.write(&self.status);
        tracing::info!(
            metrics = ?self.status.metrics,
            proxy = self.status.proxy,
            "settings taken up"
        );
    }

    fn healths(&mut self, now: Timestamp) -> Vec<Health> {
        let names = self
            .snapshot
            .config
            .servers
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        self.refusals.retain(&names);
        self.snapshot
            .config
            .servers
            .iter()
            .map(|s| {
                let mut h = self.snapshot.health(s, now);
                self.refusals.apply(&mut h);
                h
            })
            .collect()
    }

    /// Health → alerts, metrics, /healthz, serve.json.
    fn evaluate(&mut self, now: Timestamp) {
        let healths = self.healths(now);
        let servers = &self.snapshot.config.servers;
        let announces = self.alerts.observe(
            servers
                .iter()
                .zip(&healths)
                .map(|(s, h)| (s.id.as_str(), h.level)),
            now,
        );
        let store_dir = self.store.dir().display().to_string();
        for a in announces {
            let Some((server, health)) = servers.iter().zip(&healths).find(|(s, _)| s.id == a.server_id)
            else {
                continue;
            };
            let n = Notification::new(&a, &server.username, health, &store_dir, now, self.wording);
            tracing::info!(server = %server.name, level = a.level.label(), reason = ?a.reason, "health changed: {}", n.text);
            let _ = self.notifier.send(Job::Send(Box::new(n)));
        }
        let rows: Vec<_> = servers
            .iter()
            .zip(&healths)
            .map(|(s, h)| (s, self.snapshot.tokens_of(&s.name), h))
            .collect();
        self.metrics.update(&rows);
        *self.board.lock().unwrap_or_else(|p| p.into_inner()) = Board {
            servers: servers
                .iter()
                .zip(&healths)
                .map(|(s, h)| (s.name.clone(), h.level, h.summary()))
                .collect(),
        };
        let next: BTreeMap<String, Next> = servers
            .iter()
            .map(|s| {
                let (refresh, test) = self.due_of(s);
                (s.id.clone(), Next { refresh, test })
            })
            .filter(|(_, n)| n.refresh.is_some() || n.test.is_some())
            .collect();
        if next != self.status.next || self.status.updated_at == self.started {
            self.status.next = next;
            self.status.updated_at = now;
            self.held.write(&self.status);
        }
    }

    fn due_of(&self, s: &crate::model::Server) -> (Option<Timestamp>, Option<Timestamp>) {
        let refresh = schedule::refresh_at(
            s,
            self.snapshot.tokens_of(&s.name),
            self.settings.refresh_lead(),
            self.retry_at.get(&s.id).copied(),
        );
        let test = schedule::test_at(
            s,
            self.settings.test_every(),
            self.started,
            self.tested_at.get(&s.id).copied(),
        );
        (refresh, test)
    }

    /// Starts every refresh and test that is due and not already running.
    fn start_due(&mut self, now: Timestamp) {
        let mut to_test = Vec::new();
        let lead = Policy::Ahead(signed(self.settings.refresh_lead()));
        // One copy of the configuration for the whole wave (each refresh reading config.json
        // again cost more than its own HTTP exchange).
        let mut wave_config: Option<Arc<Config>> = None;
        for s in &self.snapshot.config.servers {
            let (refresh, test) = self.due_of(s);
            if refresh.is_some_and(|at| at <= now) && !self.refreshing.contains(&s.id) {
                self.refreshing.insert(s.id.clone());
                let (store, name, id) = (self.store.clone(), s.name.clone(), s.id.clone());
                let config = wave_config
                    .get_or_insert_with(|| Arc::new(self.snapshot.config.clone()))
                    .clone();
                let slots = self.refresh_slots.clone();
                let stopping = self.stopping.clone();
                tracing::info!(server = %name, "refreshing the token ahead of expiry");
                self.work.spawn(async move {
                    let outcome = match slots.acquire_owned().await {
                        Ok(_permit) if !stopping.is_cancelled() => {
                            match fresh_token_in(&store, &config, &name, lead, Timestamp::now).await {
                                Ok(f) => Ok(f.warning),
                                Err(e) => Err(e.to_string()),
                            }
                        }
                        _ => Err("serve is stopping".into()),
                    };
                    Done::Refreshed { id, name, outcome }
                });
            }
            if test.is_some_and(|at| at <= now) && !self.testing.contains(&s.id) {
                to_test.push((s.id.clone(), s.name.clone()));
            }
        }
        if !to_test.is_empty() {
            let store = self.store.clone();
            let jobs = self.settings.test_jobs();
            let (ids, names): (Vec<String>, Vec<String>) = to_test.into_iter().unzip();
            for id in &ids {
                self.testing.insert(id.clone());
                self.tested_at.insert(id.clone(), now);
            }
            tracing::info!(servers = names.len(), "scheduled Test & Confirm");
            self.work.spawn(async move {
                let results = match crate::ops::test::test_servers(
                    &store,
                    names.clone(),
                    jobs,
                    Timeouts::default(),
                    |_| |_| {},
                )
                .await
                {
                    Ok(rows) => rows
                        .into_iter()
                        .map(|(n, r)| {
                            (
                                n,
                                r.map(|rep| format!("{} messages in INBOX", rep.messages))
                                    .map_err(|e| e.to_string()),
                            )
                        })
                        .collect(),
                    Err(e) => names.into_iter().map(|n| (n, Err(e.to_string()))).collect(),
                };
                Done::Tested { ids, results }
            });
        }
    }

    fn finish(&mut self, done: Done) {
        let now = Timestamp::now();
        match done {
            Done::Refreshed { id, name, outcome } => {
                self.settled.push(id.clone());
                match outcome {
                    Ok(None) => {
                        self.retry_at.remove(&id);
                        self.metrics.refreshed(&name, true);
                        tracing::info!(server = %name, "token fresh");
                    }
                    Ok(Some(warning)) | Err(warning) => {
                        self.retry_at.insert(id, now + signed(self.settings.retry()));
                        self.metrics.refreshed(&name, false);
                        tracing::warn!(server = %name, error = %warning, "refresh failed; the next try follows the retry delay");
                    }
                }
            }
            Done::Tested { ids, results } => {
                for id in ids {
                    self.testing.remove(&id);
                }
                self.rewake = true;
                for (name, r) in results {
                    match r {
                        Ok(summary) => tracing::info!(server = %name, "scheduled test passed: {summary}"),
                        Err(e) => tracing::warn!(server = %name, error = %e, "scheduled test failed"),
                    }
                }
            }
        }
    }

    /// How long to sleep: until the next refresh, test or alert falls due.
    fn next_wake(&self, now: Timestamp) -> Duration {
        let mut next = now + signed(MAX_SLEEP);
        for s in &self.snapshot.config.servers {
            let (refresh, test) = self.due_of(s);
            if let Some(at) = refresh.filter(|_| !self.refreshing.contains(&s.id)) {
                next = next.min(at);
            }
            if let Some(at) = test.filter(|_| !self.testing.contains(&s.id)) {
                next = next.min(at);
            }
        }
        if let Some(at) = self.alerts.next_due() {
            next = next.min(at);
        }
        let wait = next.duration_since(now);
        // Round up a little, so that waking exactly at a due time finds it due.
        Duration::try_from(wait).unwrap_or(Duration::ZERO) + Duration::from_millis(5)
    }

    /// `STATUS=` for systemctl: counts by level and work in flight.
    fn status_line(&self) -> String {
        let board = self.board.lock().unwrap_or_else(|p| p.into_inner());
        let count = |l: Level| board.servers.iter().filter(|(_, level, _)| *level == l).count();
        format!(
            "{} servers: {} OK, {} WARNING, {} CRITICAL; {} refreshing, {} testing",
            board.servers.len(),
            count(Level::Ok),
            count(Level::Warning),
            count(Level::Critical) + count(Level::Unknown),
            self.refreshing.len(),
            self.testing.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::serve::DEFAULT_REFRESH_JOBS;

    #[test]
    fn a_wave_runs_only_as_many_refreshes_as_the_open_file_limit_has_room_for() {
        assert_eq!(
            refresh_jobs(DEFAULT_REFRESH_JOBS, None),
            DEFAULT_REFRESH_JOBS,
            "no limit"
        );
        assert_eq!(
            refresh_jobs(DEFAULT_REFRESH_JOBS, Some(1 << 20)),
            DEFAULT_REFRESH_JOBS
        );
        // 1,024 files: 64 kept for the rest, 3 per refresh.
        assert_eq!(refresh_jobs(DEFAULT_REFRESH_JOBS, Some(1024)), 320);
        assert_eq!(refresh_jobs(64, Some(1024)), 64, "as set when it fits");
        assert_eq!(
            refresh_jobs(DEFAULT_REFRESH_JOBS, Some(10)),
            1,
            "one at a time at worst, never none"
        );
    }
}
