//! Through the binary: admin consent as a step (a tenant where users may not consent), a
//! public client that never sends a secret, and a shared mailbox opened by a delegate against
//! the real Dovecot.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use base64::Engine as _;
use std::collections::HashMap;
use support::cli::{Cli, text};
use support::dovecot::{Dovecot, INBOX_MESSAGES, OAUTH_USER, SHARED_MAILBOX};
use support::fake_idp::{DEFAULT_CLIENT_ID, FakeIdp, play_browser};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

const NAME: &str = "Support inbox";
const TENANT: &str = "contoso.onmicrosoft.com";
const DELEGATE: &str = "delegate@example.com";

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

fn no_secret_in(form: &[(String, String)]) -> bool {
    form.iter().all(|(k, _)| k != "client_secret")
}

async fn env() -> (Cli, FakeIdp) {
    let idp = FakeIdp::start().await;
    idp.set_account(OAUTH_USER);
    let cli = Cli::new();
    cli.add_oauth(&idp, NAME, OAUTH_USER, &[]).await;
    (cli, idp)
}

/// `connect --admin-consent --no-browser`, the test playing the admin's browser on the first
/// URL; returns the process (still running if the admin step passed), its stdout, the URL.
async fn admin_step(
    cli: &Cli,
) -> (
    tokio::process::Child,
    tokio::io::BufReader<tokio::process::ChildStdout>,
    String,
) {
    let (mut child, stdout, url) = cli
        .start_connect(NAME, &["--admin-consent", "--no-browser"])
        .await;
    drop(child.stdin.take());
    let (status, page) = play_browser(&url).await;
    assert_eq!(status, 200, "{page}");
    (child, stdout, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn need_admin_approval_is_a_step_with_both_routes() {
    let (cli, idp) = env().await;
    idp.set_user_consent_allowed(false);
    // `add` made its pre-flight request already; the sign-in itself must redeem nothing.
    let before = idp.token_requests();
    let (out, status, page) = cli.connect(NAME).await;
    assert_eq!(status, 200, "{page}");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "you are needed: {err}");
    // Entra brings "Return to the application" back as a declined consent (AADSTS65004,
    // error_subcode=cancel): both ways forward are offered, never a dead end.
    assert!(err.contains("declined"), "{err}");
    assert!(err.contains("Need admin approval"), "{err}");
    assert!(err.contains("connect again and accept"), "{err}");
    assert!(err.contains("AADSTS65004"), "Microsoft's words kept: {err}");
    assert!(
        err.contains(&format!("inbound connect \"{NAME}\" --admin-consent")),
        "the admin route: {err}"
    );
    let link_start = format!(
        "{}/{TENANT}/v2.0/adminconsent?client_id={DEFAULT_CLIENT_ID}",
        idp.authority()
    );
    let link = err
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&link_start))
        .unwrap_or_else(|| panic!("the link to send an admin, on a line of its own: {err}"))
        .to_string();
    assert!(err.contains("admin_consent=True"), "what comes back: {err}");
    assert_eq!(idp.token_requests(), before, "nothing to redeem");

    // The admin opens the link elsewhere and accepts; the address their browser ends on
    // comes back (the link carries no state: it outlives any run), is pasted into
    // `connect --admin-consent`, recorded, and the sign-in follows.
    idp.set_signed_in_user_is_admin(true);
    let answer = support::fake_idp::authorize_redirect(&link).await;
    assert!(
        answer.starts_with("http://localhost/microsoft_outlook/confirm?admin_consent=True"),
        "{answer}"
    );
    let (mut child, mut stdout, _admin_url) = cli.start_connect(NAME, &["--admin-consent", "--paste"]).await;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).await.unwrap();
    let mut sign_in = String::new();
    stdout.read_line(&mut sign_in).await.unwrap();
    let location = support::fake_idp::authorize_redirect(sign_in.trim()).await;
    stdin.write_all(format!("{location}\n").as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Admin consent granted"), "{err}");
    let show = cli.run(&["show", NAME, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert!(v["app"]["admin_consent_at"].is_string(), "show records it: {v}");
}

/// The admin consent link sent to an admin (the wizard's Permissions step, the setup
/// script, the hints: one link) brings its answer back to the sign-in itself: the address
/// the admin's browser ended on, pasted into a plain `connect`, is recorded, and the sign-in
/// goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_links_answer_pasted_into_the_sign_in_is_recorded() {
    let (cli, idp) = env().await;
    idp.set_user_consent_allowed(false);
    let config = cli.store().load().unwrap();
    let link = config.apps[0].admin_consent_link(&inbound::model::registered_redirect_uri(&config.settings));
    idp.set_signed_in_user_is_admin(true);
    let answer = support::fake_idp::authorize_redirect(&link).await;
    assert!(answer.contains("admin_consent=True"), "{answer}");
    idp.set_signed_in_user_is_admin(false);

    let (mut child, mut stdout, url) = cli.start_connect(NAME, &["--no-browser"]).await;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).await.unwrap();
    let location = support::fake_idp::authorize_redirect(&url).await;
    stdin.write_all(format!("{location}\n").as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Admin consent recorded"), "{err}");
    assert!(!err.contains("not used"), "{err}");
    let show = cli.run(&["show", NAME, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert!(v["app"]["admin_consent_at"].is_string(), "show records it: {v}");
    // And the sign-in after it went through: the token is there.
    let token = cli.run(&["token", NAME], None).await;
    assert!(token.status.success(), "{}", text(&token.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_consent_then_the_sign_in_end_to_end() {
    let (cli, idp) = env().await;
    idp.set_user_consent_allowed(false);
    idp.set_signed_in_user_is_admin(true);
    let (child, mut stdout, admin_url) = admin_step(&cli).await;
    let url = url::Url::parse(&admin_url).unwrap();
    assert_eq!(url.path(), format!("/{TENANT}/v2.0/adminconsent"));
    let q = query(&admin_url);
    assert_eq!(q["client_id"], DEFAULT_CLIENT_ID);
    assert_eq!(
        q["scope"],
        "https://outlook.office.com/IMAP.AccessAsUser.All offline_access openid email profile"
    );
    assert!(
        !admin_url.contains("IMAP.AccessAsUser.All offline_access"),
        "spaces are encoded"
    );
    assert!(q["redirect_uri"].ends_with("/microsoft_outlook/confirm"), "{q:?}");
    // The user sign-in follows on its own line, with a state of its own.
    let mut sign_in = String::new();
    stdout.read_line(&mut sign_in).await.unwrap();
    let sign_in = sign_in.trim().to_string();
    let user_q = query(&sign_in);
    assert!(sign_in.contains("/oauth2/v2.0/authorize"), "{sign_in}");
    assert_ne!(user_q["state"], q["state"]);
    let (status, page) = play_browser(&sign_in).await;
    assert_eq!(status, 200);
    assert!(page.contains("Outlook token is valid"), "{page}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("Admin consent granted for the organization"),
        "{err}"
    );
    assert!(rest.contains("Outlook token is valid: signed in as"), "{rest}");
    assert!(idp.has_admin_consent(DEFAULT_CLIENT_ID));
    // Recorded on the app; show says when.
    let show = cli.run(&["show", NAME, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert!(v["app"]["admin_consent_at"].is_string(), "{v}");
    assert!(v["health"]["admin_consent_at"].is_string(), "{v}");
    let show = text(&cli.run(&["show", NAME], None).await.stdout);
    assert!(show.contains("Admin consent   granted"), "{show}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_consent_cancelled_or_by_a_non_admin_is_explained() {
    let (cli, idp) = env().await;
    idp.set_user_consent_allowed(false);
    // Not an admin.
    let (child, _stdout, _) = admin_step(&cli).await;
    let out = child.wait_with_output().await.unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot grant consent for the organization"), "{err}");
    assert!(err.contains("Cloud Application Administrator"), "{err}");
    assert!(
        err.contains("/adminconsent?client_id="),
        "the link to send: {err}"
    );
    // An admin who cancels.
    idp.set_signed_in_user_is_admin(true);
    idp.cancel_next_admin_consent();
    let (child, _stdout, _) = admin_step(&cli).await;
    let out = child.wait_with_output().await.unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("admin consent was cancelled") && err.contains("AADSTS65004"),
        "{err}"
    );
    assert!(!idp.has_admin_consent(DEFAULT_CLIENT_ID));
    assert_eq!(idp.admin_consent_requests(), 2);
    let show = cli.run(&["show", NAME, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert!(v["app"]["admin_consent_at"].is_null(), "nothing recorded: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_client_signs_in_and_refreshes_without_any_secret() {
    let idp = FakeIdp::start().await;
    idp.set_account(OAUTH_USER);
    idp.set_public_client(true);
    let cli = Cli::new();
    // The app is registered exactly as the setup scripts register a public client (Entra
    // ignores the loopback port but compares the path), and `add` names the same URI.
    let registered = public_client_redirect_of_scripts(&cli).await;
    idp.set_redirect_uris(&[&registered]);
    let authority = idp.authority();
    let add = [
        "add",
        NAME,
        "--username",
        OAUTH_USER,
        "--client-id",
        DEFAULT_CLIENT_ID,
        "--tenant",
        TENANT,
        "--authority",
        &authority,
        "--public-client",
    ];
    let out = cli.run(&add, None).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Mobile and desktop applications"), "{err}");
    assert!(err.contains(&format!("\n  {registered}\n")), "{err}");
    let (out, status, page) = cli.connect(NAME).await;
    assert_eq!(status, 200, "{page}");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        no_secret_in(&idp.last_token_form()),
        "{:?}",
        idp.last_token_form()
    );
    assert!(idp.last_token_basic_auth().is_none());
    assert!(
        idp.last_authorize_params()
            .iter()
            .all(|(k, _)| k != "client_secret"),
        "authorize carries no secret either"
    );
    let r = cli.run(&["refresh", NAME], None).await;
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert_eq!(idp.refresh_requests(), 1);
    assert!(no_secret_in(&idp.last_token_form()));
    let show = text(&cli.run(&["show", NAME], None).await.stdout);
    assert!(show.contains("no secret (public client)"), "{show}");
    assert!(show.contains("never (public client, no secret)"), "{show}");
    let apps = text(&cli.run(&["apps"], None).await.stdout);
    assert!(apps.contains("no secret (public client)"), "{apps}");
    // Nothing about a secret can be set on it.
    let out = cli
        .run(&["edit", "--app", NAME, "--secret-stdin"], Some("abc~8Q~x\n"))
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("public client"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_client_with_a_secret_is_refused_before_and_by_microsoft() {
    let idp = FakeIdp::start().await;
    idp.set_public_client(true);
    let cli = Cli::new();
    let authority = idp.authority();
    let out = cli
        .run(
            &[
                "add",
                NAME,
                "--username",
                OAUTH_USER,
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--tenant",
                TENANT,
                "--authority",
                &authority,
                "--public-client",
                "--secret-stdin",
            ],
            Some("x\n"),
        )
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--public-client"),
        "{}",
        text(&out.stderr)
    );
    // Stored with a secret, the app sends it, and the public registration refuses it.
    cli.add_oauth(&idp, NAME, OAUTH_USER, &[]).await;
    let (out, _, _) = cli.connect(NAME).await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("AADSTS700025"), "{err}");
    assert!(err.contains("--public-client"), "the way out: {err}");
    // Turned into a public client, the secret is gone and the sign-in works.
    let out = cli.run(&["edit", "--app", NAME, "--public-client"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let apps = cli.run(&["apps", "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&apps.stdout).unwrap();
    assert_eq!(v[0]["public_client"], true, "{v}");
    assert_eq!(v[0]["has_secret"], false, "{v}");
    let (out, _, _) = cli.connect(NAME).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(no_secret_in(&idp.last_token_form()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_mailbox_opens_with_the_delegates_token_in_dovecot() {
    let idp = FakeIdp::start().await;
    idp.set_accounts(&[OAUTH_USER, DELEGATE, "carol@example.com"]);
    idp.grant_full_access(DELEGATE, SHARED_MAILBOX);
    let Some(dovecot) = Dovecot::start(&idp.introspection_url()) else {
        return;
    };
    let cli = Cli::new();
    let server = dovecot.server_args();
    let mut extra = vec!["--sign-in-as", DELEGATE];
    extra.extend(server.words());
    cli.add_oauth(&idp, "Shared", SHARED_MAILBOX, &extra).await;
    let (out, status, page) = cli.connect("Shared").await;
    let err = text(&out.stderr);
    assert_eq!(status, 200, "{page}");
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("Sign in as {DELEGATE}")), "{err}");
    assert!(err.contains("Add-MailboxPermission -Identity shared@example.com -User delegate@example.com -AccessRights FullAccess"), "{err}");
    assert!(
        !err.contains("Warning"),
        "the delegate is who should sign in: {err}"
    );
    let hint: HashMap<_, _> = idp.last_authorize_params().into_iter().collect();
    assert_eq!(hint["login_hint"], DELEGATE);
    assert!(text(&out.stdout).contains(&format!("signed in as {DELEGATE}")));
    // XOAUTH2 names the mailbox; the token is the delegate's.
    let x = cli.run(&["token", "Shared", "--format", "xoauth2"], None).await;
    let sasl = base64::engine::general_purpose::STANDARD
        .decode(text(&x.stdout).trim())
        .unwrap();
    assert!(
        text(&sasl).starts_with(&format!("user={SHARED_MAILBOX}\x01auth=Bearer ")),
        "{}",
        text(&sasl)
    );
    let t = cli.run(&["test", "Shared"], None).await;
    assert!(t.status.success(), "{}{}", text(&t.stdout), text(&t.stderr));
    assert!(
        text(&t.stdout).contains(&format!("{INBOX_MESSAGES} messages")),
        "{}",
        text(&t.stdout)
    );

    // A delegate without FullAccess is refused by the server.
    let mut extra = vec!["--sign-in-as", "carol@example.com"];
    extra.extend(server.words());
    cli.add_oauth(&idp, "Shared (no access)", SHARED_MAILBOX, &extra)
        .await;
    let (out, _, _) = cli.connect("Shared (no access)").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = cli.run(&["test", "Shared (no access)"], None).await;
    assert_eq!(t.status.code(), Some(1), "{}", text(&t.stdout));
    let err = format!("{}{}", text(&t.stdout), text(&t.stderr));
    assert!(
        err.contains("may not open the shared mailbox shared@example.com")
            && err.contains("Add-MailboxPermission -Identity shared@example.com -User carol@example.com -AccessRights FullAccess"),
        "{err}"
    );

    // Signing in as someone else is named with both the delegate and the mailbox.
    idp.set_accounts(&[OAUTH_USER]);
    let (out, _, _) = cli.connect("Shared").await;
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "you signed in as {OAUTH_USER} but Sign in as is {DELEGATE}"
        )) && err.contains(SHARED_MAILBOX),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_as_is_validated_and_can_be_cleared() {
    let (cli, _idp) = env().await;
    let out = cli
        .run(&["edit", NAME, "--sign-in-as", "not an address"], None)
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Sign in as"), "{}", text(&out.stderr));
    let out = cli.run(&["edit", NAME, "--sign-in-as", DELEGATE], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let show = text(&cli.run(&["show", NAME], None).await.stdout);
    assert!(show.contains(&format!("Sign in as      {DELEGATE}")), "{show}");
    let out = cli.run(&["edit", NAME, "--no-sign-in-as"], None).await;
    assert!(out.status.success());
    let show = text(&cli.run(&["show", NAME], None).await.stdout);
    assert!(!show.contains("Sign in as"), "{show}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_consent_and_sign_in_by_paste_back_over_ssh() {
    use support::fake_idp::authorize_redirect;
    let (mut cli, idp) = env().await;
    cli.env = vec![("SSH_CONNECTION".into(), "203.0.113.5 50000 192.0.2.10 22".into())];
    idp.set_user_consent_allowed(false);
    idp.set_signed_in_user_is_admin(true);
    let (mut child, mut stdout, admin_url) = cli.start_connect(NAME, &["--admin-consent", "--paste"]).await;
    let mut stdin = child.stdin.take().unwrap();
    // The admin consent answer pasted again during the sign-in is refused (its own state).
    let answer = authorize_redirect(&admin_url).await;
    assert!(answer.contains("admin_consent=True"), "{answer}");
    stdin.write_all(format!("{answer}\n").as_bytes()).await.unwrap();
    let mut sign_in = String::new();
    stdout.read_line(&mut sign_in).await.unwrap();
    let location = authorize_redirect(sign_in.trim()).await;
    stdin
        .write_all(format!("{answer}\n{location}\n").as_bytes())
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Admin consent granted"), "{err}");
    assert!(
        err.contains("belongs to another sign-in attempt"),
        "the stale answer: {err}"
    );
    assert!(rest.contains("Outlook token is valid"), "{rest}");
    assert!(idp.has_admin_consent(DEFAULT_CLIENT_ID));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_delegation_at_redemption_is_the_admin_consent_step_too() {
    let (cli, idp) = env().await;
    idp.fail_next_token(
        400,
        "invalid_grant",
        &[65001],
        "AADSTS65001: The user or administrator has not consented to use the application with ID '11111111-2222-3333-4444-555555555555'.",
    );
    let (out, status, page) = cli.connect(NAME).await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("needs admin approval") && err.contains("AADSTS65001"),
        "{err}"
    );
    assert!(err.contains("--admin-consent"), "{err}");
    // The browser is told the same, with the routes (in words and the admin's link: the page
    // may be read by a user of the app, where a key does what a flag does in the shell).
    assert_eq!(status, 200);
    assert!(
        page.contains("needs admin approval") && page.contains("adminconsent?client_id="),
        "{page}"
    );
}

/// The public client redirect URI both setup scripts register (they must agree).
async fn public_client_redirect_of_scripts(cli: &Cli) -> String {
    let bash = cli.run(&["setup-script", "--public-client"], None).await;
    let bash = text(&bash.stdout);
    let uri = bash
        .split("--public-client-redirect-uris ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no public client redirect in the script: {bash}"))
        .trim_matches(['\'', '"'])
        .to_string();
    let pwsh = cli
        .run(&["setup-script", "--public-client", "--shell", "pwsh"], None)
        .await;
    let pwsh = text(&pwsh.stdout);
    assert!(
        pwsh.contains(&format!("RedirectUris = @('{uri}')")),
        "the PowerShell script registers another URI than bash ({uri}): {pwsh}"
    );
    uri
}
