//! End to end through the real binary: add → connect (the test plays the browser against the
//! fake identity provider) → test against a real Dovecot → Confirmed → token → that token logs
//! in to Dovecot. Plus Basic auth, refresh rotation, failures and the log-leak guard.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use inbound::services::imap::{Credentials, ProbeSettings, Timeouts, probe};
use std::path::PathBuf;
use std::process::{Output, Stdio};
use support::cli::text;
use support::dovecot::{BASIC_PASSWORD, BASIC_USER, INBOX_MESSAGES, OAUTH_USER};
use support::fake_idp::DEFAULT_CLIENT_SECRET;
use support::imap::ImapClient;
use support::mail::MailEnv;

const NAME: &str = "Support inbox";

/// `add NAME` on the Dovecot, with a secret expiry in six months.
async fn add_oauth(env: &MailEnv, name: &str) {
    let expires = support::months_ahead(6);
    env.add(name, OAUTH_USER, &["--secret-expires", &expires]).await;
}

/// `add NAME --auth basic` for [`BASIC_USER`] on the Dovecot.
async fn add_basic(env: &MailEnv, name: &str, password: &str) -> Output {
    let server = env.dovecot.server_args();
    let mut args = vec![
        "add",
        name,
        "--auth",
        "basic",
        "--username",
        BASIC_USER,
        "--password-stdin",
    ];
    args.extend(server.words());
    env.cli.run(&args, Some(password)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_connect_test_confirm_token_end_to_end() {
    let Some(env) = MailEnv::start().await else { return };
    add_oauth(&env, NAME).await;

    let show = env.cli.run(&["show", NAME, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["state"], "Draft");
    assert_eq!(v["app"]["secret"], "••••••••");
    assert!(!text(&show.stdout).contains(DEFAULT_CLIENT_SECRET));
    assert_eq!(v["redirect_url"], "http://localhost/microsoft_outlook/confirm");

    let (out, status, page) = env.cli.connect(NAME).await;
    assert!(out.status.success(), "connect failed: {}", text(&out.stderr));
    assert_eq!(status, 200);
    assert!(page.contains("Outlook token is valid"), "{page}");
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .starts_with("Outlook token is valid: signed in as alice@example.com"),
        "{stdout}"
    );

    let test = env.cli.run(&["test", NAME], None).await;
    assert!(
        test.status.success(),
        "test failed: {}{}",
        text(&test.stdout),
        text(&test.stderr)
    );
    assert!(text(&test.stdout).contains(&format!("Confirmed · INBOX has {INBOX_MESSAGES} messages")));
    let stages = text(&test.stderr);
    for stage in [
        "connect",
        "TLS",
        "greeting",
        "capabilities",
        "authenticate",
        "INBOX",
        "logout",
    ] {
        assert!(
            stages.contains(&format!("✔ {stage}")),
            "missing stage {stage}: {stages}"
        );
    }

    let list = env.cli.run(&["list", "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v[0]["state"], "Confirmed");
    assert_eq!(v[0]["health"]["token"]["state"], "valid");
    assert_eq!(v[0]["last_test"]["messages"], INBOX_MESSAGES);

    // The token other programs get logs in to Dovecot.
    let tok = env.cli.run(&["token", NAME], None).await;
    assert!(tok.status.success());
    let token = text(&tok.stdout).trim().to_string();
    assert!(env.idp.is_valid_access_token(&token));
    let settings = ProbeSettings {
        host: "127.0.0.1".into(),
        port: env.dovecot.port,
        tls: true,
        ca_file: Some(env.dovecot.ca_file.clone()),
        timeouts: Timeouts::default(),
    };
    let creds = Credentials::XOAuth2 {
        user: OAUTH_USER.into(),
        access_token: inbound::secret::Secret::new(token),
    };
    assert_eq!(
        probe(&settings, &creds, |_| {}).await.unwrap().messages,
        INBOX_MESSAGES
    );

    // The xoauth2 format, used verbatim in AUTHENTICATE XOAUTH2 (credential-helper recipe).
    let x = env.cli.run(&["token", NAME, "--format", "xoauth2"], None).await;
    let mut imap = ImapClient::connect(env.dovecot.port, &env.dovecot.ca_file).await;
    let reply = imap.authenticate("XOAUTH2", text(&x.stdout).trim()).await;
    assert!(reply.is_ok(), "{reply:?}");
    // No network for a valid token: nothing reached the token endpoint since connect.
    assert_eq!(env.idp.refresh_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_saves_the_rotated_refresh_token() {
    let Some(env) = MailEnv::start().await else { return };
    add_oauth(&env, NAME).await;
    assert!(env.cli.connect(NAME).await.0.status.success());
    let before = env.cli.run(&["token", NAME], None).await;
    for round in 1..=3 {
        let r = env.cli.run(&["refresh", NAME], None).await;
        assert!(
            r.status.success(),
            "refresh {round}: {}{}",
            text(&r.stdout),
            text(&r.stderr)
        );
    }
    // The fake rejects every refresh token but the newest, so three successes prove rotation.
    assert_eq!(env.idp.refresh_requests(), 3);
    let after = env.cli.run(&["token", NAME], None).await;
    assert_ne!(before.stdout, after.stdout);
    // refresh --all with a summary
    let all = env.cli.run(&["refresh", "--all"], None).await;
    assert!(
        text(&all.stdout).contains("1 refreshed, 0 failed"),
        "{}",
        text(&all.stdout)
    );
}

/// More servers than Dovecot's default sessions per user and IP (10), all at once: every one
/// is Confirmed, and each result is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_all_runs_them_at_once_and_records_each() {
    let Some(env) = MailEnv::start().await else { return };
    let names: Vec<String> = (1..=12).map(|i| format!("Inbox {i}")).collect();
    for name in &names {
        add_oauth(&env, name).await;
        assert!(env.cli.connect(name).await.0.status.success());
    }
    let all = env.cli.run(&["test", "--all", "--json"], None).await;
    assert!(all.status.success(), "{}{}", text(&all.stdout), text(&all.stderr));
    let v: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let servers: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["server"].as_str().unwrap())
        .collect();
    assert_eq!(servers, names, "in the order of the store");
    assert!(v.as_array().unwrap().iter().all(|r| r["ok"] == true), "{v}");
    let list = env.cli.run(&["list", "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    for s in v.as_array().unwrap() {
        assert_eq!(s["state"], "Confirmed", "{s}");
        assert_eq!(s["last_test"]["messages"], INBOX_MESSAGES, "{s}");
    }
    // --jobs lowers the concurrency; zero is refused.
    let one = env.cli.run(&["test", "--all", "--jobs", "1"], None).await;
    assert!(one.status.success(), "{}", text(&one.stderr));
    let zero = env.cli.run(&["test", "--all", "--jobs", "0"], None).await;
    assert_eq!(zero.status.code(), Some(2), "{}", text(&zero.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_against_dovecot() {
    let Some(env) = MailEnv::start().await else { return };
    let add = add_basic(&env, "Bob", BASIC_PASSWORD).await;
    assert!(add.status.success(), "{}", text(&add.stderr));
    let t = env.cli.run(&["test", "Bob"], None).await;
    assert!(t.status.success(), "{}{}", text(&t.stdout), text(&t.stderr));
    assert!(text(&t.stdout).contains("Confirmed"));
    assert!(!text(&t.stdout).contains(BASIC_PASSWORD) && !text(&t.stderr).contains(BASIC_PASSWORD));

    // A wrong password: refused at the authenticate stage, exit 1, state unchanged.
    let add = add_basic(&env, "Bad", "wrong").await;
    assert!(add.status.success());
    let t = env.cli.run(&["test", "Bad", "--json"], None).await;
    assert_eq!(t.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    assert_eq!(v[0]["stage"], "authenticate");
    let show = env.cli.run(&["show", "Bad", "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["state"], "Draft");
    assert_eq!(v["last_test"]["ok"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_at_tls_with_a_hint() {
    let Some(env) = MailEnv::start().await else { return };
    add_oauth(&env, NAME).await;
    assert!(env.cli.connect(NAME).await.0.status.success());
    let other = env.dovecot.ca_file.with_file_name("other-ca.pem");
    let other = if other.exists() {
        other
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/other-ca.pem")
    };
    let e = env
        .cli
        .run(&["edit", NAME, "--ca-file", &other.display().to_string()], None)
        .await;
    assert!(e.status.success(), "{}", text(&e.stderr));
    let t = env.cli.run(&["test", NAME], None).await;
    assert_eq!(t.status.code(), Some(1));
    let out = text(&t.stdout);
    assert!(out.contains("failed at TLS"), "{out}");
    assert!(out.contains("--ca-file"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_token_never_reaches_the_log_even_at_trace_level() {
    let Some(env) = MailEnv::start().await else { return };
    add_oauth(&env, NAME).await;
    assert!(env.cli.connect(NAME).await.0.status.success());
    let mut c = env.cli.cmd(&["test", NAME]);
    c.env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = c.output().await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&env.cli.run(&["token", NAME], None).await.stdout)
        .trim()
        .to_string();
    let xoauth2 = inbound::services::xoauth2::encode(OAUTH_USER, &token);
    let log = std::fs::read_to_string(env.cli.store().log_dir().join("inbound.log")).unwrap();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "trace logging was not on"
    );
    assert!(!log.contains(&token), "access token in the log");
    assert!(!log.contains(&xoauth2), "XOAUTH2 line in the log");
    assert!(!log.contains(DEFAULT_CLIENT_SECRET), "client secret in the log");
}
