//! `inbound serve` through the binary, against the fake identity provider: alerts on a
//! refused refresh and on recovery, the webhook (also one that is down), /metrics through
//! promtool, /healthz, systemd's notify socket, the unit through systemd-analyze, and SIGKILL
//! at random moments of refresh waves. Every wait is on a condition with a deadline.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use inbound::model::ServerState;
use rand::Rng as _;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use support::cli::{Cli, text};
use support::dovecot::Dovecot;
use support::fake_idp::FakeIdp;
use support::store::temp_files;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Child;

const NAME: &str = "Support inbox";
const USER: &str = "alice@example.com";
/// Generous: CI machines are slow and shared. A wait ends as soon as its condition holds.
const DEADLINE: Duration = Duration::from_secs(60);

/// Waits until `cond` holds, checking every 20 ms, at most [`DEADLINE`].
async fn wait_for<T>(what: &str, mut cond: impl FnMut() -> Option<T>) -> T {
    let end = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = cond() {
            return v;
        }
        assert!(tokio::time::Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Env {
    cli: Cli,
    idp: FakeIdp,
}

impl Env {
    /// One connected, Confirmed server whose access tokens live `lifetime` seconds.
    async fn new(lifetime: u64) -> Env {
        let idp = FakeIdp::start().await;
        idp.set_account(USER);
        idp.set_access_token_lifetime(lifetime);
        let cli = Cli::new();
        cli.add_oauth(&idp, NAME, USER, &["--host", "127.0.0.1", "--port", "1"])
            .await;
        let env = Env { cli, idp };
        env.connect(NAME).await;
        env
    }

    async fn connect(&self, name: &str) {
        let (out, status, page) = self.cli.connect(name).await;
        assert_eq!(status, 200, "{page}");
        assert!(out.status.success(), "{}", text(&out.stderr));
        self.mark_confirmed(name);
    }

    /// The proxy's listening address set to a free loopback port, and a proxy password for
    /// [`NAME`]: the port and the password.
    async fn proxy_on_a_free_port(&self) -> (u16, String) {
        let port = free_port();
        self.cli
            .store()
            .update(|c| {
                c.settings.proxy_listen = Some(format!("127.0.0.1:{port}").parse().unwrap());
                Ok::<_, inbound::store::StoreError>(())
            })
            .unwrap();
        let out = self.cli.run(&["proxy", "password", NAME], None).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        (port, text(&out.stdout).trim().to_string())
    }

    /// Records a passed test by hand (no IMAP here), so the server is Confirmed.
    fn mark_confirmed(&self, name: &str) {
        self.cli
            .store()
            .update(|c| {
                let s = c.server_mut(name).unwrap();
                s.state = ServerState::Confirmed;
                s.last_test = Some(inbound::model::LastTest {
                    at: jiff::Timestamp::now(),
                    ok: true,
                    messages: Some(3),
                    summary: "ok".into(),
                    needs: None,
                });
                Ok::<_, inbound::store::StoreError>(())
            })
            .unwrap();
    }

    /// One server on a real Dovecot that checks tokens at the fake, signed in and Confirmed
    /// by a real Test & Confirm. None when Dovecot is not installed (and not required).
    async fn with_dovecot() -> Option<(Env, Dovecot)> {
        let mail = support::mail::MailEnv::start().await?;
        mail.add_connected(NAME).await;
        mail.confirm(NAME).await;
        let support::mail::MailEnv { cli, idp, dovecot } = mail;
        let env = Env { cli, idp };
        Some((env, dovecot))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.cli.dir.path().join(name)
    }

    /// `serve` with `args`, stderr into a file (shown when a test fails).
    fn serve(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        // Scheduled tests stay out of the way unless a test asks for them.
        let mut all = vec!["serve"];
        if !args.contains(&"--test-every") {
            all.extend_from_slice(&["--test-every", "86400"]);
        }
        all.extend_from_slice(args);
        let mut c = self.cli.cmd(&all);
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.path("serve.err")).unwrap());
        c.envs(env.iter().copied());
        c.spawn().unwrap()
    }

    fn serve_log(&self) -> String {
        let err = std::fs::read_to_string(self.path("serve.err")).unwrap_or_default();
        let log = std::fs::read_to_string(self.cli.config_dir().join("logs/inbound.log")).unwrap_or_default();
        format!("stderr:\n{err}\nlog:\n{log}")
    }

    /// The notify command that appends each document as one line to `file`.
    fn note_command(&self, file: &str) -> String {
        let path = self.path(file);
        format!("cat >> '{0}' && echo >> '{0}'", path.display())
    }

    fn notes(&self, file: &str) -> Vec<Value> {
        std::fs::read_to_string(self.path(file))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// serve.json, once it exists.
    fn status(&self) -> Option<Value> {
        let bytes = std::fs::read(self.cli.config_dir().join("serve.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

fn signal(child: &Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap()).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
}

async fn stop(env: &Env, mut child: Child) {
    signal(&child, rustix::process::Signal::TERM);
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .expect("serve stops on SIGTERM")
        .unwrap();
    assert!(status.success(), "serve exit {status:?}\n{}", env.serve_log());
}

async fn http_get(url: &str) -> (u16, String, String) {
    let resp = oauth2::reqwest::Client::new()
        .get(url)
        .header("accept", "text/plain;version=0.0.4")
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

#[tokio::test]
async fn a_refused_refresh_alerts_once_with_the_fix_and_recovery_once() {
    let env = Env::new(3).await;
    let cmd = env.note_command("notes.jsonl");
    let child = env.serve(
        &[
            "--notify-command",
            &cmd,
            "--flap-window",
            "0",
            "--retry-after",
            "1",
        ],
        &[],
    );
    // serve refreshes ahead of expiry on its own.
    let before = env.idp.refresh_requests();
    wait_for("a refresh by serve", || {
        (env.idp.refresh_requests() > before).then_some(())
    })
    .await;
    assert!(env.notes("notes.jsonl").is_empty(), "nothing to say while OK");

    env.idp.revoke_all_refresh_tokens();
    let notes = wait_for("the CRITICAL notification", || {
        let n = env.notes("notes.jsonl");
        (!n.is_empty()).then_some(n)
    })
    .await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    let n = &notes[0];
    assert_eq!(n["level"], "CRITICAL", "{n}");
    assert_eq!(n["previous"], "OK", "{n}");
    assert_eq!(n["reason"], "transition");
    assert_eq!(n["server"], NAME);
    assert_eq!(n["username"], USER);
    let fix = &n["findings"][0];
    assert_eq!(fix["fix_kind"], "connect", "{n}");
    assert_eq!(fix["fix_command"], format!("inbound connect \"{NAME}\""));
    assert!(n["text"].as_str().unwrap().contains("inbound connect"), "{n}");

    // Signing in again (the person's part) is picked up from the store by serve.
    env.connect(NAME).await;
    let notes = wait_for("the OK notification", || {
        let n = env.notes("notes.jsonl");
        (n.len() >= 2).then_some(n)
    })
    .await;
    assert_eq!(notes.len(), 2, "exactly one CRITICAL then one OK: {notes:?}");
    assert_eq!(notes[1]["level"], "OK");
    assert_eq!(notes[1]["previous"], "CRITICAL");
    stop(&env, child).await;
    assert!(env.status().is_none(), "a clean stop removes serve.json");
}

/// A loopback HTTP receiver: answers each POST with the next status of `answers` (then 200)
/// and keeps the bodies.
struct Receiver {
    port: u16,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<(u16, String)>>>,
}

impl Receiver {
    async fn start(answers: Vec<u16>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = bodies.clone();
        tokio::spawn(async move {
            let mut answers = answers.into_iter();
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break Some(String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned());
                    }
                };
                let Some(body) = body else { continue };
                let status = answers.next().unwrap_or(200);
                seen.lock().unwrap().push((status, body));
                let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = s.write_all(reply.as_bytes()).await;
            }
        });
        Receiver { port, bodies }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn bodies(&self) -> Vec<(u16, String)> {
        self.bodies.lock().unwrap().clone()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn test_notify_posts_to_a_webhook_retries_a_failing_one_and_gives_up_on_a_dead_one() {
    let cli = Cli::new();
    made_store(&cli).await;
    // Up, after two server errors: three attempts, one notification.
    let hook = Receiver::start(vec![503, 500]).await;
    let out = cli
        .run(&["serve", "--test-notify", "--notify-url", &hook.url()], None)
        .await;
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    let doc: Value = serde_json::from_str(&bodies[2].1).unwrap();
    assert_eq!(doc["reason"], "test");
    assert!(
        doc["text"].as_str().unwrap().contains("nothing is wrong"),
        "{doc}"
    );

    // A receiver that refuses (4xx) is not retried.
    let refusing = Receiver::start(vec![404]).await;
    let out = cli
        .run(&["serve", "--test-notify", "--notify-url", &refusing.url()], None)
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(refusing.bodies().len(), 1);

    // Down: connection refused, given up after the bounded attempts.
    let dead = format!("http://127.0.0.1:{}/hook", free_port());
    let out = cli
        .run(
            &[
                "serve",
                "--test-notify",
                "--notify-url",
                &dead,
                "--notify-attempts",
                "2",
            ],
            None,
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("after 2 attempts"),
        "{}",
        text(&out.stdout)
    );

    let out = cli.run(&["serve", "--test-notify"], None).await;
    assert_eq!(out.status.code(), Some(2), "nothing configured is a usage error");
}

/// `promtool check metrics` on `text`: None when promtool is not installed (outside CI).
fn promtool(text: &str) -> Option<(bool, String)> {
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) if !tools_required() => return None,
        Err(e) => panic!("promtool is needed in CI (.ci/setup --test installs prometheus): {e}"),
    };
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Some((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

#[tokio::test]
async fn metrics_pass_promtool_and_healthz_fails_while_a_dead_webhook_is_retried() {
    let env = Env::new(3).await;
    let cmd = env.note_command("notes.jsonl");
    let dead = format!("http://127.0.0.1:{}/hook", free_port());
    let mut child = env.serve(
        &[
            "--metrics",
            "127.0.0.1:0",
            "--notify-command",
            &cmd,
            "--notify-url",
            &dead,
            "--notify-attempts",
            "3",
            "--flap-window",
            "0",
            "--retry-after",
            "1",
        ],
        &[],
    );
    let addr = wait_for("serve.json with the metrics address", || {
        env.status()?.get("metrics")?.as_str().map(str::to_string)
    })
    .await;
    let (status, ctype, metrics) = http_get(&format!("http://{addr}/metrics")).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    assert!(
        metrics.contains(&format!("inbound_server_health_level{{server=\"{NAME}\"}} 0")),
        "{metrics}"
    );
    assert!(metrics.contains("process_resident_memory_bytes"), "{metrics}");
    if let Some((ok, said)) = promtool(&metrics) {
        assert!(ok && said.trim().is_empty(), "promtool: {said}\n{metrics}");
    }
    let (status, _, body) = http_get(&format!("http://{addr}/healthz")).await;
    assert_eq!(status, 200, "{body}");

    env.idp.revoke_all_refresh_tokens();
    wait_for("the CRITICAL notification", || {
        (!env.notes("notes.jsonl").is_empty()).then_some(())
    })
    .await;
    let (status, _, body) = http_get(&format!("http://{addr}/healthz")).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains(&format!("CRITICAL {NAME}: needs re-consent")),
        "{body}"
    );
    let (_, _, metrics) = http_get(&format!("http://{addr}/metrics")).await;
    assert!(
        metrics.contains(&format!("inbound_server_health_level{{server=\"{NAME}\"}} 2")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "inbound_server_refresh_failures_total{{server=\"{NAME}\"}} 1"
        )),
        "{metrics}"
    );
    if let Some((ok, said)) = promtool(&metrics) {
        assert!(ok && said.trim().is_empty(), "promtool: {said}\n{metrics}");
    }
    // The dead webhook is given up after its attempts; serve went on all along.
    wait_for("the webhook given up", || {
        env.serve_log()
            .contains("webhook notification lost")
            .then_some(())
    })
    .await;
    assert!(child.try_wait().unwrap().is_none(), "serve still runs");
    let (status, _, _) = http_get(&format!("http://{addr}/healthz")).await;
    assert_eq!(status, 503);
    stop(&env, child).await;
}

#[tokio::test]
async fn a_remote_metrics_address_needs_its_flag() {
    let cli = Cli::new();
    made_store(&cli).await;
    let out = cli.run(&["serve", "--metrics", "0.0.0.0:0"], None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--metrics-allow-remote"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn systemd_sees_ready_watchdog_status_reload_and_stopping() {
    let env = Env::new(3600).await;
    let socket_path = env.path("notify.sock");
    let socket = tokio::net::UnixDatagram::bind(&socket_path).unwrap();
    let child = env.serve(
        &[],
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    let mut seen: Vec<String> = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut recv_until = async |seen: &mut Vec<String>, what: &str| {
        let end = tokio::time::Instant::now() + DEADLINE;
        while !seen
            .iter()
            .any(|m| m.lines().any(|l| l == what || l.starts_with(what)))
        {
            let n = tokio::time::timeout_at(end, socket.recv(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no {what} on NOTIFY_SOCKET; seen {seen:?}"))
                .unwrap();
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    };
    recv_until(&mut seen, "READY=1").await;
    assert!(
        seen.iter().any(|m| m.contains("STATUS=1 servers: 1 OK")),
        "a STATUS line with counts: {seen:?}"
    );
    recv_until(&mut seen, "WATCHDOG=1").await;
    seen.clear();
    signal(&child, rustix::process::Signal::HUP);
    recv_until(&mut seen, "RELOADING=1").await;
    recv_until(&mut seen, "READY=1").await;
    seen.clear();
    signal(&child, rustix::process::Signal::TERM);
    recv_until(&mut seen, "STOPPING=1").await;
    let mut child = child;
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{}", env.serve_log());
}

/// `systemd-analyze verify` and `security` on a unit file: (verify ok, its output, exposure).
fn analyze(unit: &Path) -> Option<(bool, String, f64)> {
    let verify = match std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(unit)
        .output()
    {
        Ok(o) => o,
        Err(_) if !tools_required() => return None,
        Err(e) => panic!("systemd-analyze is needed in CI: {e}"),
    };
    let said = format!("{}{}", text(&verify.stdout), text(&verify.stderr));
    let security = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(unit)
        .output()
        .unwrap();
    let report = text(&security.stdout);
    let exposure: f64 = report
        .lines()
        .find_map(|l| l.split("Overall exposure level for ").nth(1))
        .and_then(|rest| rest.split(": ").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {report}{}", text(&security.stderr)));
    Some((verify.status.success(), said, exposure))
}

#[tokio::test]
async fn the_printed_and_the_shipped_units_pass_systemd_analyze() {
    let cli = Cli::new();
    made_store(&cli).await;
    let out = cli
        .run(
            &[
                "serve",
                "--print-unit",
                "--notify-url",
                "https://hooks.example.com/x y",
            ],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let unit = text(&out.stdout);
    assert!(
        unit.contains("Type=notify") && unit.contains("WatchdogSec="),
        "{unit}"
    );
    let store = std::fs::canonicalize(cli.config_dir()).unwrap();
    assert!(
        unit.contains(&format!("ReadWritePaths={}", store.display())),
        "{unit}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbound.service");
    std::fs::write(&path, &unit).unwrap();
    let Some((ok, said, exposure)) = analyze(&path) else {
        eprintln!("systemd-analyze not installed: skipped");
        return;
    };
    assert!(ok && said.trim().is_empty(), "verify: {said}\n{unit}");
    assert!(exposure < 5.0, "exposure {exposure}");

    // The unit in assets/ is the printed one with %h paths (kept in step by this test),
    // checked with this binary in place.
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/systemd/inbound.service"
    ))
    .unwrap();
    let plain = cli.run(&["serve", "--print-unit"], None).await;
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_inbound")).unwrap();
    let generic = text(&plain.stdout)
        .replace(&binary.display().to_string(), "%h/.cargo/bin/inbound")
        .replace(&store.display().to_string(), "%h/.config/inbound");
    assert_eq!(
        shipped.trim_end(),
        generic.trim_end(),
        "assets/systemd/inbound.service is out of date"
    );
    let local = shipped.replace("%h/.cargo/bin/inbound", &binary.display().to_string());
    std::fs::write(&path, &local).unwrap();
    let (ok, said, exposure) = analyze(&path).unwrap();
    assert!(ok && said.trim().is_empty(), "verify: {said}\n{local}");
    assert!(exposure < 5.0, "exposure {exposure}");
}

fn kill_rounds() -> usize {
    std::env::var("INBOUND_SERVE_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

#[tokio::test]
async fn sigkill_during_refresh_waves_loses_no_refresh_token() {
    const SERVERS: usize = 6;
    let env = Env::new(2).await;
    for i in 1..SERVERS {
        let name = format!("S{i}");
        env.cli
            .add_oauth(&env.idp, &name, USER, &["--host", "127.0.0.1", "--port", "1"])
            .await;
        env.connect(&name).await;
    }
    // Microsoft keeps a used refresh token valid after rotation (microsoft-facts §1.6); the
    // fake does too here. With the fake's stricter default, a kill after the fake rotated a
    // token and before serve's atomic write lands (a few ms per refresh) loses the rotated
    // one, which no client can avoid. What this test holds serve to: the store parses, every
    // token file is whole and its refresh token still works, no temporary file survives.
    env.idp.keep_rotated_refresh_tokens(true);
    let store = env.cli.store();
    let (seed, mut rng) = support::seeded_rng("serve kill rounds");
    let rounds = kill_rounds();
    let before = env.idp.refresh_requests();
    for round in 0..rounds {
        // Tokens live 2 s, so serve refreshes all six every second: a kill lands in a wave.
        let mut child = env.serve(&["--retry-after", "1"], &[]);
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..1500))).await;
        let _ = child.start_kill();
        let _ = child.wait().await;
        let config = store
            .load()
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): store unreadable: {e}"));
        assert_eq!(config.servers.len(), SERVERS);
        for s in &config.servers {
            let file = store
                .load_tokens(s)
                .unwrap_or_else(|e| panic!("round {round} (seed {seed}): {}: {e}", s.name))
                .unwrap_or_else(|| panic!("round {round} (seed {seed}): {} lost its tokens", s.name));
            assert!(
                file.blocker.is_none(),
                "round {round} (seed {seed}): {} was refused: {:?}",
                s.name,
                file.last_error
            );
            assert!(file.tokens.and_then(|t| t.refresh_token).is_some());
        }
    }
    assert!(
        env.idp.refresh_requests() > before,
        "serve refreshed during the rounds"
    );
    // One clean run sweeps what the kills left, then every stored refresh token must still work.
    let child = env.serve(&[], &[]);
    let pid = child.id().unwrap();
    wait_for("serve.json of the clean run", || {
        (env.status()?.get("pid")?.as_u64()? == u64::from(pid)).then_some(())
    })
    .await;
    stop(&env, child).await;
    let out = env.cli.run(&["refresh", "--all"], None).await;
    assert!(
        out.status.success(),
        "a stored refresh token was lost (seed {seed}): {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        temp_files(store.dir()),
        Vec::<PathBuf>::new(),
        "temp files left (seed {seed})"
    );
    eprintln!("serve kill rounds: {rounds} rounds, store intact, every refresh token works");
}

#[tokio::test]
async fn serve_hosts_the_proxy_and_counts_its_upstream_failures() {
    let env = Env::new(3600).await;
    let (port, password) = env.proxy_on_a_free_port().await;
    let child = env.serve(&["--proxy", "--metrics", "127.0.0.1:0"], &[]);
    let addr = wait_for("serve.json with the metrics address", || {
        env.status()?.get("metrics")?.as_str().map(str::to_string)
    })
    .await;
    // The upstream (127.0.0.1:1) is not there: the login fails upstream, never locally.
    let line = proxy_login(port, NAME, &password).await;
    assert!(line.starts_with("a NO"), "{line}");
    let counted = format!("inbound_server_proxy_upstream_login_failures_total{{server=\"{NAME}\"}} 1");
    let end = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (_, _, metrics) = http_get(&format!("http://{addr}/metrics")).await;
        if metrics.contains(&counted) {
            break;
        }
        assert!(tokio::time::Instant::now() < end, "{counted} not in {metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop(&env, child).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "the proxy stopped with serve"
    );
}

async fn wait_for_connect(port: u16) -> tokio::net::TcpStream {
    let end = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Ok(s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "the proxy never listened on {port}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigterm_during_refresh_waves_keeps_every_rotated_token() {
    // The fake's strict default: a used refresh token stops working once rotated, so a
    // rotated token that serve failed to save would show at the end.
    const SERVERS: usize = 4;
    let env = Env::new(2).await;
    for i in 1..SERVERS {
        let name = format!("S{i}");
        env.cli
            .add_oauth(&env.idp, &name, USER, &["--host", "127.0.0.1", "--port", "1"])
            .await;
        env.connect(&name).await;
    }
    let (seed, mut rng) = support::seeded_rng("serve SIGTERM rounds");
    let before = env.idp.refresh_requests();
    for _ in 0..15 {
        let child = env.serve(&["--retry-after", "1"], &[]);
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..1500))).await;
        stop(&env, child).await;
    }
    assert!(
        env.idp.refresh_requests() > before,
        "serve refreshed during the rounds"
    );
    let out = env.cli.run(&["refresh", "--all"], None).await;
    assert!(
        out.status.success(),
        "a rotated refresh token was lost on SIGTERM (seed {seed}): {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// serve works on an existing store (a command that only reads never creates one).
async fn made_store(cli: &Cli) {
    let out = cli.run(&["settings", "--listen-port", "18999"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// The UTC date `days` from today, as `--secret-expires` takes it.
fn days_ahead(days: i64) -> String {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

/// Waits for the `n`th notification and returns it (all of them, checked to be exactly `n`).
async fn nth_note(env: &Env, n: usize, what: &str) -> Value {
    let notes = wait_for(what, || {
        let notes = env.notes("notes.jsonl");
        (notes.len() >= n).then_some(notes)
    })
    .await;
    assert_eq!(notes.len(), n, "{what}: {notes:?}\n{}", env.serve_log());
    notes[n - 1].clone()
}

fn finding<'a>(note: &'a Value, message_starts: &str) -> &'a Value {
    note["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message"].as_str().unwrap().starts_with(message_starts))
        .unwrap_or_else(|| panic!("no finding {message_starts:?} in {note}"))
}

#[tokio::test]
async fn a_secret_expiring_alerts_warning_at_30_days_critical_at_7_and_ok_once_renewed() {
    let env = Env::new(3600).await;
    let cmd = env.note_command("notes.jsonl");
    let child = env.serve(&["--notify-command", &cmd, "--flap-window", "0"], &[]);
    wait_for("serve.json", || env.status()).await;
    let record = async |days: i64| {
        let date = days_ahead(days);
        let out = env
            .cli
            .run(&["edit", "--app", NAME, "--secret-expires", &date], None)
            .await;
        assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    };
    // The store changes under serve (the CLI records the expiry): serve reads it again.
    record(20).await;
    let warning = nth_note(&env, 1, "the WARNING notification").await;
    assert_eq!(warning["level"], "WARNING", "{warning}");
    assert_eq!(warning["previous"], "OK", "{warning}");
    let f = finding(&warning, "client secret expires in 20 d");
    assert_eq!(f["fix_kind"], "new_secret", "{warning}");
    assert!(
        f["fix_command"].as_str().unwrap().contains("--secret-expires"),
        "{warning}"
    );

    record(3).await;
    let critical = nth_note(&env, 2, "the CRITICAL notification").await;
    assert_eq!(critical["level"], "CRITICAL", "{critical}");
    assert_eq!(critical["previous"], "WARNING", "{critical}");
    finding(&critical, "client secret expires in 3 d");
    assert!(critical["text"].as_str().unwrap().contains(NAME), "{critical}");

    // A renewed secret (its new expiry recorded) ends it with one OK.
    record(400).await;
    let ok = nth_note(&env, 3, "the OK notification").await;
    assert_eq!(ok["level"], "OK", "{ok}");
    assert_eq!(ok["previous"], "CRITICAL", "{ok}");
    stop(&env, child).await;
    assert_eq!(env.notes("notes.jsonl").len(), 3);
}

fn last_test(env: &Env) -> Option<(jiff::Timestamp, bool)> {
    let config = env.cli.store().load().ok()?;
    let t = config.server(NAME)?.last_test.clone()?;
    Some((t.at, t.ok))
}

#[tokio::test]
async fn a_scheduled_test_that_fails_at_dovecot_alerts_once_and_its_recovery_once() {
    let Some((env, dovecot)) = Env::with_dovecot().await else {
        return;
    };
    let cmd = env.note_command("notes.jsonl");
    let (first, ok) = last_test(&env).unwrap();
    assert!(ok);
    let child = env.serve(
        &[
            "--notify-command",
            &cmd,
            "--flap-window",
            "0",
            "--test-every",
            "1",
        ],
        &[],
    );
    // serve tests on its own, on schedule, and records it.
    wait_for("a scheduled test", || {
        last_test(&env).filter(|(at, ok)| *at > first && *ok)
    })
    .await;
    assert!(env.notes("notes.jsonl").is_empty(), "nothing to say while OK");

    // The mailbox stops accepting the token (as when IMAP is turned off for it): the next
    // scheduled test fails at Dovecot, before any fetcher does.
    env.idp.expire_all_access_tokens();
    let critical = nth_note(&env, 1, "the CRITICAL notification").await;
    assert_eq!(
        critical["level"],
        "CRITICAL",
        "{critical}\n{}",
        dovecot.log_tail(20)
    );
    assert_eq!(critical["previous"], "OK", "{critical}");
    let f = finding(&critical, "last test failed");
    assert_eq!(f["fix_kind"], "test", "{critical}");
    assert_eq!(f["fix_command"], format!("inbound test \"{NAME}\""), "{critical}");
    assert_eq!(last_test(&env).map(|(_, ok)| ok), Some(false));

    // A new token (here `inbound refresh`): the next scheduled test passes, one OK.
    let out = env.cli.run(&["refresh", NAME], None).await;
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let ok = nth_note(&env, 2, "the OK notification").await;
    assert_eq!(ok["level"], "OK", "{ok}");
    assert_eq!(ok["previous"], "CRITICAL", "{ok}");
    assert_eq!(last_test(&env).map(|(_, ok)| ok), Some(true));
    stop(&env, child).await;
}

/// One LOGIN through the proxy on `port`: the tagged answer.
async fn proxy_login(port: u16, user: &str, password: &str) -> String {
    use tokio::io::AsyncBufReadExt;
    let tcp = wait_for_connect(port).await;
    let mut tcp = tokio::io::BufReader::new(tcp);
    let mut line = String::new();
    tcp.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("* OK"), "{line}");
    tcp.get_mut()
        .write_all(format!("a LOGIN \"{user}\" \"{password}\"\r\n").as_bytes())
        .await
        .unwrap();
    loop {
        line.clear();
        tcp.read_line(&mut line).await.unwrap();
        if line.starts_with("a ") || line.is_empty() {
            break;
        }
    }
    if line.starts_with("a OK") {
        tcp.get_mut().write_all(b"b LOGOUT\r\n").await.unwrap();
        let mut rest = String::new();
        let _ = tokio::time::timeout(DEADLINE, tcp.read_to_string(&mut rest)).await;
    }
    line
}

#[tokio::test]
async fn a_proxy_login_refused_upstream_alerts_once_and_a_good_one_recovers() {
    let Some((env, dovecot)) = Env::with_dovecot().await else {
        return;
    };
    let (port, password) = env.proxy_on_a_free_port().await;
    let cmd = env.note_command("notes.jsonl");
    let child = env.serve(&["--proxy", "--notify-command", &cmd, "--flap-window", "0"], &[]);
    let answer = proxy_login(port, NAME, &password).await;
    assert!(answer.starts_with("a OK"), "{answer}\n{}", env.serve_log());

    // Dovecot stops taking the token while inbound still holds it as valid: only the
    // proxy's upstream login can tell.
    env.idp.expire_all_access_tokens();
    let answer = proxy_login(port, NAME, &password).await;
    assert!(
        answer.starts_with("a NO [AUTHENTICATIONFAILED]"),
        "{answer}\n{}",
        dovecot.log_tail(20)
    );
    let critical = nth_note(&env, 1, "the CRITICAL notification").await;
    assert_eq!(critical["level"], "CRITICAL", "{critical}");
    assert_eq!(critical["previous"], "OK", "{critical}");
    assert_eq!(critical["server"], NAME);
    let f = finding(&critical, "the proxy's login upstream was refused");
    assert_eq!(f["fix_kind"], "test", "{critical}");

    let out = env.cli.run(&["refresh", NAME], None).await;
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let answer = proxy_login(port, NAME, &password).await;
    assert!(answer.starts_with("a OK"), "{answer}");
    let ok = nth_note(&env, 2, "the OK notification").await;
    assert_eq!(ok["level"], "OK", "{ok}");
    assert_eq!(ok["previous"], "CRITICAL", "{ok}");
    stop(&env, child).await;
}

/// Soft and hard open-file limits for a child: low, as a default 1,024 is low for the proxy.
const CHILD_SOFT_FILES: u64 = 256;
const CHILD_HARD_FILES: u64 = 600;

/// `inbound ARGS` on this store with its open-file limits lowered to the values above, by
/// util-linux's prlimit (which sets them and then becomes the command: same pid).
fn with_low_file_limit(env: &Env, args: &[&str]) -> tokio::process::Command {
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
    assert!(
        hard.is_none_or(|h| h >= CHILD_HARD_FILES),
        "this test needs a hard open-file limit of at least {CHILD_HARD_FILES}"
    );
    let mut c = tokio::process::Command::new("prlimit");
    c.arg(format!("--nofile={CHILD_SOFT_FILES}:{CHILD_HARD_FILES}"))
        .arg(env!("CARGO_BIN_EXE_inbound"))
        .arg("--config-dir")
        .arg(env.cli.config_dir())
        .args(args)
        .env_remove("RUST_LOG")
        .kill_on_drop(true);
    c
}

/// The soft open-file limit of a running process, from /proc.
fn soft_file_limit(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

#[tokio::test]
async fn the_proxy_raises_its_open_file_limit_and_says_how_many_sessions_fit() {
    // (600 - 64 kept for the rest) / 2 descriptors per session.
    let said = format!(
        "open-file limit {CHILD_HARD_FILES} (raised from {CHILD_SOFT_FILES}): room for 268 sessions at once"
    );
    let env = Env::new(3600).await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");

    // `inbound proxy` on its own: the banner says it.
    let mut proxy = with_low_file_limit(&env, &["proxy", "--listen", &listen]);
    proxy
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(env.path("proxy.err")).unwrap());
    let child = proxy.spawn().unwrap();
    let pid = child.id().unwrap();
    drop(wait_for_connect(port).await);
    let banner = wait_for("the open-file line in the banner", || {
        let err = std::fs::read_to_string(env.path("proxy.err")).unwrap_or_default();
        err.contains(&said).then_some(err)
    })
    .await;
    assert_eq!(soft_file_limit(pid), Some(CHILD_HARD_FILES), "{banner}");
    // The default connection limit is more than fits: the banner says what to do.
    assert!(banner.contains("LimitNOFILE="), "{banner}");
    stop(&env, child).await;

    // serve hosting the proxy: its log says it.
    env.cli
        .store()
        .update(|c| {
            c.settings.proxy_listen = Some(listen.parse().unwrap());
            Ok::<_, inbound::store::StoreError>(())
        })
        .unwrap();
    let mut serve = with_low_file_limit(&env, &["serve", "--proxy", "--test-every", "86400"]);
    serve
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(env.path("serve.err")).unwrap());
    let child = serve.spawn().unwrap();
    let pid = child.id().unwrap();
    drop(wait_for_connect(port).await);
    wait_for("the open-file line in serve's log", || {
        env.serve_log().contains(&said).then_some(())
    })
    .await;
    assert_eq!(soft_file_limit(pid), Some(CHILD_HARD_FILES));
    stop(&env, child).await;
}

#[tokio::test]
async fn serve_settings_are_edited_with_inbound_settings_and_checked_as_serve_save_checks_them() {
    let cli = Cli::new();
    made_store(&cli).await;
    let out = cli
        .run(
            &[
                "settings",
                "--test-every",
                "600",
                "--notify-command",
                "logger -t inbound",
                "--proxy",
                "--json",
            ],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(json["serve"]["test_every_secs"], 600, "{json}");
    assert_eq!(json["serve"]["notify_command"], "logger -t inbound");
    assert_eq!(json["serve"]["proxy"], true);
    let shown = text(&cli.run(&["settings"], None).await.stdout);
    assert!(
        shown.contains("proxy on · metrics off · tests every 600 s")
            && shown.contains("command logger -t inbound"),
        "{shown}"
    );
    // The same check, the same words, from both commands; nothing is written.
    for args in [
        &["settings", "--notify-url", "ftp://hooks.example.com/x"][..],
        &["serve", "--save", "--notify-url", "ftp://hooks.example.com/x"][..],
    ] {
        let out = cli.run(args, None).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(
                "Notify URL: give an http:// or https:// URL, not \"ftp://hooks.example.com/x\" (--notify-url URL or --no-notify-url)"
            ),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = cli.run(&["serve", "--save", "--test-every", "0"], None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // Resets back to the defaults.
    let out = cli
        .run(&["settings", "--no-notify-command", "--no-proxy", "--json"], None)
        .await;
    let json: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert!(json["serve"].get("notify_command").is_none(), "{json}");
    assert_eq!(json["serve"]["proxy"], false, "{json}");
    assert_eq!(json["serve"]["test_every_secs"], 600, "{json}");
}

#[tokio::test]
async fn metrics_address_and_proxy_follow_the_settings_without_a_restart() {
    let env = Env::new(3600).await;
    let child = env.serve(&[], &[]);
    let pid = u64::from(child.id().unwrap());
    wait_for("serve.json", || {
        env.status().filter(|s| s["pid"].as_u64() == Some(pid))
    })
    .await;
    assert!(env.status().unwrap().get("metrics").is_none());
    let (metrics_port, proxy_port) = (free_port(), free_port());
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let proxy_addr = format!("127.0.0.1:{proxy_port}");

    // On: the CLI changes the store, serve takes it up.
    let out = env
        .cli
        .run(
            &[
                "settings",
                "--metrics",
                &metrics_addr,
                "--proxy",
                "--proxy-listen",
                &proxy_addr,
            ],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    wait_for("metrics and proxy in serve.json", || {
        let s = env.status()?;
        (s["metrics"] == metrics_addr.as_str() && s["proxy"] == true).then_some(())
    })
    .await;
    let (status, _, body) = http_get(&format!("http://{metrics_addr}/metrics")).await;
    assert_eq!(status, 200);
    assert!(body.contains("inbound_server_health_level"), "{body}");
    drop(wait_for_connect(proxy_port).await);

    // Moved and off, after SIGHUP too (a stored change it has already taken up).
    let moved = format!("127.0.0.1:{}", free_port());
    let out = env
        .cli
        .run(&["settings", "--metrics", &moved, "--no-proxy"], None)
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    signal(&child, rustix::process::Signal::HUP);
    wait_for("the new metrics address, no proxy", || {
        let s = env.status()?;
        (s["metrics"] == moved.as_str() && s["proxy"] == false).then_some(())
    })
    .await;
    let (status, _, _) = http_get(&format!("http://{moved}/metrics")).await;
    assert_eq!(status, 200);
    assert!(
        tokio::net::TcpStream::connect(&metrics_addr).await.is_err(),
        "the old metrics address is closed"
    );
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", proxy_port))
            .await
            .is_err(),
        "the proxy stopped"
    );
    let out = env.cli.run(&["settings", "--no-metrics"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    wait_for("no metrics in serve.json", || {
        env.status()?.get("metrics").is_none().then_some(())
    })
    .await;
    assert!(tokio::net::TcpStream::connect(&moved).await.is_err());
    stop(&env, child).await;
}

/// A program from a Debian package: `None` with a notice when it is missing, a panic when
/// [`tools_required`] (CI installs every package the tests use).
fn required_program(program: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file());
    if found.is_none() {
        let require = support::dovecot::REQUIRE_ENV;
        if tools_required() {
            panic!("{program} not installed (Debian package {package}), but CI or {require}=1 needs it");
        }
        eprintln!(
            "{program} not installed; skipping this test \
             (install the Debian package {package}, or set {require}=1 to make this an error)"
        );
    }
    found
}

/// `GET url` with `query` parameters, as JSON (Prometheus's HTTP API); None while it does not
/// answer.
async fn get_json(url: &str, query: &[(&str, &str)]) -> Option<Value> {
    let resp = oauth2::reqwest::Client::new()
        .get(url)
        .query(query)
        .send()
        .await
        .ok()?;
    serde_json::from_str(&resp.text().await.ok()?).ok()
}

#[tokio::test]
async fn a_real_prometheus_scrapes_serves_metrics() {
    let Some(prometheus) = required_program("prometheus", "prometheus") else {
        return;
    };
    let env = Env::new(3600).await;
    let child = env.serve(&["--metrics", "127.0.0.1:0"], &[]);
    let target = wait_for("serve.json with the metrics address", || {
        env.status()?.get("metrics")?.as_str().map(str::to_string)
    })
    .await;
    let config = env.path("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: inbound\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let web = format!("127.0.0.1:{}", free_port());
    let mut prom = tokio::process::Command::new(prometheus);
    prom.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", env.path("tsdb").display()))
        .arg(format!("--web.listen-address={web}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(env.path("prometheus.err")).unwrap())
        .kill_on_drop(true);
    let mut prom = prom.spawn().unwrap();
    let api = format!("http://{web}/api/v1/query");
    // The scrape is up and the per-server series arrived, parsed by Prometheus itself.
    let health = format!("inbound_server_health_level{{server=\"{NAME}\"}}");
    let end = tokio::time::Instant::now() + DEADLINE;
    let series = loop {
        let up = get_json(&api, &[("query", "up{job=\"inbound\"}")]).await;
        let got = get_json(&api, &[("query", &health)]).await;
        let up_value = up
            .as_ref()
            .and_then(|v| v["data"]["result"][0]["value"][1].as_str().map(str::to_string));
        let result = got.as_ref().and_then(|v| v["data"]["result"].as_array().cloned());
        if up_value.as_deref() == Some("1") && result.as_ref().is_some_and(|r| !r.is_empty()) {
            break result.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < end,
            "no scrape by Prometheus: up {up:?}, {health}: {got:?}\n{}",
            std::fs::read_to_string(env.path("prometheus.err")).unwrap_or_default()
        );
        assert!(prom.try_wait().unwrap().is_none(), "prometheus exited");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(series[0]["metric"]["server"], NAME);
    assert_eq!(series[0]["value"][1], "0", "OK is 0: {series:?}");
    // The target's last scrape had no error (format, content type, timeouts).
    let targets = get_json(&format!("http://{web}/api/v1/targets"), &[])
        .await
        .unwrap();
    let active = &targets["data"]["activeTargets"][0];
    assert_eq!(active["health"], "up", "{targets}");
    assert_eq!(active["lastError"], "", "{targets}");
    let _ = prom.start_kill();
    let _ = prom.wait().await;
    stop(&env, child).await;
}

/// CI (and `INBOUND_REQUIRE_DOVECOT=1`, which `.ci/run` sets) must have every Debian program
/// the tests use: a missing one fails there instead of skipping.
fn tools_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var(support::dovecot::REQUIRE_ENV).is_ok_and(|v| v == "1")
}
