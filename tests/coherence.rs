//! Screens and commands tell the truth: defects found on a new administrator's walk, each
//! checked through the binary.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod support;

use support::cli::{Cli, text};
use support::dovecot::{Dovecot, OAUTH_USER};
use support::fake_idp::FakeIdp;

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
}

/// When the token is another account's, Test & Confirm says so, naming both.
#[tokio::test]
async fn a_refused_login_with_another_accounts_token_names_both_accounts() {
    let idp = FakeIdp::start().await;
    let Some(dovecot) = Dovecot::start(&idp.introspection_url()) else {
        return;
    };
    idp.set_account("bob@example.com");
    let cli = Cli::new();
    let port = dovecot.port.to_string();
    let ca = dovecot.ca_file.display().to_string();
    cli.add_oauth(
        &idp,
        "A",
        OAUTH_USER,
        &["--host", "127.0.0.1", "--port", &port, "--ca-file", &ca],
    )
    .await;
    let (out, status, _) = cli.connect("A").await;
    assert_eq!(status, 200);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli.run(&["test", "A"], None).await;
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        all.contains("bob@example.com") && all.contains(OAUTH_USER),
        "{all}"
    );
    assert!(!all.contains("gives no reason"), "{all}");
    assert!(all.contains("Add-MailboxPermission"), "{all}");
}
