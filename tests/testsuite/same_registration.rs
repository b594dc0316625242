//! The same registration added twice (client ID and tenant of a stored app): what was typed
//! is never dropped. A new secret renews the stored app once Microsoft (the fake) accepted
//! it, naming the other servers that use it; anything else that differs is refused with the
//! choice; a "✔" only ever describes the secret that was checked.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use std::process::Output;
use support::cli::{Cli, text};
use support::fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp};

const TENANT: &str = "contoso.onmicrosoft.com";
const RENEWED: &str = "renewed~Secret.Value_0123456789-abcdefg";

async fn add(cli: &Cli, idp: &FakeIdp, name: &str, user: &str, secret: &str, extra: &[&str]) -> Output {
    let authority = idp.authority();
    let mut args = vec![
        "add",
        name,
        "--username",
        user,
        "--client-id",
        DEFAULT_CLIENT_ID,
        "--tenant",
        TENANT,
        "--secret-stdin",
        "--authority",
        &authority,
    ];
    args.extend_from_slice(extra);
    cli.run(&args, Some(&format!("{secret}\n"))).await
}

/// A date `days` from today, as the portal shows a secret's expiry.
fn in_days(days: i64) -> String {
    let today = jiff::Zoned::now().date();
    today
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

fn apps(cli: &Cli) -> Vec<inbound::model::AzureApp> {
    cli.store().load().unwrap().apps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_secret_for_a_stored_registration_renews_the_app_once_checked() {
    let idp = FakeIdp::start().await;
    idp.set_tenant(TENANT);
    let cli = Cli::new();
    let (old_expiry, new_expiry) = (in_days(30), in_days(400));
    let first = add(
        &cli,
        &idp,
        "Support",
        "support@example.com",
        DEFAULT_CLIENT_SECRET,
        &["--secret-expires", &old_expiry],
    )
    .await;
    assert!(first.status.success(), "{}", text(&first.stderr));

    // The portal (or a re-run Cloud Shell script) made a new secret; the old one is gone.
    idp.set_client(DEFAULT_CLIENT_ID, RENEWED);
    let out = add(
        &cli,
        &idp,
        "Sales",
        "sales@example.com",
        RENEWED,
        &["--secret-expires", &new_expiry],
    )
    .await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("✔ secret accepted"),
        "the new secret was the one checked: {err}"
    );
    assert!(err.contains("renewed"), "{err}");
    assert!(
        err.contains("\"Support\""),
        "names the other server that uses it: {err}"
    );
    let stored = apps(&cli);
    assert_eq!(stored.len(), 1, "one app for one registration");
    assert_eq!(stored[0].secret.as_ref().unwrap().expose(), RENEWED);
    assert_eq!(stored[0].secret_expires.unwrap().to_string(), new_expiry);

    // A mistyped secret for the same registration is refused, and the stored one stays.
    let out = add(
        &cli,
        &idp,
        "Billing",
        "billing@example.com",
        "typo~Secret.Value_0123456789-abcdefgh",
        &[],
    )
    .await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("secret refused"), "{err}");
    assert!(!err.contains("✔ secret accepted"), "{err}");
    assert_eq!(apps(&cli)[0].secret.as_ref().unwrap().expose(), RENEWED);
    assert!(cli.store().load().unwrap().server("Billing").is_none());

    // Another authority for the same registration: refused, with the choice named.
    let out = cli
        .run(
            &[
                "add",
                "Other",
                "--username",
                "other@example.com",
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--tenant",
                TENANT,
                "--secret-stdin",
                "--authority",
                "https://login.microsoftonline.us",
            ],
            Some(&format!("{RENEWED}\n")),
        )
        .await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--app"),
        "names --app to reuse the app as it is: {err}"
    );
    assert!(err.contains("authority"), "{err}");
    assert!(cli.store().load().unwrap().server("Other").is_none());

    // The same secret again is plain reuse: nothing renewed, nothing said about renewal.
    let out = add(&cli, &idp, "Helpdesk", "helpdesk@example.com", RENEWED, &[]).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("renewed"), "{err}");
    assert_eq!(apps(&cli)[0].secret_expires.unwrap().to_string(), new_expiry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_a_renewal_is_refused_unless_saved_unchecked() {
    let idp = FakeIdp::start().await;
    idp.set_tenant(TENANT);
    let cli = Cli::new();
    let first = add(
        &cli,
        &idp,
        "Support",
        "support@example.com",
        DEFAULT_CLIENT_SECRET,
        &[],
    )
    .await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    // The stored app's authority stops answering (the same authority must be given to renew).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let offline = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    cli.store()
        .update(|c| {
            c.apps[0].authority = offline.clone();
            Ok::<_, inbound::store::StoreError>(())
        })
        .unwrap();
    let args = |extra: &'static [&'static str]| {
        let mut v = vec![
            "add".to_string(),
            "Sales".into(),
            "--username".into(),
            "sales@example.com".into(),
            "--client-id".into(),
            DEFAULT_CLIENT_ID.into(),
            "--tenant".into(),
            TENANT.into(),
            "--secret-stdin".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra| {
        let a = args(extra);
        let cli = &cli;
        async move {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            cli.run(&refs, Some(&format!("{RENEWED}\n"))).await
        }
    };
    let out = run(&[]).await;
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("could not be checked") && err.contains("--no-check"),
        "{err}"
    );
    assert_eq!(
        apps(&cli)[0].secret.as_ref().unwrap().expose(),
        DEFAULT_CLIENT_SECRET
    );
    let out = run(&["--no-check"]).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("renewed") && err.contains("unchecked"), "{err}");
    assert_eq!(apps(&cli)[0].secret.as_ref().unwrap().expose(), RENEWED);
}

/// The setup code a re-run Cloud Shell script prints: the same app, a new secret.
fn setup_code(secret: &str, expires: &str) -> String {
    support::setup_code::delegated(TENANT, secret, expires)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_code_for_a_stored_registration_renews_its_secret_and_expiry() {
    let idp = FakeIdp::start().await;
    let cli = Cli::new();
    let authority = idp.authority();
    let (old_expiry, new_expiry) = (in_days(10), in_days(360));
    let with_code = |name: &'static str, user: &'static str| {
        [
            "add",
            name,
            "--username",
            user,
            "--setup-code",
            "-",
            "--authority",
            authority.as_str(),
            "--replication-wait",
            "0",
        ]
    };
    let out = cli
        .run(
            &with_code("Support", "support@example.com"),
            Some(&format!("{}\n", setup_code(DEFAULT_CLIENT_SECRET, &old_expiry))),
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The script ran again: the app is reused, a new secret added (the old one expires soon).
    idp.set_client(DEFAULT_CLIENT_ID, RENEWED);
    let out = cli
        .run(
            &with_code("Sales", "sales@example.com"),
            Some(&format!("{}\n", setup_code(RENEWED, &new_expiry))),
        )
        .await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("✔ secret accepted") && err.contains("renewed"),
        "{err}"
    );
    assert!(err.contains("\"Support\""), "{err}");
    let stored = apps(&cli);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].secret.as_ref().unwrap().expose(), RENEWED);
    assert_eq!(stored[0].secret_expires.unwrap().to_string(), new_expiry);
    assert!(!err.contains(RENEWED), "the secret is never shown");
}
