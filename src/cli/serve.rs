//! `inbound serve`: flags, signals and printing around the core in `ops::serve`.

use super::exit;
use crate::model::serve::ServeSettings;
use crate::ops::serve::{self, Control};
use crate::store::Store;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// What the sample of `--test-notify` names in place of a server (documented in docs/json.md).
const TEST_NOTIFY_SERVER: &str = "inbound test notification";

#[derive(Debug, Args)]
#[command(after_help = "\
Every interval below is also a setting, kept in the store by --save (flags given on the command
line win over stored settings). SIGHUP reads the settings again; SIGTERM stops after the
refreshes in flight have saved their tokens. serve never starts a sign-in: a server that needs
one raises an alert with the fix.

Alerts: one JSON document per health transition (OK, WARNING, CRITICAL, per server), a reminder
while CRITICAL, nothing for a level that did not hold for the flapping window. The command runs
with sh -c and gets the document on stdin; the webhook gets it as an HTTP POST with a text field
for Slack or Teams. The schema is in docs/json.md.

systemd: Type=notify (READY=1, STATUS=, WATCHDOG=1). --print-unit writes a sandboxed unit for
this binary and store.")]
pub struct ServeArgs {
    #[command(flatten)]
    pub setting: ServeSettingArgs,
    /// Allow a non-loopback --metrics address (metrics name your mailboxes).
    #[arg(long)]
    pub metrics_allow_remote: bool,
    /// Store the flags given as settings, then exit (as inbound settings does).
    #[arg(long, conflicts_with_all = ["test_notify", "print_unit"])]
    pub save: bool,
    /// Send a sample notification through the command and webhook, then exit.
    #[arg(long, conflicts_with = "print_unit")]
    pub test_notify: bool,
    /// Print a systemd unit for this binary and store, then exit.
    #[arg(long)]
    pub print_unit: bool,
}

/// serve's settings as flags: the same on `inbound serve` (for this run, or kept by --save)
/// and on `inbound settings`.
#[derive(Debug, Args, Clone, Default)]
pub struct ServeSettingArgs {
    /// Refresh each token this long before it expires (seconds; at least the core's margin
    /// of a fifth of its lifetime, at most 5 minutes).
    #[arg(long, value_name = "SECS")]
    pub refresh_lead: Option<u64>,
    /// After a failed refresh, try again this much later (seconds; default 60).
    #[arg(long, value_name = "SECS")]
    pub retry_after: Option<u64>,
    /// Test & Confirm every Confirmed server this often (seconds; default 21600, 6 hours).
    #[arg(long, value_name = "SECS")]
    pub test_every: Option<u64>,
    /// Tests running at once (default 4).
    #[arg(long, value_name = "N")]
    pub test_jobs: Option<usize>,
    /// Token refreshes running at once in a wave (default 512; fewer when the open-file limit
    /// has no room for them).
    #[arg(long, value_name = "N")]
    pub refresh_jobs: Option<usize>,
    /// A new health level must hold this long before it is announced (seconds; default 120).
    #[arg(long, value_name = "SECS")]
    pub flap_window: Option<u64>,
    /// While a server is CRITICAL, say so again this often (seconds; default 86400).
    #[arg(long, value_name = "SECS")]
    pub remind_every: Option<u64>,
    /// Run CMD (with sh -c) for each notification, the JSON document on its stdin.
    #[arg(long, value_name = "CMD")]
    pub notify_command: Option<String>,
    /// POST each notification to URL (JSON, with a `text` line for Slack/Teams webhooks).
    #[arg(long, value_name = "URL")]
    pub notify_url: Option<String>,
    /// Time limit of the notify command and of each webhook attempt (seconds; default 10).
    #[arg(long, value_name = "SECS")]
    pub notify_timeout: Option<u64>,
    /// Webhook attempts before a notification is given up (default 5; waits 1 s, 2 s, 4 s …).
    #[arg(long, value_name = "N")]
    pub notify_attempts: Option<u32>,
    /// Serve Prometheus metrics at http://ADDR/metrics and health at /healthz
    /// (e.g. 127.0.0.1:9464; loopback only unless serve's --metrics-allow-remote).
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,
    /// serve runs the IMAP proxy too (also a setting).
    #[arg(long, conflicts_with = "no_proxy")]
    pub proxy: bool,
    /// serve does not run the IMAP proxy.
    #[arg(long)]
    pub no_proxy: bool,
}

impl ServeSettingArgs {
    pub fn settings(&self) -> ServeSettings {
        ServeSettings {
            refresh_lead_secs: self.refresh_lead,
            retry_secs: self.retry_after,
            test_every_secs: self.test_every,
            test_jobs: self.test_jobs,
            refresh_jobs: self.refresh_jobs,
            flap_secs: self.flap_window,
            remind_secs: self.remind_every,
            notify_command: self.notify_command.clone(),
            notify_url: self.notify_url.clone(),
            notify_timeout_secs: self.notify_timeout,
            notify_attempts: self.notify_attempts,
            metrics: self.metrics,
            proxy: match (self.proxy, self.no_proxy) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
        }
    }
}

impl ServeArgs {
    /// The flags as they are given again in the unit's ExecStart (everything but the actions).
    fn passthrough(&self) -> Vec<String> {
        let a = &self.setting;
        let mut out = Vec::new();
        let mut push = |flag: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push(flag.to_string());
                out.push(v);
            }
        };
        push("--refresh-lead", a.refresh_lead.map(|v| v.to_string()));
        push("--retry-after", a.retry_after.map(|v| v.to_string()));
        push("--test-every", a.test_every.map(|v| v.to_string()));
        push("--test-jobs", a.test_jobs.map(|v| v.to_string()));
        push("--refresh-jobs", a.refresh_jobs.map(|v| v.to_string()));
        push("--flap-window", a.flap_window.map(|v| v.to_string()));
        push("--remind-every", a.remind_every.map(|v| v.to_string()));
        push("--notify-command", a.notify_command.clone());
        push("--notify-url", a.notify_url.clone());
        push("--notify-timeout", a.notify_timeout.map(|v| v.to_string()));
        push("--notify-attempts", a.notify_attempts.map(|v| v.to_string()));
        push("--metrics", a.metrics.map(|v| v.to_string()));
        for (on, flag) in [
            (self.metrics_allow_remote, "--metrics-allow-remote"),
            (a.proxy, "--proxy"),
            (a.no_proxy, "--no-proxy"),
        ] {
            if on {
                out.push(flag.into());
            }
        }
        out
    }
}

pub async fn run(store: &Store, a: ServeArgs) -> u8 {
    let flags = a.setting.settings();
    if let Err(e) = flags.check() {
        super::report::report(&crate::ops::Error::from(e));
        return exit::USAGE;
    }
    if a.print_unit {
        let binary = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("inbound"));
        let dir = std::fs::canonicalize(store.dir()).unwrap_or_else(|_| store.dir().to_path_buf());
        out!(
            "{}",
            serve::unit::render(&binary, &dir, &a.passthrough()).trim_end()
        );
        return exit::OK;
    }
    if a.save {
        let patch = crate::ops::settings::SettingsPatch {
            serve: crate::model::serve::ServePatch::setting(&flags),
            ..Default::default()
        };
        return match crate::ops::settings::update_settings(store, &patch) {
            Ok(s) => {
                out!(
                    "serve settings saved: {}",
                    serde_json::to_string(&s.serve).unwrap_or_default()
                );
                exit::OK
            }
            Err(e) => {
                super::report::report(&e);
                super::report::code_for(&e)
            }
        };
    }
    if a.test_notify {
        return match serve::test_notify(store, &flags, TEST_NOTIFY_SERVER).await {
            Ok(rows) if rows.is_empty() => {
                say!(
                    "inbound: nothing to notify: set --notify-command or --notify-url (or save them with --save)"
                );
                exit::USAGE
            }
            Ok(rows) => {
                let mut code = exit::OK;
                for (channel, r) in rows {
                    match r {
                        Ok(()) => out!("✔ {channel}: sample sent"),
                        Err(e) => {
                            out!("✖ {channel}: {e}");
                            code = exit::FAILED;
                        }
                    }
                }
                code
            }
            Err(e) => {
                super::report::report(&e);
                exit::STORE
            }
        };
    }
    let shutdown = CancellationToken::new();
    let (control_tx, control_rx) = tokio::sync::mpsc::channel(4);
    let signals = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(term), Ok(int), Ok(hup)) => (term, int, hup),
        _ => {
            say!("inbound: cannot install signal handlers");
            return exit::FAILED;
        }
    };
    let (mut term, mut int, mut hup) = signals;
    let stop = shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => { stop.cancel(); break; }
                _ = int.recv() => { stop.cancel(); break; }
                _ = hup.recv() => { let _ = control_tx.send(Control::Reload).await; }
            }
        }
    });
    say!(
        "inbound serve: running on {} (log: {})",
        store.dir().display(),
        store.log_dir().join(crate::logging::FILE_NAME).display()
    );
    match serve::run(
        store.clone(),
        flags,
        a.metrics_allow_remote,
        shutdown,
        control_rx,
        super::fix::WORDING,
    )
    .await
    {
        Ok(()) => exit::OK,
        Err(e) => {
            say!("inbound: {e}");
            if let Some(h) = hint(&e) {
                say!("  → {h}");
            }
            tracing::error!(error = %e, "serve could not run");
            match e {
                serve::ServeError::RemoteMetrics(_) => exit::USAGE,
                serve::ServeError::Ops(crate::ops::Error::Store(_)) => exit::STORE,
                _ => exit::FAILED,
            }
        }
    }
}

/// What to do when serve cannot run, with the flags that do it.
fn hint(e: &serve::ServeError) -> Option<String> {
    use serve::ServeError;
    match e {
        ServeError::RemoteMetrics(_) => {
            Some("add --metrics-allow-remote to serve them to the network anyway".into())
        }
        ServeError::Status(crate::ops::serve::status::StatusError::Busy(_)) => {
            Some("stop the other serve, or give another --config-dir".into())
        }
        ServeError::Bind(_) => Some("choose another address with --metrics ADDR:PORT".into()),
        ServeError::Proxy(p) => super::proxy::hint(p),
        _ => e.hint(),
    }
}
