//! The set-up most end-to-end tests share: the fake IdP signing in as Dovecot's OAuth2 user,
//! the real Dovecot that checks its tokens, a temporary store for the binary, and servers
//! added, signed in and confirmed against that Dovecot.

use super::cli::{Cli, text};
use super::dovecot::{Dovecot, OAUTH_USER};
use super::fake_idp::FakeIdp;
use std::time::Duration;

pub struct MailEnv {
    pub cli: Cli,
    pub idp: FakeIdp,
    pub dovecot: Dovecot,
}

impl MailEnv {
    /// `None` (the test is skipped) when Dovecot is not installed and not required.
    pub async fn start() -> Option<MailEnv> {
        let idp = FakeIdp::start().await;
        idp.set_account(OAUTH_USER);
        let dovecot = Dovecot::start(&idp.introspection_url())?;
        Some(MailEnv {
            cli: Cli::new(),
            idp,
            dovecot,
        })
    }

    /// `add NAME` for the fake's default app on this Dovecot, for `username`, plus `extra`.
    pub async fn add(&self, name: &str, username: &str, extra: &[&str]) {
        let server = self.dovecot.server_args();
        let args = [&server.words()[..], extra].concat();
        self.cli.add_oauth(&self.idp, name, username, &args).await;
    }

    /// `connect NAME` with the test playing the browser; it must sign in.
    pub async fn connect(&self, name: &str) {
        let (out, status, page) = self.cli.connect(name).await;
        assert!(
            out.status.success() && status == 200,
            "connect {name}: {}{page}",
            text(&out.stderr)
        );
    }

    /// [`OAUTH_USER`]'s server `name`, added and signed in.
    pub async fn add_connected(&self, name: &str) {
        self.add(name, OAUTH_USER, &[]).await;
        self.connect(name).await;
    }

    /// `test NAME`: it must pass (the server is Confirmed).
    pub async fn confirm(&self, name: &str) {
        let out = self.cli.run(&["test", name], None).await;
        assert!(
            out.status.success(),
            "test {name}: {}{}\n{}",
            text(&out.stdout),
            text(&out.stderr),
            self.dovecot.log_tail(20)
        );
    }
}

/// How long one step of a network test may take; a hang fails it.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Waits for `fut` at most [`DEADLINE`]; a hang fails the test, naming `what`.
pub async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within {DEADLINE:?}"))
}

/// Runs a python3 script (bounded); `None` (skip) when python3 is missing.
pub async fn python(script: &str, args: &[&str]) -> Option<std::process::Output> {
    let mut c = tokio::process::Command::new("python3");
    c.arg("-c").arg(script).args(args).kill_on_drop(true);
    match bounded("python3", c.output()).await {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("python3 not installed; skipping");
            None
        }
        Err(e) => panic!("python3: {e}"),
    }
}
