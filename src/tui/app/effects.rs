//! The effects runner: each `Cmd` becomes a tokio task that reports back with `Msg`s tagged
//! by its run. All store, OAuth and IMAP work is the core's; this only calls it.

use super::stand_in::StandInUser;
use crate::ops::consent::{self, ConsentOptions};
use crate::ops::preflight::{self, Checklist, PreflightOptions, Progress};
use crate::ops::servers::{AppPatch, add_server, edit_server_and_app, remove_server};
use crate::ops::tokens::{Policy, fresh_token};
use crate::ops::{Error, test};
use crate::secret::Secret;
use crate::services::browser;
use crate::services::imap::{ProbeEvent, Timeouts};
use crate::services::oauth::device;
use crate::store::Store;
use crate::tui::state::cmd::{Cmd, SaveRequest, StandInVisit};
use crate::tui::state::msg::{
    ConsentEvent, Failure, Msg, PreflightEvent, ProbeFailure, RunId, SaveError, Snapshot, TestEvent,
};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;

/// Runs commands; the headless tests put a recorder in its place.
pub trait Effects {
    fn run(&mut self, cmd: Cmd, tx: &UnboundedSender<Msg>);
}

/// Token files read before the first frame: more rows than a screen shows.
pub const FIRST_TOKENS: usize = 200;

/// Reads the configuration and every server's token file (the core's [`Snapshot::load`]).
pub fn snapshot(store: &Store) -> Result<Snapshot, Arc<Error>> {
    Snapshot::load(store).map_err(Arc::new)
}

/// The configuration and the token files of the first `first` servers only (the core's
/// [`Snapshot::load_first`]); `pending` counts the rest.
pub fn snapshot_first(store: &Store, first: usize) -> Result<Snapshot, Error> {
    Snapshot::load_first(store, first)
}

/// Pre-flight without setup-code lag has three quick requests; a network that does not answer
/// must not hold the form: past this it is "unknown" (a warning, the save goes on).
const PREFLIGHT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// With replication lag waited out (the back-off sums to about a minute).
const PREFLIGHT_LAG_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(100);

/// Runs pre-flight for what `request` would store: a new server's input, or the app as an
/// edit would leave it (only when the edit touches credentials).
async fn preflight(
    store: &Store,
    request: &SaveRequest,
    opts: &PreflightOptions,
    progress: impl FnMut(Progress),
) -> Result<Option<Checklist>, Error> {
    match request {
        SaveRequest::Add { input, .. } => preflight::check_input(store, input, opts, progress).await,
        SaveRequest::Edit {
            app: Some((app, patch)),
            ..
        } if preflight::patch_changes_credentials(patch) => {
            let app = preflight::app_after_patch(store, app, patch)?;
            Ok(Some(preflight::run(&app, opts, progress).await))
        }
        SaveRequest::Edit { .. } => Ok(None),
    }
}

/// The core's error as the app keeps it: its words, its field and its fix (snapshot fixtures
/// make theirs here too, so they show what people see).
pub(crate) fn failure(e: &Error) -> Failure {
    use crate::services::oauth::CredentialField;
    use crate::tui::state::wizard::form::FieldId;
    Failure {
        field: e.credential_field().map(|f| match f {
            CredentialField::ClientId => FieldId::ClientId,
            CredentialField::Tenant => FieldId::Tenant,
            CredentialField::Secret => FieldId::Secret,
        }),
        fix: e.fix(),
        ..Failure::new(e.to_string(), e.hint())
    }
}

/// Writes text to the terminal's clipboard (OSC 52 in production) and says how.
type Clipboard = Box<dyn FnMut(&str) -> std::io::Result<super::clipboard::Route> + Send>;

/// The real runner, on the store.
pub struct StoreEffects {
    store: Store,
    cancels: HashMap<RunId, CancellationToken>,
    pastes: HashMap<RunId, mpsc::Sender<String>>,
    clipboard: Clipboard,
    /// Inside tmux copies go through tmux itself, on a blocking thread.
    tmux: bool,
    /// Who plays the person at the browser, when someone does (`inbound demo`).
    stand_in: Option<Arc<dyn StandInUser>>,
}

impl StoreEffects {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cancels: HashMap::new(),
            pastes: HashMap::new(),
            clipboard: Box::new(super::clipboard::send),
            tmux: super::clipboard::in_tmux(),
            stand_in: None,
        }
    }

    /// Gives the runner a stand-in for the person at the browser ([`Cmd::StandInSignIn`]).
    pub fn with_stand_in(mut self, user: Arc<dyn StandInUser>) -> Self {
        self.stand_in = Some(user);
        self
    }

    fn stand_in_sign_in(&self, run: RunId, visit: StandInVisit, tx: &UnboundedSender<Msg>) {
        let tx = tx.clone();
        let failed = move |why: String| {
            let _ = tx.send(Msg::Consent {
                run,
                event: ConsentEvent::Browser(Err(browser::BrowserError::Launcher(why))),
            });
        };
        let Some(user) = self.stand_in.clone() else {
            return failed("no stand-in user here: only inbound demo has one".into());
        };
        let device = matches!(visit, StandInVisit::DeviceCode { .. });
        tokio::spawn(async move {
            match user.visit(visit).await {
                Ok(()) => {}
                // The device-code screen has no browser line: the poll goes on, and says so.
                Err(e) if device => tracing::warn!(run, error = %e, "stand-in device-code sign-in failed"),
                Err(e) => failed(e),
            }
        });
    }

    fn token(&mut self, run: RunId) -> CancellationToken {
        // Forget finished runs so the map stays small.
        self.cancels.retain(|_, t| !t.is_cancelled());
        let t = CancellationToken::new();
        self.cancels.insert(run, t.clone());
        t
    }

    fn reload(&self, tx: &UnboundedSender<Msg>) {
        let store = self.store.clone();
        let tx = tx.clone();
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(Msg::Loaded(snapshot(&store)));
        });
    }

    fn save(&self, run: RunId, request: SaveRequest, tx: &UnboundedSender<Msg>) {
        let store = self.store.clone();
        let tx = tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = save(&store, request);
            if result.is_ok() {
                let _ = tx.send(Msg::Loaded(snapshot(&store)));
            }
            let _ = tx.send(Msg::Saved { run, result });
        });
    }

    fn preflight(&mut self, run: RunId, request: SaveRequest, just_created: bool, tx: &UnboundedSender<Msg>) {
        let store = self.store.clone();
        let tx = tx.clone();
        let cancel = self.token(run);
        tokio::spawn(async move {
            let opts = PreflightOptions {
                just_created,
                ..PreflightOptions::default()
            };
            let progress_tx = tx.clone();
            let progress = move |p: Progress| {
                let event = match p {
                    Progress::Checking(item) => PreflightEvent::Checking(item),
                    Progress::Waiting(wait) => PreflightEvent::Waiting(wait.message()),
                };
                let _ = progress_tx.send(Msg::Preflight { run, event });
            };
            let limit = if just_created {
                PREFLIGHT_LAG_TIMEOUT
            } else {
                PREFLIGHT_TIMEOUT
            };
            let result = tokio::select! {
                r = tokio::time::timeout(limit, preflight(&store, &request, &opts, progress)) => r,
                () = cancel.cancelled() => return,
            };
            cancel.cancel();
            let result = match result {
                Ok(Ok(list)) => Ok(list),
                Ok(Err(e)) => Err(SaveError::from_core(e)),
                Err(_) => Err(SaveError::TimedOut {
                    secs: limit.as_secs(),
                }),
            };
            let _ = tx.send(Msg::Preflight {
                run,
                event: PreflightEvent::Done(result),
            });
        });
    }

    /// The one listening session of the runner, for the sign-in and the admin consent alike:
    /// binds the listener (its own `state`), says where it waits, takes pastes for its run,
    /// and reports how it ended.
    fn listen(&mut self, run: RunId, server: String, flow: Awaited, tx: &UnboundedSender<Msg>) {
        let store = self.store.clone();
        let tx = tx.clone();
        let cancel = self.token(run);
        let (paste_tx, paste_rx) = mpsc::channel(4);
        self.pastes.retain(|_, p| !p.is_closed());
        self.pastes.insert(run, paste_tx);
        tokio::spawn(async move {
            let send = |event| {
                let _ = tx.send(Msg::Consent { run, event });
            };
            let begun = tokio::select! {
                r = Session::begin(flow, &store, &server) => r,
                () = cancel.cancelled() => return send(ConsentEvent::Cancelled),
            };
            let session = match begun {
                Ok(s) => s,
                Err(e) => return send(ended(Err(e))),
            };
            let (timeout, ready) = ready(&store, session.link(), session.port());
            send(ready);
            let result = session
                .wait(&store, timeout, cancel.clone(), paste_rx, paste_notes(&tx, run))
                .await;
            cancel.cancel();
            send(ended(result));
        });
    }

    /// Device-code sign-in; the code and each poll's outcome go to the screen.
    fn device(&mut self, run: RunId, server: String, tx: &UnboundedSender<Msg>) {
        let store = self.store.clone();
        let tx = tx.clone();
        let cancel = self.token(run);
        tokio::spawn(async move {
            let send = |tx: &UnboundedSender<Msg>, event| {
                let _ = tx.send(Msg::Consent { run, event });
            };
            let code_tx = tx.clone();
            let on_code = move |auth: &device::DeviceAuthorization| {
                let secs = i64::try_from(auth.expires_in).unwrap_or(900);
                send(
                    &code_tx,
                    ConsentEvent::DeviceCode {
                        user_code: auth.user_code.clone(),
                        uri: auth.verification_uri.clone(),
                        deadline: Timestamp::now() + SignedDuration::from_secs(secs),
                        interval: auth.interval,
                    },
                );
            };
            let poll_tx = tx.clone();
            let on_event = move |ev: device::PollEvent| send(&poll_tx, ConsentEvent::DevicePoll(ev));
            let result = consent::device_sign_in(&store, &server, &cancel, on_code, on_event).await;
            cancel.cancel();
            send(&tx, ended(result.map(ConsentEvent::Connected)));
        });
    }

    fn test(&mut self, run: RunId, server: String, tx: &UnboundedSender<Msg>) {
        let store = self.store.clone();
        let tx = tx.clone();
        let cancel = self.token(run);
        tokio::spawn(async move {
            let progress_tx = tx.clone();
            let progress = move |ev: ProbeEvent| {
                let _ = progress_tx.send(Msg::Test {
                    run,
                    event: TestEvent::Progress(ev),
                });
            };
            let result = tokio::select! {
                r = test::test_server(&store, &server, Timeouts::default(), progress) => r,
                () = cancel.cancelled() => return,
            };
            cancel.cancel();
            let outcome = match result {
                Ok(report) => Ok(report.messages),
                Err(e) => {
                    // The screen names the stage itself, so a probe error shows its own words.
                    let (stage, message) = match &e {
                        Error::Probe { source, .. } => (Some(source.stage()), source.to_string()),
                        e => (None, e.to_string()),
                    };
                    Err(ProbeFailure {
                        stage,
                        message,
                        hint: e.hint(),
                        fix: e.fix(),
                    })
                }
            };
            let _ = tx.send(Msg::Test {
                run,
                event: TestEvent::Finished(outcome),
            });
        });
    }

    fn refresh(&self, run: RunId, server: String, force: bool, tx: &UnboundedSender<Msg>) {
        let store = self.store.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let policy = if force { Policy::Force } else { Policy::WhenDue };
            let result = match fresh_token(&store, &server, policy, Timestamp::now).await {
                Ok(f) => match f.warning {
                    Some(w) => Err(Failure::new(w, None)),
                    None => Ok(()),
                },
                Err(e) => Err(failure(&e)),
            };
            // What the refresh wrote (tokens, or the failure and its back-off) patches the
            // app's snapshot: one token file read, not the whole store.
            let read = {
                let (store, server) = (store.clone(), server.clone());
                tokio::task::spawn_blocking(move || Snapshot::read_tokens_of(&store, &server))
                    .await
                    .unwrap_or_else(|e| Err(Error::Io(e.to_string())))
            };
            let _ = tx.send(Msg::TokensRead {
                server: server.clone(),
                result: read.map_err(Arc::new),
            });
            let _ = tx.send(Msg::Refreshed { run, server, result });
        });
    }
}

/// How long a listening sign-in waits (the settings'), and the event that shows its link and
/// deadline.
fn ready(store: &Store, auth_url: String, port: u16) -> (std::time::Duration, ConsentEvent) {
    let timeout = store
        .load()
        .map_or(consent::DEFAULT_TIMEOUT, |c| c.settings.consent_timeout());
    let secs = i64::try_from(timeout.as_secs()).unwrap_or(300);
    let event = ConsentEvent::Ready {
        auth_url,
        port,
        deadline: Timestamp::now() + SignedDuration::from_secs(secs),
    };
    (timeout, event)
}

/// What became of a paste: not used (why), or the admin consent link's answer, recorded.
fn paste_notes(tx: &UnboundedSender<Msg>, run: RunId) -> impl FnMut(consent::PasteNote) + use<> {
    let tx = tx.clone();
    move |note| {
        let event = match note {
            consent::PasteNote::NotUsed(why) => ConsentEvent::PasteRejected(why),
            consent::PasteNote::AdminConsentRecorded(g) => ConsentEvent::AdminGranted(g),
        };
        let _ = tx.send(Msg::Consent { run, event });
    }
}

/// Which browser flow a listening session waits for.
#[derive(Debug, Clone, Copy)]
enum Awaited {
    SignIn,
    AdminConsent,
}

/// A bound listening session of either flow (the core's).
enum Session {
    SignIn(consent::Consent),
    AdminConsent(consent::AdminConsent),
}

impl Session {
    async fn begin(flow: Awaited, store: &Store, server: &str) -> Result<Self, Error> {
        let opts = ConsentOptions::default();
        Ok(match flow {
            Awaited::SignIn => Session::SignIn(consent::begin(store, server, &opts).await?),
            Awaited::AdminConsent => {
                Session::AdminConsent(consent::begin_admin_consent(store, server, &opts).await?)
            }
        })
    }

    /// The link to open or copy.
    fn link(&self) -> String {
        match self {
            Session::SignIn(c) => c.auth_url.clone(),
            Session::AdminConsent(c) => c.url.clone(),
        }
    }

    fn port(&self) -> u16 {
        match self {
            Session::SignIn(c) => c.port(),
            Session::AdminConsent(c) => c.port(),
        }
    }

    /// Waits for the browser or a paste; the event that ends the flow well.
    async fn wait(
        self,
        store: &Store,
        timeout: std::time::Duration,
        cancel: CancellationToken,
        mut pastes: mpsc::Receiver<String>,
        mut notes: impl FnMut(consent::PasteNote),
    ) -> Result<ConsentEvent, Error> {
        match self {
            Session::SignIn(c) => c
                .wait_any(store, timeout, cancel, Some(pastes), notes)
                .await
                .map(ConsentEvent::Connected),
            Session::AdminConsent(c) => c
                .wait_any(store, timeout, cancel, Some(&mut pastes), |why| {
                    notes(consent::PasteNote::NotUsed(why));
                })
                .await
                .map(ConsentEvent::AdminGranted),
        }
    }
}

/// The end of a sign-in or an admin consent, for the screen.
fn ended(result: Result<ConsentEvent, Error>) -> ConsentEvent {
    match result {
        Ok(done) => done,
        Err(Error::Cancelled) => ConsentEvent::Cancelled,
        Err(Error::NeedsAdminConsent(need)) => ConsentEvent::NeedsAdminConsent(need),
        Err(e) => ConsentEvent::Failed(failure(&e)),
    }
}

/// Stores a new client secret and its expiry for `app` (the core lifts the blockers a new
/// secret fixes).
/// The core's [`credentials::replace`]: the new secret is proven with Microsoft before it
/// replaces the old one (as the CLI's `edit --app --secret-stdin`), unless `unchecked`.
async fn rotate(
    store: &Store,
    app: &str,
    secret: Secret,
    expires: String,
    unchecked: bool,
) -> Result<(), SaveError> {
    use crate::ops::credentials::{self, Proof};
    let patch = AppPatch {
        secret: Some(secret),
        secret_expires: Some(expires),
        ..AppPatch::default()
    };
    let proof = if unchecked { Proof::Skip } else { Proof::Required };
    let opts = PreflightOptions::default();
    let replace = credentials::replace(store, app, &patch, proof, &opts, |_| {});
    match tokio::time::timeout(PREFLIGHT_TIMEOUT, replace).await {
        Ok(result) => result.map(drop).map_err(SaveError::from_core),
        Err(_) => Err(SaveError::TimedOut {
            secs: PREFLIGHT_TIMEOUT.as_secs(),
        }),
    }
}

fn save(store: &Store, request: SaveRequest) -> Result<String, SaveError> {
    let other = SaveError::from_core;
    match request {
        // The core validates (every field error at once) inside the store write;
        // `just_created` is for the save's pre-flight (PreflightOptions::just_created).
        SaveRequest::Add { input, .. } => add_server(store, &input).map(|s| s.name).map_err(other),
        SaveRequest::Edit { name, patch, app } => {
            // One store write: a failure in either part leaves both as they were.
            let app = app.as_ref().map(|(a, p)| (a.as_str(), &**p));
            edit_server_and_app(store, &name, &patch, app)
                .map(|s| s.name)
                .map_err(other)
        }
    }
}

impl Effects for StoreEffects {
    fn run(&mut self, cmd: Cmd, tx: &UnboundedSender<Msg>) {
        match cmd {
            Cmd::Reload => self.reload(tx),
            Cmd::Import { run, path, dry_run } => {
                let store = self.store.clone();
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = import_file(&store, &path, dry_run);
                    let _ = tx.send(Msg::Imported { run, dry_run, result });
                });
            }
            Cmd::Preflight {
                run,
                request,
                just_created,
            } => self.preflight(run, request, just_created, tx),
            Cmd::AdminConsent { run, server } => self.listen(run, server, Awaited::AdminConsent, tx),
            Cmd::Save { run, request } => self.save(run, request, tx),
            Cmd::Delete { run, name } => {
                let store = self.store.clone();
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = remove_server(&store, &name).map_err(Arc::new);
                    let _ = tx.send(Msg::Deleted { run, name, result });
                });
            }
            Cmd::Connect { run, server } => self.listen(run, server, Awaited::SignIn, tx),
            Cmd::PasteAddress { run, text } => {
                if let Some(p) = self.pastes.get(&run) {
                    let _ = p.try_send(text.expose().to_string());
                }
            }
            Cmd::DeviceSignIn { run, server } => self.device(run, server, tx),
            Cmd::RotateSecret {
                run,
                app,
                secret,
                expires,
                unchecked,
            } => {
                let store = self.store.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let result = rotate(&store, &app, secret, expires, unchecked).await;
                    if result.is_ok() {
                        let _ = tx.send(Msg::Loaded(snapshot(&store)));
                    }
                    let _ = tx.send(Msg::SecretSaved { run, result });
                });
            }
            Cmd::SaveSettings { run, patch } => {
                let store = self.store.clone();
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = crate::ops::settings::update_settings(&store, &patch)
                        .map(drop)
                        .map_err(SaveError::from_core);
                    if result.is_ok() {
                        let _ = tx.send(Msg::Loaded(snapshot(&store)));
                    }
                    let _ = tx.send(Msg::SettingsSaved { run, result });
                });
            }
            Cmd::OpenBrowser { run, url } => {
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = browser::open(&url);
                    let _ = tx.send(Msg::Consent {
                        run,
                        event: ConsentEvent::Browser(result),
                    });
                });
            }
            Cmd::StandInSignIn { run, visit } => self.stand_in_sign_in(run, visit, tx),
            Cmd::Cancel(run) => {
                if let Some(t) = self.cancels.remove(&run) {
                    t.cancel();
                }
                self.pastes.remove(&run);
            }
            Cmd::Test { run, server } => self.test(run, server, tx),
            Cmd::BulkTest { run, servers } => {
                let cancel = self.token(run);
                super::bulk::test(self.store.clone(), run, servers, cancel, tx.clone());
            }
            Cmd::BulkRefresh { run, servers } => {
                let cancel = self.token(run);
                super::bulk::refresh(self.store.clone(), run, servers, cancel, tx.clone());
            }
            Cmd::Refresh { run, server, force } => self.refresh(run, server, force, tx),
            Cmd::Copy { text, what } => {
                if self.tmux {
                    // Waits for the tmux process: off the UI task.
                    let tx = tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let result = super::clipboard::tmux_load_buffer(&text)
                            .map(|()| super::clipboard::Route::TmuxBuffer)
                            .map_err(|e| {
                                tracing::warn!(error = %e, "tmux load-buffer failed");
                                super::clipboard::CopyError::Tmux(std::sync::Arc::new(e))
                            });
                        let _ = tx.send(Msg::Copied { what, result });
                    });
                    return;
                }
                let result = (self.clipboard)(&text).map_err(|e| {
                    tracing::warn!(error = %e, "copy failed");
                    super::clipboard::CopyError::Terminal(std::sync::Arc::new(e))
                });
                let _ = tx.send(Msg::Copied { what, result });
            }
        }
    }
}

impl Drop for StoreEffects {
    /// Leaving stops every sign-in and test (listeners free their ports).
    fn drop(&mut self) {
        for t in self.cancels.values() {
            t.cancel();
        }
    }
}

/// The core's import of the file at `path` as typed (a leading `~/` is the home directory),
/// its answer as the app shows it.
fn import_file(
    store: &Store,
    path: &str,
    dry_run: bool,
) -> Result<Vec<String>, crate::tui::state::review::import::ImportFailure> {
    use crate::ops::import::{ImportError, import};
    use crate::tui::state::review::import::ImportFailure;
    let path = match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::PathBuf::from(home).join(rest),
        _ => std::path::PathBuf::from(path),
    };
    match import(store, &path, dry_run) {
        Ok(done) => Ok(done.servers.into_iter().map(|s| s.name).collect()),
        Err(e) => {
            let rows = match &e {
                ImportError::Rows { rows, .. } => rows.iter().map(ToString::to_string).collect(),
                _ => Vec::new(),
            };
            Err(ImportFailure {
                message: e.to_string(),
                rows,
            })
        }
    }
}
