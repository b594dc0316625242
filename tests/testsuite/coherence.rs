//! Screens and commands tell the truth: defects found on a new administrator's walk, each
//! checked through the binary.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use support::cli::{Cli, text};
use support::dovecot::OAUTH_USER;
use support::fake_idp::FakeIdp;
use support::mail::MailEnv;

/// A test before sign-in is no test result: nothing is recorded, and after sign-in nothing
/// headlines "last test failed".
#[tokio::test]
async fn a_test_before_sign_in_records_no_test_result() {
    let idp = FakeIdp::start().await;
    idp.set_account(OAUTH_USER);
    let cli = Cli::new();
    cli.add_oauth(&idp, "A", OAUTH_USER, &["--host", "127.0.0.1", "--port", "1"])
        .await;
    let out = cli.run(&["test", "A"], None).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("not signed in yet"), "{all}");
    let server = cli.store().load().unwrap().server("A").unwrap().clone();
    assert!(server.last_test.is_none(), "{:?}", server.last_test);
    let (out, status, _) = cli.connect("A").await;
    assert_eq!(status, 200);
    assert!(out.status.success());
    let check = cli.run(&["check", "A"], None).await;
    let said = text(&check.stdout);
    assert!(!said.contains("last test failed"), "{said}");
    // The log tells the story: the sign-in and the failed test, by stage.
    let out = cli.run(&["test", "A", "--timeout", "2"], None).await;
    assert_eq!(out.status.code(), Some(1));
    let log = std::fs::read_to_string(cli.config_dir().join("logs/inbound.log")).unwrap();
    assert!(log.contains("signed in, tokens stored"), "{log}");
    assert!(
        log.contains("test: failed") && log.contains("stage=connect"),
        "{log}"
    );
}

/// When the token is another account's, Test & Confirm says so, naming both.
#[tokio::test]
async fn a_refused_login_with_another_accounts_token_names_both_accounts() {
    let Some(env) = MailEnv::start().await else {
        return;
    };
    env.add("A", OAUTH_USER, &[]).await;
    env.idp.set_account("bob@example.com");
    let (out, status, _) = env.cli.connect("A").await;
    assert_eq!(status, 200);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.cli.run(&["test", "A"], None).await;
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        all.contains("bob@example.com") && all.contains(OAUTH_USER),
        "{all}"
    );
    assert!(!all.contains("gives no reason"), "{all}");
    assert!(all.contains("Add-MailboxPermission"), "{all}");
}

/// A port the user chose is never silently replaced: the message says which port and who
/// holds it. `--any-port` allows the fallback; public URL mode never falls back.
#[tokio::test]
async fn a_chosen_listener_port_that_is_busy_is_not_replaced() {
    let idp = FakeIdp::start().await;
    let cli = Cli::new();
    cli.add_oauth(&idp, "A", OAUTH_USER, &["--host", "127.0.0.1", "--port", "1"])
        .await;
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = cli.run(&["settings", "--listen-port", &port], None).await;
    assert!(out.status.success());
    let out = cli
        .run(&["connect", "A", "--no-browser", "--timeout", "5"], None)
        .await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("port {port}")) && err.contains("busy"),
        "{err}"
    );
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "names who holds it: {err}"
    );
    assert!(err.contains("settings"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "no sign-in link for a listener that is not there"
    );

    // Allowed explicitly: a free port, and the output says so.
    let (mut child, _stdout, url) = cli
        .start_connect("A", &["--no-browser", "--listen-port", &port, "--any-port"])
        .await;
    assert!(url.contains("redirect_uri=http%3A%2F%2Flocalhost%3A"), "{url}");
    assert!(!url.contains(&format!("localhost%3A{port}%2F")), "{url}");
    let _ = child.start_kill();
    let _ = child.wait().await;

    // Behind a reverse proxy only the configured port would be reached.
    let out = cli
        .run(
            &[
                "settings",
                "--public-url",
                "https://mail.example.com",
                "--listen-address",
                "127.0.0.1",
            ],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli
        .run(
            &["connect", "A", "--no-browser", "--timeout", "5", "--any-port"],
            None,
        )
        .await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("reverse proxy"), "{err}");
    drop(busy);
}

/// Completions and the man page come from the clap definitions and cover every command.
#[tokio::test]
async fn completions_and_man_page_are_generated() {
    let cli = Cli::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = cli.run(&["completions", shell], None).await;
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        for cmd in ["connect", "token", "check", "refresh"] {
            assert!(script.contains(cmd), "{shell} completions lack {cmd}");
        }
    }
    let bash = cli.run(&["completions", "bash"], None).await;
    let path = cli.dir.path().join("inbound.bash");
    std::fs::write(&path, &bash.stdout).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .unwrap();
    assert!(syntax.success(), "bash completions do not parse");
    let man = cli.run(&["man"], None).await;
    assert!(man.status.success());
    let page = text(&man.stdout);
    assert!(
        page.contains(".TH inbound 1") && page.contains("connect"),
        "{page}"
    );
    // One page: no reference to a page per command (none is installed).
    assert!(!page.contains("inbound-add(1)"), "{page}");
    // The exit codes are not filled into one paragraph.
    let codes = page.split(".SH \"EXIT STATUS\"").nth(1).unwrap_or_default();
    assert!(codes.trim_start().starts_with(".nf"), "{page}");
    assert!(!cli.config_dir().exists(), "generating docs touches no store");
}

/// One registration, one app record: the same client ID and tenant typed again reuse it;
/// `apps` shows who uses each; removing the last user says the app is unused.
#[tokio::test]
async fn azure_apps_are_visible_and_not_duplicated() {
    let idp = FakeIdp::start().await;
    let cli = Cli::new();
    cli.add_oauth(&idp, "Support", "support@example.com", &["--host", "127.0.0.1"])
        .await;
    cli.add_oauth(&idp, "Sales", "sales@example.com", &["--host", "127.0.0.1"])
        .await;
    let config = cli.store().load().unwrap();
    assert_eq!(config.apps.len(), 1, "{:?}", config.apps);
    assert_eq!(config.servers_using(&config.apps[0].name).len(), 2);
    let out = cli.run(&["apps"], None).await;
    let table = text(&out.stdout);
    assert!(table.contains("Support, Sales"), "{table}");
    let out = cli.run(&["apps", "--json"], None).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["servers"].as_array().unwrap().len(), 2);
    assert_eq!(json[0]["has_secret"], true);
    assert!(!text(&out.stdout).contains(support::fake_idp::DEFAULT_CLIENT_SECRET));

    let out = cli.run(&["remove", "Sales"], None).await;
    assert!(
        !text(&out.stderr).contains("used by no server"),
        "{}",
        text(&out.stderr)
    );
    let out = cli.run(&["remove", "Support"], None).await;
    let err = text(&out.stderr);
    assert!(
        err.contains("used by no server") && err.contains("inbound remove --app"),
        "{err}"
    );
}

/// The help a newcomer reads: every NAME and option says what it is, `--auth` names its three
/// values, and a test or refresh without NAME says --all is the other way.
#[tokio::test]
async fn help_texts_describe_every_argument() {
    let cli = Cli::new();
    for command in ["show", "connect", "test", "refresh", "remove"] {
        let out = cli.run(&[command, "-h"], None).await;
        let help = text(&out.stdout);
        let name = help
            .lines()
            .skip_while(|l| !l.starts_with("Arguments:"))
            .nth(1)
            .unwrap_or_default();
        assert!(
            name.trim_start().starts_with("[NAME]") || name.trim_start().starts_with("<NAME>"),
            "{command}: {help}"
        );
        assert!(
            name.split_whitespace().count() > 1,
            "{command}: NAME has no words: {help}"
        );
    }
    let add = text(&cli.run(&["add", "-h"], None).await.stdout);
    let port = add.lines().find(|l| l.contains("--port")).unwrap_or_default();
    assert!(port.contains("IMAP port"), "{add}");
    let edit = text(&cli.run(&["edit", "-h"], None).await.stdout);
    assert!(!edit.contains("oauth2 or basic"), "{edit}");
    assert!(edit.contains("oauth2, oauth2-app or basic"), "{edit}");
    for command in ["test", "refresh"] {
        let out = cli.run(&[command], None).await;
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("--all"),
            "{command}: {}",
            text(&out.stderr)
        );
    }
}

/// The README's Quick start works on a fresh Debian machine: it says how to get a Rust new
/// enough (Debian's is not), and sends a newcomer to the demo first.
#[test]
fn the_quick_start_installs_rust_and_starts_with_the_demo() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_default();
    assert!(quick.contains("rustup.rs"), "{quick}");
    let demo = quick.find("inbound demo").unwrap_or(usize::MAX);
    let build = quick.find("cargo run").unwrap_or(0);
    assert!(demo < build, "the demo comes first: {quick}");
}
