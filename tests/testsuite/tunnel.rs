//! `inbound tunnel`: the real binary against the test Dovecot (which refuses LOGIN for OAuth
//! users, like Exchange Online), driven by python3's imaplib (`IMAP4_stream`, the way mail
//! programs run a tunnel) and by raw pipes.
#![allow(clippy::unwrap_used)]

use crate::support;

use std::process::Stdio;
use support::cli::{Cli, text};
use support::dovecot::{BASIC_PASSWORD, BASIC_USER, INBOX_MESSAGES, OAUTH_USER, SHARED_MAILBOX};
use support::mail::{MailEnv, bounded, python};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

const NAME: &str = "Support inbox";

/// Starts `inbound tunnel <words>` with piped stdio.
fn tunnel(cli: &Cli, words: &[&str]) -> tokio::process::Child {
    let mut args = vec!["tunnel"];
    args.extend_from_slice(words);
    let mut c = cli.cmd(&args);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.spawn().expect("spawn tunnel")
}

/// imaplib's IMAP4_stream runs the command through a shell, as mail programs do; it fetches
/// every message and prints how many it got.
const IMAPLIB_TUNNEL: &str = r#"
import imaplib, sys
m = imaplib.IMAP4_stream(sys.argv[1])
assert m.state == 'AUTH', m.state
typ, _ = m.select('INBOX')
assert typ == 'OK'
typ, data = m.search(None, 'ALL')
got = 0
for num in data[0].split():
    typ, msg = m.fetch(num, '(RFC822)')
    assert typ == 'OK' and b'Subject:' in msg[0][1]
    got += 1
m.logout()
print(got)
"#;

fn shell_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_fetches_the_inbox_through_the_tunnel() {
    let Some(env) = MailEnv::start().await else { return };
    env.add_connected(NAME).await;
    // The name's two words unquoted, as fetchmail's plugin passes them.
    let command = format!(
        "{} --config-dir {} tunnel Support inbox",
        shell_word(env!("CARGO_BIN_EXE_inbound")),
        shell_word(&env.cli.config_dir().display().to_string())
    );
    let Some(out) = python(IMAPLIB_TUNNEL, &[&command]).await else {
        return;
    };
    assert!(out.status.success(), "imaplib: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), INBOX_MESSAGES.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preauth_carries_the_servers_capabilities_and_the_session_is_relayed_untouched() {
    let Some(env) = MailEnv::start().await else { return };
    env.add_connected(NAME).await;
    // By Username this time.
    let mut child = tunnel(&env.cli, &[OAUTH_USER]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    bounded("PREAUTH", stdout.read_line(&mut line)).await.unwrap();
    assert!(line.starts_with("* PREAUTH [CAPABILITY IMAP4rev1"), "{line}");
    assert!(!line.contains("AUTH=XOAUTH2"), "post-login capabilities: {line}");
    stdin
        .write_all(b"a1 EXAMINE INBOX\r\na2 LOGOUT\r\n")
        .await
        .unwrap();
    let mut session = String::new();
    loop {
        line.clear();
        if bounded("session", stdout.read_line(&mut line)).await.unwrap() == 0 {
            break;
        }
        session.push_str(&line);
    }
    assert!(
        session.contains(&format!("* {INBOX_MESSAGES} EXISTS")),
        "{session}"
    );
    assert!(session.contains("a1 OK"), "{session}");
    assert!(session.contains("a2 OK"), "{session}");
    let status = bounded("exit", child.wait()).await.unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_basic_server_tunnels_with_login() {
    let Some(env) = MailEnv::start().await else { return };
    let mut args = vec![
        "add",
        "Basic box",
        "--auth",
        "basic",
        "--username",
        BASIC_USER,
        "--password-stdin",
    ];
    let server = env.dovecot.server_args();
    args.extend(server.words());
    let out = env.cli.run(&args, Some(BASIC_PASSWORD)).await;
    assert!(
        out.status.success(),
        "{:?} {}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    let mut child = tunnel(&env.cli, &["Basic", "box"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    bounded("PREAUTH", stdout.read_line(&mut line)).await.unwrap();
    assert!(line.starts_with("* PREAUTH [CAPABILITY "), "{line}");
    stdin
        .write_all(b"b1 STATUS INBOX (MESSAGES)\r\nb2 LOGOUT\r\n")
        .await
        .unwrap();
    drop(stdin);
    let mut rest = String::new();
    bounded(
        "session",
        tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut rest),
    )
    .await
    .unwrap();
    assert!(rest.contains(&format!("(MESSAGES {INBOX_MESSAGES})")), "{rest}");
    let out = bounded("exit", child.wait_with_output()).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_needs_sign_in_gets_one_bye_and_exit_5_without_any_flow() {
    let Some(env) = MailEnv::start().await else { return };
    env.add(NAME, OAUTH_USER, &[]).await;
    let child = tunnel(&env.cli, &[NAME]);
    let out = bounded("tunnel", child.wait_with_output()).await.unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("* BYE "), "{stdout}");
    assert!(stdout.contains("inbound connect"), "{stdout}");
    assert!(
        text(&out.stderr).contains("not signed in"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(env.idp.authorize_requests(), 0);
    assert_eq!(env.idp.device_code_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_refusal_is_one_bye_and_shows_in_the_servers_health() {
    let Some(env) = MailEnv::start().await else { return };
    // Signed in as alice, but the mailbox is a shared one she has no FullAccess on: Dovecot
    // refuses the XOAUTH2 login as Exchange would.
    env.add("Shared", SHARED_MAILBOX, &[]).await;
    let out = env
        .cli
        .run(&["edit", "Shared", "--sign-in-as", OAUTH_USER], None)
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (out, _, _) = env.cli.connect("Shared").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let child = tunnel(&env.cli, &["Shared"]);
    let out = bounded("tunnel", child.wait_with_output()).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("* BYE ") && stdout.contains("refused"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1);
    let list = env.cli.run(&["list", "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v[0]["health"]["level"], "CRITICAL", "{v}");
    assert!(
        v[0]["last_test"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("tunnel: login refused"),
        "{v}"
    );
}
