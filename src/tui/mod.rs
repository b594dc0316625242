//! The interactive face (`inbound` with no arguments): a ratatui app over the same core as
//! the CLI. Elm-style: `state` (Model, pure update, Msg/Cmd, key table), `ui` (pure render),
//! `app` (the loop and the effects runner that calls the core).

pub mod app;
pub mod state;
pub mod terminal;
#[doc(hidden)]
pub mod testing;
pub mod ui;

use crate::exit;
use crate::services::browser::Situation;
use crate::store::Store;
use app::App;
use app::effects::{FIRST_TOKENS, StoreEffects, snapshot, snapshot_first};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use state::msg::Msg;
use state::{Env, Model};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Printed instead of starting when stdin or stdout is not a terminal.
pub fn non_tty_message() -> String {
    "inbound: the interactive app needs a terminal (stdin and stdout are not both a TTY).\n\
     Use the commands instead, for example:\n\
     \x20 inbound list                 servers, state and token health\n\
     \x20 inbound add NAME --username … --client-id … --tenant … --secret-stdin\n\
     \x20 inbound connect NAME --no-browser\n\
     \x20 inbound test NAME\n\
     See inbound --help."
        .to_string()
}

/// True when `NO_COLOR` asks for no colour (set and not empty).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Entry from `main`: checks the terminal, opens the store, runs the app; returns the exit code.
/// With `open` (`inbound NAME`), the app opens on that stored server; a name not stored is
/// refused before the terminal is asked for, with the names like it.
pub async fn main(config_dir: Option<PathBuf>, allow_other_owner: bool, open: Option<String>) -> u8 {
    let open_store = || {
        Store::open_with(config_dir.clone(), allow_other_owner).map_err(|e| {
            eprintln!("inbound: {}", crate::sanitize::terminal(&e.to_string()));
            exit::STORE
        })
    };
    // A name is checked first: `inbound helpdsk` in a script says what is stored, not that
    // a terminal is missing.
    if let Some(name) = &open {
        let checked = open_store().and_then(|store| check_open(&store, name));
        if let Err(code) = checked {
            return code;
        }
    }
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        eprintln!("{}", non_tty_message());
        return exit::USAGE;
    }
    match open_store() {
        Ok(store) => run_inner(store, None, open).await,
        Err(code) => code,
    }
}

/// `inbound NAME`: the name must be a stored server's (else the similar ones are named).
fn check_open(store: &Store, name: &str) -> Result<(), u8> {
    let config = store.load().map_err(|e| {
        eprintln!("inbound: {}", crate::sanitize::terminal(&e.to_string()));
        exit::STORE
    })?;
    if config.server(name).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
    let text = crate::ops::similar::no_server_named(name, &names);
    eprintln!(
        "inbound: {}\n(inbound NAME opens the app on a stored server; the commands are in inbound --help.)",
        crate::sanitize::terminal(&text)
    );
    Err(exit::NOT_FOUND)
}

/// Runs the app on `store` (the caller checked that a terminal is there).
pub async fn run(store: Store) -> u8 {
    run_with(store, None).await
}

/// What `inbound demo` gives the app: the wizard's prefill, and who plays the person at the
/// browser (the sign-in key).
pub struct DemoMode {
    pub prefill: state::demo::Demo,
    pub user: std::sync::Arc<dyn app::stand_in::StandInUser>,
}

/// Like [`run`]; with `demo`, as `inbound demo` (DEMO header, prefilled wizard, sign-in key).
pub async fn run_with(store: Store, demo: Option<DemoMode>) -> u8 {
    run_inner(store, demo, None).await
}

async fn run_inner(store: Store, demo: Option<DemoMode>, open: Option<String>) -> u8 {
    let (demo, stand_in) = match demo {
        Some(d) => (Some(d.prefill), Some(d.user)),
        None => (None, None),
    };
    let log = crate::logging::init(&store.log_dir());
    // Read before taking the terminal, so a damaged store prints a plain error. Only the first
    // servers' token files (more than any screen shows): the rest follow in the background.
    let data = match snapshot_first(&store, FIRST_TOKENS) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("inbound: {}", crate::sanitize::terminal(&e.to_string()));
            return exit::STORE;
        }
    };
    let env = Env {
        situation: Situation::from_env(),
        log_path: log.describe(),
        color: !no_color(),
        hyperlinks: true,
        demo,
    };
    let data_pending = data.pending > 0;
    let mut model = Model::new(data, Timestamp::now(), TimeZone::system(), env);
    if let Some(name) = &open {
        model.open_on(name);
    }
    tracing::info!("interactive app started");
    let signals = match Signals::register() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("inbound: cannot listen for signals: {e}");
            return exit::FAILED;
        }
    };
    terminal::install_panic_hook();
    let (guard, mut term) = match terminal::TerminalGuard::enter() {
        Ok(t) => t,
        Err(e) => {
            terminal::restore();
            eprintln!("inbound: cannot use the terminal: {e}");
            return exit::FAILED;
        }
    };
    let pending = data_pending;
    let mut effects = StoreEffects::new(store.clone());
    if let Some(user) = stand_in {
        effects = effects.with_stand_in(user);
    }
    let mut app = App::new(model, effects).with_mouse(terminal::set_mouse);
    // Changes by the CLI, serve or another app show without a key press; without a watch
    // (no inotify left, say) they show at the next read, as before.
    let _watch = match app::watch::follow_store(&store, app.sender()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "the store is not watched: changes by others show at the next read");
            None
        }
    };
    if pending {
        let tx = app.sender();
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(Msg::Loaded(snapshot(&store)));
        });
    }
    let signals = tokio::spawn(signals.forward(app.sender()));
    let events = ratatui::crossterm::event::EventStream::new();
    let result = app.run(&mut term, events).await;
    signals.abort();
    let interrupted = app.model.interrupted;
    let signal = app.model.signal;
    let copied = std::mem::take(&mut app.model.copied);
    drop(app);
    // ratatui's Drop reports a failure to show the cursor with eprintln!, which panics when
    // the terminal is gone (SSH dropped) and would skip every clean-up after us; the guard's
    // restore shows the cursor anyway.
    std::mem::forget(term);
    drop(guard);
    tracing::info!("interactive app stopped");
    // The copy that cannot fail: whatever was copied, now in the normal scrollback, whole.
    if !copied.is_empty() {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Copied in this session:");
        for (what, text) in &copied {
            let _ = writeln!(out, "  {what}: {}", crate::sanitize::terminal(text));
        }
        let _ = out.flush();
    }
    match result {
        Ok(()) if interrupted => signal.map_or(exit::INTERRUPTED, exit::for_signal),
        Ok(()) => exit::OK,
        Err(e) => {
            // The terminal may be gone (SSH dropped): eprintln! would panic on EIO and skip
            // the caller's clean-up.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "inbound: {}",
                crate::sanitize::terminal(&e.to_string())
            );
            exit::FAILED
        }
    }
}

/// SIGTERM, SIGHUP (SSH dropped) and SIGINT end the app through the normal path, so the
/// terminal is restored. Registered before the first frame, so no signal finds the default
/// action (which would leave the terminal raw).
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
    _xfsz: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
            // SIGQUIT (Ctrl-\\) would otherwise end the process with the terminal raw.
            quit: signal(SignalKind::quit())?,
            _xfsz: crate::services::signals::ignore_file_size_limit(),
        })
    }

    async fn forward(mut self, tx: tokio::sync::mpsc::UnboundedSender<Msg>) {
        let name = tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
            _ = self.int.recv() => "SIGINT",
            _ = self.quit.recv() => "SIGQUIT",
        };
        tracing::info!(signal = name, "leaving on signal");
        let _ = tx.send(Msg::Signal(name));
    }
}
