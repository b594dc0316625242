//! The two faces of `inbound demo`: the app on the demo store, or (`--print-env`) shell lines
//! for trying the commands against the stand-ins until Ctrl-C.

use super::seed::{self, CONFIRMED, FAILING};
use super::{CLIENT_ID, CLIENT_SECRET, Demo, HOST, NEW_CLIENT_ID, NEW_CLIENT_SECRET, TENANT, USER};
use crate::exit;
use crate::tui::state::demo::Demo as Prefill;
use crate::tui::state::wizard::form::FieldId;
use std::io::{IsTerminal, Write};

/// The name the wizard proposes for the new server.
pub const NEW_SERVER: &str = "Support inbox";

/// How `inbound demo` runs (the CLI fills it from its flags).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep the store and CA file in this directory (new or empty) instead of a temporary one.
    pub keep: Option<std::path::PathBuf>,
    /// No app: print shell lines for trying the commands against the stand-ins.
    pub print_env: bool,
}

pub async fn run(args: Options) -> u8 {
    // Taken first: the process that started us, whose end ends `--print-env`.
    let parent = rustix::process::getppid();
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if !args.print_env && !tty {
        eprintln!(
            "inbound demo: the interactive app needs a terminal (stdin and stdout are not both a TTY).\n\
             Without one, inbound demo --print-env starts the stand-ins for the commands."
        );
        return exit::USAGE;
    }
    // Ctrl-C while the demo sets up drops the half-made demo, which removes its files.
    let started = tokio::select! {
        d = Demo::start(args.keep) => d,
        _ = tokio::signal::ctrl_c() => return exit::INTERRUPTED,
    };
    let demo = match started {
        Ok(d) => d,
        Err(e) => {
            eprintln!("inbound demo: {e}");
            return exit::FAILED;
        }
    };
    let code = if args.print_env {
        print_env(&demo, parent).await
    } else {
        let mode = crate::tui::DemoMode {
            prefill: prefill(&demo),
            user: std::sync::Arc::new(super::browser::ScriptedUser),
        };
        crate::tui::run_with(demo.store.clone(), Some(mode)).await
    };
    let (root, kept) = (demo.root().to_path_buf(), demo.kept());
    // Stops the stand-ins and, unless kept, removes the store.
    drop(demo);
    if kept {
        // Not eprintln!: after an SSH drop there is no terminal, and it would panic.
        let _ = writeln!(
            std::io::stderr(),
            "inbound demo: the demo store is kept in {}",
            root.display()
        );
    }
    code
}

/// What the wizard starts with, so that Enter walks every step.
fn prefill(demo: &Demo) -> Prefill {
    let s = &demo.stand_ins;
    let secret_expires = seed::days_from_today(365);
    Prefill {
        setup_code: Some(super::setup_code(s, &secret_expires)),
        secret_expires,
        fields: vec![
            (FieldId::Name, NEW_SERVER.into()),
            (FieldId::Host, HOST.into()),
            (FieldId::Port, s.imap.port().to_string()),
            (FieldId::Username, USER.into()),
            (FieldId::Secret, NEW_CLIENT_SECRET.into()),
            (FieldId::ClientId, NEW_CLIENT_ID.into()),
            (FieldId::Tenant, TENANT.into()),
            (FieldId::Authority, s.authority()),
            (FieldId::CaFile, s.ca_file.display().to_string()),
        ],
    }
}

/// Single-quoted for sh.
fn quote(s: &str) -> String {
    crate::model::quote::posix(s)
}

async fn print_env(demo: &Demo, parent: Option<rustix::process::Pid>) -> u8 {
    let interrupts = Interrupts::listen();
    let s = &demo.stand_ins;
    let lines = [
        format!(
            "export INBOUND_CONFIG_DIR={}",
            quote(&demo.store_dir.display().to_string())
        ),
        format!("export INBOUND_DEMO_AUTHORITY={}", quote(&s.authority())),
        format!("export INBOUND_DEMO_IMAP_PORT={}", s.imap.port()),
        format!(
            "export INBOUND_DEMO_CA_FILE={}",
            quote(&s.ca_file.display().to_string())
        ),
        format!("export INBOUND_DEMO_CLIENT_ID={CLIENT_ID}"),
        format!("export INBOUND_DEMO_TENANT={TENANT}"),
        format!("export INBOUND_DEMO_SECRET={}", quote(CLIENT_SECRET)),
        "# The stand-ins run until Ctrl-C or until the process that started them ends; then this store is removed (unless --keep).".into(),
        format!(
            "# Seeded: \"{CONFIRMED}\" (Confirmed; its app's secret expires soon), \"{FAILING}\" (Test & Confirm fails)."
        ),
        "# Try: inbound list; inbound check; inbound token Helpdesk; inbound test \"Sales (shared)\"".into(),
        format!(
            "#   printf '%s' \"$INBOUND_DEMO_SECRET\" | inbound add Mine --username {USER} --client-id \"$INBOUND_DEMO_CLIENT_ID\" --tenant \"$INBOUND_DEMO_TENANT\" --secret-stdin --authority \"$INBOUND_DEMO_AUTHORITY\" --host {HOST} --port \"$INBOUND_DEMO_IMAP_PORT\" --ca-file \"$INBOUND_DEMO_CA_FILE\""
        ),
        "#   inbound connect Mine --no-browser | { read -r url; curl -sS -L -d consent=accept \"$url\"; }"
            .into(),
        "#   inbound test Mine".into(),
    ];
    let mut out = std::io::stdout().lock();
    for l in lines {
        if writeln!(out, "{l}").is_err() {
            return exit::FAILED;
        }
    }
    if out.flush().is_err() {
        return exit::FAILED;
    }
    drop(out);
    // Without a terminal no hangup comes when the caller goes away: watch the caller itself,
    // so the listeners and the temporary store never outlive it.
    tokio::select! {
        () = interrupts.wait() => {}
        () = parent_gone(parent) => {}
    }
    exit::OK
}

/// Resolves when the process `parent` has ended (we were re-parented): a pidfd becomes
/// readable when its process exits, watched by a thread of its own (tokio registers a raw
/// descriptor only through `unsafe`); kernels before 5.3 have no pidfd, and are asked once a
/// second instead.
async fn parent_gone(parent: Option<rustix::process::Pid>) {
    use rustix::event::{PollFd, PollFlags, poll};
    use rustix::process::{PidfdFlags, getppid, pidfd_open};
    let Some(parent) = parent else {
        // No parent to watch (started by the kernel itself): only signals end us.
        return std::future::pending().await;
    };
    let ended = move || getppid() != Some(parent);
    if let Ok(fd) = pidfd_open(parent, PidfdFlags::empty()) {
        // It may have ended before the pidfd was opened: re-check after opening.
        if ended() {
            return;
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let watcher = std::thread::Builder::new()
            .name("demo-parent".into())
            .spawn(move || {
                let mut fds = [PollFd::new(&fd, PollFlags::IN)];
                while !matches!(poll(&mut fds, None), Ok(n) if n > 0) {}
                let _ = tx.send(());
            });
        if watcher.is_ok() {
            let _ = rx.await;
            return;
        }
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    while !ended() {
        tick.tick().await;
    }
}

/// Ctrl-C, SIGTERM or SIGHUP. Listening starts when this is made, so a signal that arrives
/// before `wait` (e.g. right after the shell lines were read) is not lost.
struct Interrupts {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
    hup: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    fn listen() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Self {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
        }
    }

    async fn wait(mut self) {
        async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = recv(&mut self.int) => {}
            () = recv(&mut self.term) => {}
            () = recv(&mut self.hup) => {}
        }
    }
}
