//! Runs the real `inbound` binary against a temporary store (for the end-to-end tests).

use super::fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp, play_browser};
use std::path::PathBuf;
use std::process::{Output, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The binary, killed on drop, with no display, no SSH session and no RUST_LOG from the
/// machine running the tests.
pub fn inbound() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_inbound"));
    for k in [
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "SSH_CONNECTION",
        "SSH_TTY",
        "SSH_CLIENT",
        "RUST_LOG",
    ] {
        c.env_remove(k);
    }
    c.kill_on_drop(true);
    c
}

/// A temporary store and the environment the binary runs in.
pub struct Cli {
    pub dir: tempfile::TempDir,
    /// Extra environment (e.g. an SSH session); DISPLAY and SSH variables are removed first.
    pub env: Vec<(String, String)>,
}

impl Default for Cli {
    fn default() -> Self {
        Self::new()
    }
}

impl Cli {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
        }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn store(&self) -> inbound::store::Store {
        inbound::store::Store::open(Some(self.config_dir())).expect("store")
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = inbound();
        c.arg("--config-dir").arg(self.config_dir()).args(args);
        c.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c
    }

    /// Runs to completion with `stdin` as standard input.
    pub async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = self.cmd(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn inbound");
        let mut input = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            // A command that does not read stdin may already have exited (broken pipe).
            let _ = input.write_all(s.as_bytes()).await;
        }
        drop(input);
        child.wait_with_output().await.expect("wait")
    }

    /// `add NAME` for the fake's default app, plus `extra` arguments.
    pub async fn add_oauth(&self, idp: &FakeIdp, name: &str, username: &str, extra: &[&str]) {
        let authority = idp.authority();
        let mut args = vec![
            "add",
            name,
            "--username",
            username,
            "--client-id",
            DEFAULT_CLIENT_ID,
            "--tenant",
            "contoso.onmicrosoft.com",
            "--secret-stdin",
            "--authority",
            &authority,
        ];
        args.extend_from_slice(extra);
        let out = self.run(&args, Some(&format!("{DEFAULT_CLIENT_SECRET}\n"))).await;
        assert!(out.status.success(), "add failed: {}", text(&out.stderr));
    }

    /// Starts `connect NAME <args…>` and returns it with the first stdout line (the URL).
    pub async fn start_connect(&self, name: &str, args: &[&str]) -> (Child, BufReader<ChildStdout>, String) {
        let mut all = vec!["connect", name, "--timeout", "60"];
        if !args.contains(&"--listen-port") {
            all.extend_from_slice(&["--listen-port", "0"]);
        }
        all.extend_from_slice(args);
        let mut c = self.cmd(&all);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn connect");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut url = String::new();
        stdout.read_line(&mut url).await.expect("read URL");
        (child, stdout, url.trim().to_string())
    }

    /// `connect --no-browser` with the test playing the browser; returns the finished
    /// process (its stdout includes the URL line), the page status and the page.
    pub async fn connect(&self, name: &str) -> (Output, u16, String) {
        let (mut child, mut stdout, url) = self.start_connect(name, &["--no-browser"]).await;
        drop(child.stdin.take());
        let browser = tokio::spawn(async move { play_browser(&url).await });
        let (status, page) = match browser.await {
            Ok(r) => r,
            Err(e) => {
                let out = child.wait_with_output().await.expect("wait");
                panic!("browser failed ({e}); connect said: {}", text(&out.stderr));
            }
        };
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).await.expect("read stdout");
        let mut out = child.wait_with_output().await.expect("wait");
        out.stdout = rest.into_bytes();
        (out, status, page)
    }
}
