//! `inbound proxy` against the test Dovecot (which refuses LOGIN for OAuth users, like
//! Exchange Online): python3 imaplib and raw clients log in with a local proxy password; the
//! hostile cases of the issue (garbage, huge lines, unterminated literals, slowloris, 1,000
//! idle connections, 1,000 wrong passwords, a client vanishing mid-FETCH, an upstream that
//! hangs or drops, two proxies on one store, SIGTERM, SIGKILL during a refresh). Every wait is
//! bounded by a deadline; nothing sleeps.
#![allow(clippy::unwrap_used)]

use crate::support;

use inbound::ops::proxy::{self, Outcome, ProxyConfig, ProxyEvent};
use inbound::services::imap::Timeouts;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::cli::{Cli, text};
use support::dovecot::{INBOX_MESSAGES, OAUTH_USER};
use support::mail::{MailEnv, bounded, python};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const NAME: &str = "Support inbox";

/// `inbound proxy password NAME`: the password printed once.
async fn password(cli: &Cli, name: &str) -> String {
    let out = cli.run(&["proxy", "password", name], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pw = text(&out.stdout).trim().to_string();
    assert!(pw.len() >= 22, "{pw}");
    pw
}

fn config() -> ProxyConfig {
    ProxyConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls_listen: None,
        max_connections: 64,
        preauth_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(1800),
        grace: Duration::from_secs(5),
        upstream_timeouts: Timeouts::default(),
        // As `inbound proxy` runs it: refusals name the command that fixes them.
        wording: Some(inbound::cli::fix::WORDING),
    }
}

/// The proxy in this process: its plain port, its TLS port, its events, and its stop.
struct Running {
    port: u16,
    tls_port: Option<u16>,
    events: mpsc::Receiver<ProxyEvent>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), proxy::ProxyError>>,
}

async fn start(cli: &Cli, cfg: ProxyConfig) -> Running {
    let (tx, mut events) = mpsc::channel(4096);
    let stop = CancellationToken::new();
    let task = tokio::spawn(proxy::run(cfg, cli.store(), stop.clone(), tx));
    let (port, tls_port) = match bounded("start", events.recv()).await {
        Some(ProxyEvent::Started {
            listen, tls_listen, ..
        }) => (listen.port(), tls_listen.map(|a| a.port())),
        other => panic!("{other:?}"),
    };
    Running {
        port,
        tls_port,
        events,
        stop,
        task,
    }
}

impl Running {
    /// The next session report.
    async fn session(&mut self) -> proxy::SessionReport {
        loop {
            match bounded("session event", self.events.recv()).await {
                Some(ProxyEvent::Session(r)) => return r,
                Some(_) => {}
                None => panic!("the proxy ended"),
            }
        }
    }
}

/// A raw IMAP client over any stream.
struct Raw<S> {
    r: BufReader<S>,
}

impl Raw<TcpStream> {
    async fn connect(port: u16) -> Self {
        let tcp = bounded("connect", TcpStream::connect(("127.0.0.1", port)))
            .await
            .unwrap();
        Raw {
            r: BufReader::new(tcp),
        }
    }
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Raw<S> {
    async fn send(&mut self, bytes: &[u8]) {
        bounded("write", self.r.get_mut().write_all(bytes)).await.unwrap();
    }

    /// One line, or None at EOF (or a reset).
    async fn line(&mut self) -> Option<String> {
        let mut buf = Vec::new();
        match bounded("read", self.r.read_until(b'\n', &mut buf)).await {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(String::from_utf8_lossy(&buf).trim_end().to_string()),
        }
    }

    /// Lines up to the tagged reply (which is last).
    async fn reply(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self
                .line()
                .await
                .unwrap_or_else(|| panic!("closed before {tag}: {lines:?}"));
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    async fn command(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.reply(tag).await
    }

    /// Reads until the peer closes; returns what came.
    async fn until_closed(&mut self) -> String {
        let mut all = Vec::new();
        let _ = bounded("close", self.r.read_to_end(&mut all)).await;
        String::from_utf8_lossy(&all).into_owned()
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Counts TCP connections made to it (a server nothing should ever reach).
async fn connection_counter() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            drop(s);
        }
    });
    (port, count)
}

/// LOGIN, then AUTHENTICATE PLAIN (imaplib waits for the continuation: no SASL-IR), each
/// fetching every message.
const IMAPLIB_PROXY: &str = r#"
import imaplib, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def fetch_all(m):
    typ, _ = m.select('INBOX')
    assert typ == 'OK'
    typ, data = m.search(None, 'ALL')
    got = 0
    for num in data[0].split():
        typ, msg = m.fetch(num, '(RFC822)')
        assert typ == 'OK' and b'Subject:' in msg[0][1]
        got += 1
    m.logout()
    return got
m = imaplib.IMAP4('127.0.0.1', port)
m.login(user, password)
a = fetch_all(m)
m = imaplib.IMAP4('127.0.0.1', port)
m.authenticate('PLAIN', lambda _: ('\0' + user + '\0' + password).encode())
b = fetch_all(m)
print(a, b)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_logs_in_with_the_proxy_password_and_fetches() {
    let Some(env) = MailEnv::start().await else { return };
    env.add_connected(NAME).await;
    let pw = password(&env.cli, NAME).await;
    let mut p = start(&env.cli, config()).await;
    let port = p.port.to_string();
    let Some(out) = python(IMAPLIB_PROXY, &[&port, NAME, &pw]).await else {
        return;
    };
    assert!(out.status.success(), "imaplib: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("{INBOX_MESSAGES} {INBOX_MESSAGES}")
    );
    // By Username too.
    let Some(out) = python(IMAPLIB_PROXY, &[&port, OAUTH_USER, &pw]).await else {
        return;
    };
    assert!(out.status.success(), "imaplib: {}", text(&out.stderr));
    let r = p.session().await;
    assert_eq!(r.server.as_deref(), Some(NAME));
    assert!(matches!(r.outcome, Outcome::Relayed { .. }), "{:?}", r.outcome);
    assert!(r.to_client > 0 && r.to_server > 0);
    // No secret in the log.
    let log = std::fs::read_dir(env.cli.store().log_dir())
        .map(|d| {
            d.flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect::<String>()
        })
        .unwrap_or_default();
    assert!(!log.contains(&pw));
    p.stop.cancel();
    bounded("stop", p.task).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_gets_the_upstream_capabilities_and_pipelined_commands_are_relayed() {
    let Some(env) = MailEnv::start().await else { return };
    env.add_connected(NAME).await;
    let pw = password(&env.cli, NAME).await;
    let p = start(&env.cli, config()).await;
    let mut c = Raw::connect(p.port).await;
    let greeting = c.line().await.unwrap();
    assert!(greeting.starts_with("* OK [CAPABILITY IMAP4rev1"), "{greeting}");
    assert!(
        greeting.contains("AUTH=PLAIN") && !greeting.contains("STARTTLS"),
        "{greeting}"
    );
    // LOGIN with a synchronizing literal for the password, then a command in the same write.
    c.send(format!("a1 LOGIN {} {{{}}}\r\n", quoted(NAME), pw.len()).as_bytes())
        .await;
    assert!(c.line().await.unwrap().starts_with('+'));
    c.send(format!("{pw}\r\na2 EXAMINE INBOX\r\n").as_bytes()).await;
    let login = c.reply("a1").await;
    let ok = login.last().unwrap();
    assert!(ok.starts_with("a1 OK [CAPABILITY IMAP4rev1"), "{login:?}");
    assert!(!ok.contains("AUTH=XOAUTH2"), "post-login capabilities: {ok}");
    let examine = c.reply("a2").await;
    assert!(
        examine.iter().any(|l| l == &format!("* {INBOX_MESSAGES} EXISTS")),
        "{examine:?}"
    );
    let bye = c.command("a3", "LOGOUT").await;
    assert!(bye.last().unwrap().starts_with("a3 OK"), "{bye:?}");
}

/// [`NAME`] pointed at a [`connection_counter`] instead of Dovecot, with a proxy password:
/// the count of upstream connections and the password.
async fn behind_a_counter(env: &MailEnv) -> (Arc<AtomicUsize>, String) {
    let (port, upstream) = connection_counter().await;
    let port = port.to_string();
    env.cli
        .add_oauth(
            &env.idp,
            NAME,
            OAUTH_USER,
            &["--host", "127.0.0.1", "--port", &port],
        )
        .await;
    (upstream, password(&env.cli, NAME).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_and_wrong_passwords_get_the_same_answer_and_reach_nothing() {
    let Some(env) = MailEnv::start().await else { return };
    let (upstream, _pw) = behind_a_counter(&env).await;
    let tokens_before = env.idp.token_requests();
    let p = start(&env.cli, config()).await;
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    let wrong = c
        .command("a1", &format!("LOGIN {} wrongpassword", quoted(NAME)))
        .await;
    let unknown = c.command("a2", "LOGIN nobody@example.com wrongpassword").await;
    let strip = |l: &str| l.split_once(' ').map(|x| x.1.to_string()).unwrap_or_default();
    assert_eq!(strip(wrong.last().unwrap()), strip(unknown.last().unwrap()));
    assert!(
        wrong.last().unwrap().starts_with("a1 NO [AUTHENTICATIONFAILED]"),
        "{wrong:?}"
    );
    // The third failure on one connection ends it.
    let third = c.command("a3", "LOGIN x y").await;
    assert!(third.last().unwrap().starts_with("a3 NO"));
    assert!(c.until_closed().await.contains("* BYE too many failed logins"));
    assert_eq!(upstream.load(Ordering::SeqCst), 0);
    assert_eq!(env.idp.token_requests(), tokens_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_wrong_passwords_hit_the_rate_limit_and_never_the_upstream() {
    let Some(env) = MailEnv::start().await else { return };
    let (upstream, pw) = behind_a_counter(&env).await;
    let tokens_before = env.idp.token_requests();
    let p = start(&env.cli, config()).await;
    let (mut refused, mut limited, mut tried) = (0, 0, 0);
    while tried < 1000 {
        let mut c = Raw::connect(p.port).await;
        c.line().await;
        loop {
            tried += 1;
            c.send(format!("t LOGIN {} wrong{tried}\r\n", quoted(NAME)).as_bytes())
                .await;
            let Some(line) = c.line().await else { break };
            assert!(line.starts_with("t NO [AUTHENTICATIONFAILED]"), "{line}");
            if line.contains("too many failed logins from") {
                limited += 1;
                c.until_closed().await;
                break;
            }
            refused += 1;
            if tried >= 1000 || refused % 3 == 0 {
                break;
            }
        }
    }
    assert_eq!(refused, 10, "ten tries before the limit");
    assert!(limited >= 980, "{limited}");
    // The limit holds even for the right password.
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    let right = c.command("r", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    assert!(
        right.last().unwrap().contains("too many failed logins"),
        "{right:?}"
    );
    assert_eq!(upstream.load(Ordering::SeqCst), 0, "no upstream connection");
    assert_eq!(env.idp.token_requests(), tokens_before, "no token request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_before_login_is_bounded_and_answered() {
    let Some(env) = MailEnv::start().await else { return };
    env.add_connected(NAME).await;
    let pw = password(&env.cli, NAME).await;
    let mut cfg = config();
    cfg.preauth_timeout = Duration::from_secs(2);
    let mut p = start(&env.cli, cfg).await;

    // Garbage, commands that need a login, bad syntax: BAD, and the connection lives on.
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    c.send(b"\x00\xff\xfe garbage \x1b[2J\r\n").await;
    assert!(c.line().await.unwrap().starts_with("* BAD"));
    let select = c.command("s1", "SELECT INBOX").await;
    assert!(select.last().unwrap().starts_with("s1 BAD"), "{select:?}");
    let xo = c.command("s2", "AUTHENTICATE XOAUTH2 dXNlcg==").await;
    assert!(xo.last().unwrap().starts_with("s2 BAD"), "{xo:?}");
    let noop = c.command("s3", "NOOP").await;
    assert!(noop.last().unwrap().starts_with("s3 OK"));
    let id = c.command("s4", "ID (\"name\" \"test\")").await;
    assert!(id[0].starts_with("* ID"), "{id:?}");
    drop(c);

    // A 1 MiB line: refused once it passes the bound, and closed.
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    let big = vec![b'A'; 1 << 20];
    let _ = c.r.get_mut().write_all(&big).await;
    assert!(c.until_closed().await.contains("* BYE line or literal too long"));

    // A literal too large to accept.
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    c.send(b"l1 LOGIN user {999999}\r\n").await;
    assert!(c.until_closed().await.contains("* BYE"));

    // An unterminated literal and a slowloris line: both closed by the pre-auth timer.
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    c.send(b"l2 LOGIN user {100}\r\n").await;
    assert!(c.line().await.unwrap().starts_with('+'));
    c.send(b"only ten b").await;
    assert!(c.until_closed().await.contains("* BYE autologout"));
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    c.send(b"l3 LOG").await;
    assert!(c.until_closed().await.contains("* BYE autologout"));

    // Drain the reports so far; then the proxy still serves a good login.
    for _ in 0..5 {
        p.session().await;
    }
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    let ok = c.command("g", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    assert!(ok.last().unwrap().starts_with("g OK"), "{ok:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_connections_are_held_then_timed_out_and_the_limit_holds() {
    let Some(env) = MailEnv::start().await else { return };
    env.add_connected(NAME).await;
    let pw = password(&env.cli, NAME).await;
    let mut cfg = config();
    cfg.max_connections = 1001;
    cfg.preauth_timeout = Duration::from_secs(5);
    let p = start(&env.cli, cfg).await;
    let mut idle = Vec::new();
    for _ in 0..1000 {
        let mut c = Raw::connect(p.port).await;
        assert!(c.line().await.unwrap().starts_with("* OK"));
        idle.push(c);
    }
    // One slot left: a login works beside the 1,000 idle ones.
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    let ok = c.command("g", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    assert!(ok.last().unwrap().starts_with("g OK"), "{ok:?}");
    // Over the limit: one BYE, closed.
    let mut over = Raw::connect(p.port).await;
    assert!(over.until_closed().await.contains("* BYE too many connections"));
    // The idle ones are closed by the pre-auth timer.
    for c in &mut idle {
        assert!(c.until_closed().await.contains("* BYE autologout"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_vanishes_mid_fetch_ends_only_its_session() {
    let Some(env) = MailEnv::start().await else { return };
    env.add_connected(NAME).await;
    let pw = password(&env.cli, NAME).await;
    let big = format!(
        "From: a@example.com\r\nTo: {OAUTH_USER}\r\nSubject: big\r\n\r\n{}",
        "0123456789abcdef\r\n".repeat(300_000)
    );
    env.dovecot.deliver(OAUTH_USER, big.as_bytes());
    let mut p = start(&env.cli, config()).await;
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    c.command("a", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    c.command("b", "SELECT INBOX").await;
    c.send(b"c FETCH 1:* BODY[]\r\n").await;
    let first = c.line().await.unwrap();
    assert!(first.starts_with("* 1 FETCH"), "{first}");
    drop(c);
    let r = p.session().await;
    assert!(matches!(r.outcome, Outcome::Relayed { .. }), "{:?}", r.outcome);
    // Others are served.
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    let ok = c.command("g", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    assert!(ok.last().unwrap().starts_with("g OK"), "{ok:?}");
}

/// A Basic server on a scripted upstream (no token involved).
async fn add_scripted(cli: &Cli, name: &str, script: Vec<support::hostile::Step>) {
    let port = support::hostile::start(script, true).await.to_string();
    let ca = support::tls_fixture("ca.pem").display().to_string();
    let out = cli
        .run(
            &[
                "add",
                name,
                "--auth",
                "basic",
                "--username",
                "u@example.com",
                "--password-stdin",
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--ca-file",
                &ca,
            ],
            Some("upstream-password"),
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_hangs_or_drops_costs_only_its_own_session() {
    use support::hostile::{Step, send};
    let cli = Cli::new();
    add_scripted(
        &cli,
        "Hangs",
        vec![send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"), Step::Hang],
    )
    .await;
    add_scripted(
        &cli,
        "Drops",
        vec![
            send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"),
            Step::Read,
            send("i1 OK [CAPABILITY IMAP4rev1 IDLE] welcome\r\n"),
            Step::Read,
        ],
    )
    .await;
    let hang_pw = {
        let out = cli.run(&["proxy", "password", "Hangs"], None).await;
        text(&out.stdout).trim().to_string()
    };
    let drop_pw = {
        let out = cli.run(&["proxy", "password", "Drops"], None).await;
        text(&out.stdout).trim().to_string()
    };
    let mut cfg = config();
    cfg.upstream_timeouts = Timeouts {
        connect: Duration::from_secs(2),
        tls: Duration::from_secs(2),
        command: Duration::from_secs(2),
        authenticate: Duration::from_secs(2),
    };
    let p = start(&cli, cfg).await;
    // The hanging one: a timeout, told as a login failure; meanwhile another session works.
    let hanging = tokio::spawn(async move {
        let mut c = Raw::connect(p.port).await;
        c.line().await;
        c.command("h", &format!("LOGIN Hangs {hang_pw}")).await
    });
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    let ok = c.command("d1", &format!("LOGIN Drops {drop_pw}")).await;
    assert!(
        ok.last()
            .unwrap()
            .starts_with("d1 OK [CAPABILITY IMAP4rev1 IDLE]"),
        "{ok:?}"
    );
    // The upstream drops after one command: the client sees the end.
    c.send(b"d2 NOOP\r\n").await;
    c.until_closed().await;
    let hung = bounded("hang", hanging).await.unwrap();
    let last = hung.last().unwrap();
    assert!(
        last.starts_with("h NO [AUTHENTICATIONFAILED]") && last.contains("timed out"),
        "{hung:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_needs_sign_in_is_named_with_its_fix_and_nothing_interactive_starts() {
    let Some(env) = MailEnv::start().await else { return };
    let port = env.dovecot.port.to_string();
    env.cli
        .add_oauth(
            &env.idp,
            NAME,
            OAUTH_USER,
            &["--host", "127.0.0.1", "--port", &port],
        )
        .await;
    let pw = password(&env.cli, NAME).await;
    let mut p = start(&env.cli, config()).await;
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    let no = c.command("a", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    let line = no.last().unwrap();
    assert!(line.starts_with("a NO [AUTHENTICATIONFAILED]"), "{line}");
    assert!(line.contains(NAME) && line.contains("inbound connect"), "{line}");
    drop(c);
    let r = p.session().await;
    assert!(
        matches!(r.outcome, Outcome::Upstream { refused: true, .. }),
        "{:?}",
        r.outcome
    );
    assert_eq!(env.idp.authorize_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_starttls_use_the_certificate_made_on_first_start() {
    let Some(env) = MailEnv::start().await else { return };
    env.add_connected(NAME).await;
    let pw = password(&env.cli, NAME).await;
    let mut cfg = config();
    cfg.tls_listen = Some("127.0.0.1:0".parse().unwrap());
    let p = start(&env.cli, cfg).await;
    let ca = std::fs::read(env.cli.store().proxy_ca_path()).unwrap();
    let connector = tokio_native_tls::TlsConnector::from(
        tokio_native_tls::native_tls::TlsConnector::builder()
            .add_root_certificate(tokio_native_tls::native_tls::Certificate::from_pem(&ca).unwrap())
            .build()
            .unwrap(),
    );
    // Implicit TLS.
    let tcp = TcpStream::connect(("127.0.0.1", p.tls_port.unwrap()))
        .await
        .unwrap();
    let tls = bounded("tls", connector.connect("localhost", tcp)).await.unwrap();
    let mut c = Raw {
        r: BufReader::new(tls),
    };
    assert!(!c.line().await.unwrap().contains("STARTTLS"));
    let ok = c.command("a", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    assert!(ok.last().unwrap().starts_with("a OK"), "{ok:?}");
    // STARTTLS on the plain port.
    let mut c = Raw::connect(p.port).await;
    assert!(c.line().await.unwrap().contains("STARTTLS"));
    let go = c.command("s", "STARTTLS").await;
    assert!(go.last().unwrap().starts_with("s OK"));
    let tcp = c.r.into_inner();
    let tls = bounded("starttls", connector.connect("127.0.0.1", tcp))
        .await
        .unwrap();
    let mut c = Raw {
        r: BufReader::new(tls),
    };
    c.line().await;
    let ok = c.command("b", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    assert!(ok.last().unwrap().starts_with("b OK"), "{ok:?}");
}

/// `inbound proxy` as a process, with the address it printed.
async fn spawn_proxy(
    cli: &Cli,
    extra: &[&str],
) -> (tokio::process::Child, u16, tokio::task::JoinHandle<String>) {
    let mut args = vec!["proxy", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut c = cli.cmd(&args);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    bounded("banner", err.read_line(&mut line)).await.unwrap();
    let addr: SocketAddr = line
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let rest = tokio::spawn(async move {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s).await;
        s
    });
    (child, addr.port(), rest)
}

fn signal(child: &tokio::process::Child, sig: &str) {
    let pid = child.id().unwrap().to_string();
    let ok = std::process::Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_accepting_and_lets_the_open_session_finish() {
    let Some(env) = MailEnv::start().await else { return };
    env.add_connected(NAME).await;
    let pw = password(&env.cli, NAME).await;
    let (mut child, port, stderr) = spawn_proxy(&env.cli, &["--grace", "30"]).await;
    let mut c = Raw::connect(port).await;
    c.line().await;
    let ok = c.command("a", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    assert!(ok.last().unwrap().starts_with("a OK"), "{ok:?}");
    signal(&child, "-TERM");
    // New connections are refused once the listener is gone.
    let refused = bounded("listener closed", async {
        loop {
            if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
                return true;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(refused);
    // The open session still works, and ends normally.
    let st = c.command("b", "STATUS INBOX (MESSAGES)").await;
    assert!(
        st.iter()
            .any(|l| l.contains(&format!("MESSAGES {INBOX_MESSAGES}"))),
        "{st:?}"
    );
    c.command("c", "LOGOUT").await;
    let status = bounded("exit", child.wait()).await.unwrap();
    assert!(status.success(), "{status:?}");
    let log = stderr.await.unwrap();
    // At least the logged-in session; a probe of the loop above may have been accepted just
    // before the listener closed, and counts too.
    assert!(
        log.lines()
            .any(|l| l.contains("stopping;") && !l.contains("stopping; 0 open")),
        "{log}"
    );
    assert!(!log.contains(&pw));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_on_one_store_refresh_once() {
    let Some(env) = MailEnv::start().await else { return };
    // Tokens with a minute left: a session needs more, so the first logins must refresh.
    env.idp.set_access_token_lifetime(60);
    env.add_connected(NAME).await;
    env.idp.set_access_token_lifetime(3599);
    let pw = password(&env.cli, NAME).await;
    let before = env.idp.refresh_requests();
    let (_a, port_a, _) = spawn_proxy(&env.cli, &[]).await;
    let (_b, port_b, _) = spawn_proxy(&env.cli, &[]).await;
    // The second one on the first one's port is refused with a clear message.
    let clash = env
        .cli
        .run(&["proxy", "--listen", &format!("127.0.0.1:{port_a}")], None)
        .await;
    assert_eq!(clash.status.code(), Some(1));
    assert!(
        text(&clash.stderr).contains("cannot listen on"),
        "{}",
        text(&clash.stderr)
    );
    let login = |port: u16, pw: String| async move {
        let mut c = Raw::connect(port).await;
        c.line().await;
        c.command("a", &format!("LOGIN {} {pw}", quoted(NAME))).await
    };
    let (x, y) = tokio::join!(login(port_a, pw.clone()), login(port_b, pw.clone()));
    assert!(x.last().unwrap().starts_with("a OK"), "{x:?}");
    assert!(y.last().unwrap().starts_with("a OK"), "{y:?}");
    assert_eq!(
        env.idp.refresh_requests() - before,
        1,
        "single-flight across the two"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_refresh_loses_no_token() {
    let Some(env) = MailEnv::start().await else { return };
    env.idp.set_access_token_lifetime(60);
    env.add_connected(NAME).await;
    env.idp.set_access_token_lifetime(3599);
    let pw = password(&env.cli, NAME).await;
    // An identity provider that takes the refresh request and never answers.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_url = format!("http://127.0.0.1:{}", hole.local_addr().unwrap().port());
    let (got_tx, mut got) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = hole.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = got_tx.send(()).await;
            held.push(s);
        }
    });
    let app = NAME; // add_oauth names the app after the server
    let real = env.idp.authority();
    let out = env
        .cli
        .run(
            &["edit", "--app", app, "--authority", &hole_url, "--no-check"],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (mut child, port, _) = spawn_proxy(&env.cli, &[]).await;
    let mut c = Raw::connect(port).await;
    c.line().await;
    c.send(format!("a LOGIN {} {pw}\r\n", quoted(NAME)).as_bytes())
        .await;
    bounded("refresh request", got.recv()).await.unwrap();
    signal(&child, "-KILL");
    bounded("killed", child.wait()).await.unwrap();
    // Back to the real authority: the stored refresh token still works.
    let out = env
        .cli
        .run(&["edit", "--app", app, "--authority", &real, "--no-check"], None)
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tok = env.cli.run(&["token", NAME], None).await;
    assert!(tok.status.success(), "{}", text(&tok.stderr));
    assert!(env.idp.is_valid_access_token(text(&tok.stdout).trim()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_during_idle_leaves_the_session_alone_and_the_next_login_gets_a_fresh_one() {
    let Some(env) = MailEnv::start().await else { return };
    // Short-lived tokens: each session must start with a fresh one (15 minutes left at least).
    env.idp.set_access_token_lifetime(60);
    env.add_connected(NAME).await;
    let pw = password(&env.cli, NAME).await;
    let p = start(&env.cli, config()).await;
    let before = env.idp.refresh_requests();
    let mut c = Raw::connect(p.port).await;
    c.line().await;
    let ok = c.command("a", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    assert!(ok.last().unwrap().starts_with("a OK"), "{ok:?}");
    assert_eq!(
        env.idp.refresh_requests() - before,
        1,
        "a token with a minute left was replaced"
    );
    c.command("b", "SELECT INBOX").await;
    c.send(b"c IDLE\r\n").await;
    assert!(c.line().await.unwrap().starts_with('+'));
    // The session's token dies while it idles. The proxy does not touch the session: what the
    // server does about it (Exchange: BYE AccessTokenExpired) reaches the client untouched.
    env.idp.expire_all_access_tokens();
    c.send(b"DONE\r\n").await;
    let done = c.reply("c").await;
    assert!(done.last().unwrap().starts_with("c OK"), "{done:?}");
    // The reconnect logs in with a fresh token.
    let mut d = Raw::connect(p.port).await;
    d.line().await;
    let ok = d.command("e", &format!("LOGIN {} {pw}", quoted(NAME))).await;
    assert!(ok.last().unwrap().starts_with("e OK"), "{ok:?}");
    assert_eq!(env.idp.refresh_requests() - before, 2);
}
