//! The Cloud Shell path end to end through the binary: the setup code the script prints →
//! `inbound add --setup-code -` (pre-flighted) → `connect` → `test` → Confirmed, with no ID
//! typed; and a code whose secret Microsoft refuses is caught before any browser opens.

use crate::support;

use support::cli::{Cli, text};
use support::dovecot::{Dovecot, OAUTH_USER};
use support::fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp};

const TENANT: &str = "contoso.onmicrosoft.com";

fn code(secret: &str) -> String {
    support::setup_code::delegated(TENANT, secret, &support::months_ahead(12))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_code_goes_to_confirmed_without_typing_an_id() {
    let idp = FakeIdp::start().await;
    idp.set_account(OAUTH_USER);
    let Some(dovecot) = Dovecot::start(&idp.introspection_url()) else {
        return;
    };
    let cli = Cli::new();
    let (port, ca, authority) = (
        dovecot.port.to_string(),
        dovecot.ca_file.display().to_string(),
        idp.authority(),
    );
    let add = [
        "add",
        "Support",
        "--username",
        OAUTH_USER,
        "--setup-code",
        "-",
        "--authority",
        &authority,
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--ca-file",
        &ca,
    ];
    let out = cli
        .run(&add, Some(&format!("{}\n", code(DEFAULT_CLIENT_SECRET))))
        .await;
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("✔ app found") && said.contains("✔ secret accepted"),
        "pre-flight: {said}"
    );
    assert!(!said.contains(DEFAULT_CLIENT_SECRET) && !text(&out.stdout).contains(DEFAULT_CLIENT_SECRET));
    let app = cli.store().load().unwrap().apps[0].clone();
    assert_eq!(app.client_id, DEFAULT_CLIENT_ID);
    assert_eq!(app.tenant, TENANT);

    let (out, status, page) = cli.connect("Support").await;
    assert_eq!(status, 200, "{page}");
    assert!(out.status.success(), "connect: {}", text(&out.stderr));
    let t = cli.run(&["test", "Support"], None).await;
    assert!(t.status.success(), "test: {}{}", text(&t.stdout), text(&t.stderr));
    let server = cli.store().load().unwrap().servers[0].clone();
    assert_eq!(server.state, inbound::model::ServerState::Confirmed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_secret_in_a_setup_code_is_caught_before_any_browser() {
    let idp = FakeIdp::start().await;
    let cli = Cli::new();
    let authority = idp.authority();
    let add = [
        "add",
        "Support",
        "--username",
        OAUTH_USER,
        "--setup-code",
        "-",
        "--authority",
        &authority,
        "--replication-wait",
        "0",
    ];
    // A Secret ID pasted where the Value belongs: a GUID-shaped secret Microsoft refuses.
    let out = cli
        .run(
            &add,
            Some(&format!("{}\n", code("fake~Wrong.Value_0123456789-abcdefghijkl"))),
        )
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("7000215"), "{}", text(&out.stderr));
    assert_eq!(idp.authorize_requests(), 0, "no browser was sent anywhere");
    assert!(
        cli.store().load().unwrap().servers.is_empty(),
        "nothing was saved"
    );
}

/// An app-only code (`setup-script --app-only --mailbox …`) makes an app-only server for a
/// mailbox it granted, which reaches Confirmed with no sign-in; another mailbox is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_only_setup_code_makes_an_app_only_server() {
    const GRANTED: &str = "archive@example.com";
    let idp = FakeIdp::start().await;
    idp.set_app_roles(&["IMAP.AccessAsApp"]);
    let grants = [(GRANTED.to_string(), idp.app_introspection_url(GRANTED))];
    let Some(dovecot) = Dovecot::start_with_app_mailboxes(&idp.introspection_url(), &grants) else {
        return;
    };
    let code = support::setup_code::app_only(TENANT, &[GRANTED]);
    let cli = Cli::new();
    let (port, ca, authority) = (
        dovecot.port.to_string(),
        dovecot.ca_file.display().to_string(),
        idp.authority(),
    );
    let add = |name: &'static str, mailbox: &'static str| {
        vec![
            "add".to_string(),
            name.into(),
            "--username".into(),
            mailbox.into(),
            "--setup-code".into(),
            "-".into(),
            "--authority".into(),
            authority.clone(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.clone(),
            "--ca-file".into(),
            ca.clone(),
        ]
    };
    let args = add("Other", "other@example.com");
    let refused = cli
        .run(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            Some(&format!("{code}\n")),
        )
        .await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("not among the mailboxes"),
        "{}",
        text(&refused.stderr)
    );
    let args = add("Archive", GRANTED);
    let out = cli
        .run(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            Some(&format!("{code}\n")),
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = cli.store().load().unwrap().servers[0].clone();
    assert_eq!(server.auth, inbound::model::AuthKind::OAuth2App);
    let t = cli.run(&["test", "Archive"], None).await;
    assert!(t.status.success(), "test: {}{}", text(&t.stdout), text(&t.stderr));
}

/// After an app-only code the next step is a test (no one signs in, `connect` refuses it), and
/// the admin consent the script granted is recorded, so `show` does not call it unknown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_only_setup_code_points_at_test_and_records_the_consent() {
    const GRANTED: &str = "archive@example.com";
    let code = support::setup_code::app_only(TENANT, &[GRANTED]);
    let cli = Cli::new();
    let add = [
        "add",
        "Archive",
        "--username",
        GRANTED,
        "--setup-code",
        "-",
        "--no-check",
    ];
    let out = cli.run(&add, Some(&format!("{code}\n"))).await;
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("inbound test \"Archive\""), "{said}");
    assert!(!said.contains("inbound connect"), "{said}");
    let app = cli.store().load().unwrap().apps[0].clone();
    assert!(app.admin_consent_at.is_some(), "consent not recorded");
    let show = cli.run(&["show", "Archive"], None).await;
    let shown = text(&show.stdout);
    assert!(show.status.success(), "{}", text(&show.stderr));
    assert!(
        shown
            .lines()
            .any(|l| l.contains("Admin consent") && l.contains("granted")),
        "{shown}"
    );
}
