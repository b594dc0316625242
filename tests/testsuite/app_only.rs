//! App-only access (client credentials) through the real binary: add → test → Confirmed →
//! `token` works in AUTHENTICATE at a real Dovecot that grants the mailbox to the app; a
//! mailbox not granted gets the service principal / mailbox permission advice; a token
//! without the IMAP role names the missing admin consent; concurrent `token` calls make one
//! token request; `connect` says there is nothing to sign in to.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use std::process::Output;
use support::cli::{Cli, text};
use support::dovecot::{Dovecot, INBOX_MESSAGES};
use support::fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp};
use support::imap::ImapClient;

/// The mailbox the Dovecot config grants to the app.
const GRANTED: &str = "shared@example.com";
/// A mailbox with no permission for the app.
const NOT_GRANTED: &str = "nobody-granted@example.com";

struct Env {
    cli: Cli,
    idp: FakeIdp,
    dovecot: Dovecot,
}

impl Env {
    async fn start(roles: &[&str]) -> Option<Env> {
        let idp = FakeIdp::start().await;
        idp.set_app_roles(roles);
        let grants = [(GRANTED.to_string(), idp.app_introspection_url(GRANTED))];
        let dovecot = Dovecot::start_with_app_mailboxes(&idp.introspection_url(), &grants)?;
        Some(Env {
            cli: Cli::new(),
            idp,
            dovecot,
        })
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.cli.run(args, None).await
    }

    /// `add NAME --auth oauth2-app` for `mailbox`: a new app the first time, `--app` after.
    async fn add(&self, name: &str, mailbox: &str, app: Option<&str>) {
        let server = self.dovecot.server_args();
        let authority = self.idp.authority();
        let mut args = vec!["add", name, "--auth", "oauth2-app", "--username", mailbox];
        args.extend(server.words());
        match app {
            Some(a) => args.extend(["--app", a]),
            None => args.extend([
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--tenant",
                "contoso.onmicrosoft.com",
                "--secret-stdin",
                "--authority",
                &authority,
            ]),
        }
        let out = self
            .cli
            .run(&args, Some(&format!("{DEFAULT_CLIENT_SECRET}\n")))
            .await;
        assert!(out.status.success(), "add failed: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("inbound exchange-setup"),
            "{}",
            text(&out.stderr)
        );
    }
}

fn show_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("show --json: {e}: {}", text(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_only_add_test_confirmed_and_the_token_logs_in() {
    let Some(env) = Env::start(&["IMAP.AccessAsApp"]).await else {
        return;
    };
    env.add("Shared", GRANTED, None).await;

    // Nothing to sign in to: connect says so and what to run instead.
    let c = env.run(&["connect", "Shared", "--no-browser"]).await;
    assert_eq!(c.status.code(), Some(2), "{}", text(&c.stderr));
    let said = text(&c.stderr);
    assert!(
        said.contains("no one to sign in") && said.contains("inbound token"),
        "{said}"
    );
    assert_eq!(env.idp.authorize_requests(), 0);

    // Before the first token, the Exchange commands carry a placeholder and say where to look.
    let before = env.run(&["exchange-setup", "Shared"]).await;
    assert!(before.status.success(), "{}", text(&before.stderr));
    assert!(text(&before.stdout).contains("<enterprise-app-object-id>"));
    assert!(text(&before.stderr).contains("Enterprise applications"));

    // `add` made one request already: its pre-flight of the credentials.
    let base = env.idp.client_credentials_requests();
    let t = env.run(&["test", "Shared"]).await;
    assert!(t.status.success(), "test: {}{}", text(&t.stdout), text(&t.stderr));
    let shown = show_json(&env.run(&["show", "Shared", "--json"]).await);
    assert_eq!(shown["state"], "Confirmed", "{shown}");
    assert_eq!(shown["health"]["app_only"], true, "{shown}");
    let human = text(&env.run(&["show", "Shared"]).await.stdout);
    assert!(human.contains("app-only · token until"), "{human}");
    assert_eq!(env.idp.client_credentials_requests(), base + 1);

    // The token the test fetched is served from the store and opens the mailbox.
    let x = env.run(&["token", "Shared", "--format", "xoauth2"]).await;
    assert!(x.status.success(), "{}", text(&x.stderr));
    let mut imap = ImapClient::connect(env.dovecot.port, &env.dovecot.ca_file).await;
    let reply = imap.authenticate("XOAUTH2", text(&x.stdout).trim()).await;
    assert!(reply.is_ok(), "{reply:?}");
    let select = imap.command("EXAMINE INBOX").await;
    assert!(
        select
            .lines
            .iter()
            .any(|l| l.contains(&format!("{INBOX_MESSAGES} EXISTS"))),
        "{select:?}"
    );
    assert_eq!(
        env.idp.client_credentials_requests(),
        base + 1,
        "a valid token needs no request"
    );
    assert_eq!(env.idp.refresh_requests(), 0);

    // After the first token the commands carry the service principal's Object ID.
    let after = text(&env.run(&["exchange-setup", "Shared"]).await.stdout);
    assert!(!after.contains("<enterprise-app-object-id>"), "{after}");
    assert!(
        after.contains(&format!(
            "New-ServicePrincipal -AppId '{DEFAULT_CLIENT_ID}' -ObjectId '"
        )),
        "{after}"
    );
    // A mailbox added later to the same app needs only its permission line.
    env.add("Later", NOT_GRANTED, Some("Shared")).await;
    let later = text(&env.run(&["exchange-setup", "Later"]).await.stdout);
    assert!(!later.contains("New-ServicePrincipal"), "{later}");
    assert!(
        later.contains(&format!("Add-MailboxPermission -Identity '{NOT_GRANTED}'")),
        "{later}"
    );

    // check covers app-only servers; no re-consent countdown for them.
    let check = env.run(&["check", "Shared", "--json"]).await;
    let v: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let first = &v.as_array().map(|a| a[0].clone()).unwrap_or(v.clone());
    assert!(first.get("reconsent_by").is_none(), "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_not_granted_gets_the_service_principal_and_permission_advice() {
    let Some(env) = Env::start(&["IMAP.AccessAsApp"]).await else {
        return;
    };
    env.add("Other", NOT_GRANTED, None).await;
    let t = env.run(&["test", "Other"]).await;
    assert_eq!(t.status.code(), Some(1), "{}", text(&t.stderr));
    let said = text(&t.stdout);
    assert!(said.contains("app-only login"), "{said}");
    let sp = said.find("New-ServicePrincipal").expect(&said);
    let perm = said
        .find(&format!("Add-MailboxPermission -Identity '{NOT_GRANTED}'"))
        .expect(&said);
    assert!(sp < perm, "service principal first, then the permission: {said}");
    assert!(said.contains("minutes"), "replication lag is mentioned: {said}");
    let shown = show_json(&env.run(&["show", "Other", "--json"]).await);
    assert_eq!(shown["state"], "Draft");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_the_imap_role_names_the_missing_admin_consent() {
    let Some(env) = Env::start(&[]).await else { return };
    env.add("Shared", GRANTED, None).await;
    let t = env.run(&["token", "Shared"]).await;
    assert_eq!(t.status.code(), Some(1), "{}", text(&t.stderr));
    assert!(t.stdout.is_empty(), "no token is printed");
    let said = text(&t.stderr);
    assert!(
        said.contains("IMAP.AccessAsApp") && said.contains("admin consent"),
        "{said}"
    );
    // The refused token was not stored: once consent is granted the next call gets one.
    env.idp.set_app_roles(&["IMAP.AccessAsApp"]);
    let t = env.run(&["test", "Shared"]).await;
    assert!(t.status.success(), "{}", text(&t.stderr));
}

/// Microsoft may hand out opaque (or encrypted) access tokens, which clients must not read:
/// then nothing proves the application permission, so a refused login names it and its admin
/// consent among the causes, after the service principal and the mailbox permission.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opaque_token_refused_at_login_names_the_application_permission_too() {
    let Some(env) = Env::start(&[]).await else { return };
    env.idp.set_opaque_access_tokens(true);
    env.add("Shared", GRANTED, None).await;
    let t = env.run(&["test", "Shared"]).await;
    assert_eq!(t.status.code(), Some(1), "{}{}", text(&t.stdout), text(&t.stderr));
    let said = text(&t.stdout);
    assert!(said.contains("app-only login"), "{said}");
    let at = |what: &str| {
        said.find(what)
            .unwrap_or_else(|| panic!("{what} is not among the causes: {said}"))
    };
    let sp = at("New-ServicePrincipal");
    let perm = at(&format!("Add-MailboxPermission -Identity '{GRANTED}'"));
    let role = at("IMAP.AccessAsApp");
    assert!(sp < perm && perm < role, "most likely first: {said}");
    assert!(said[role..].contains("admin consent"), "{said}");
    // The token was opaque indeed: served as the fake issued it, and nothing read from it.
    let token = text(&env.run(&["token", "Shared"]).await.stdout);
    assert!(token.trim().starts_with("EwBAT"), "{token}");
    let shown = show_json(&env.run(&["show", "Shared", "--json"]).await);
    assert_eq!(shown["state"], "Draft", "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_token_calls_make_one_token_request() {
    let Some(env) = Env::start(&["IMAP.AccessAsApp"]).await else {
        return;
    };
    env.add("Shared", GRANTED, None).await;
    let base = env.idp.client_credentials_requests();
    let runs = (0..20).map(|_| env.run(&["token", "Shared"]));
    let outs = futures_util::future::join_all(runs).await;
    let tokens: Vec<String> = outs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", text(&o.stderr));
            text(&o.stdout).trim().to_string()
        })
        .collect();
    assert!(tokens.iter().all(|t| t == &tokens[0] && !t.is_empty()));
    assert_eq!(env.idp.client_credentials_requests(), base + 1);
    assert!(env.idp.is_valid_access_token(&tokens[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_to_delegated_drops_the_app_only_token() {
    let idp = FakeIdp::start().await;
    idp.set_app_roles(&["IMAP.AccessAsApp"]);
    let cli = Cli::new();
    let authority = idp.authority();
    let out = cli
        .run(
            &[
                "add",
                "Shared",
                "--auth",
                "oauth2-app",
                "--username",
                GRANTED,
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--tenant",
                "contoso.onmicrosoft.com",
                "--secret-stdin",
                "--authority",
                &authority,
            ],
            Some(DEFAULT_CLIENT_SECRET),
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = cli.run(&["token", "Shared"], None).await;
    assert!(t.status.success(), "{}", text(&t.stderr));
    let e = cli.run(&["edit", "Shared", "--auth", "oauth2"], None).await;
    assert!(e.status.success(), "{}", text(&e.stderr));
    // The app's token is not the (not yet signed-in) user's.
    let t = cli.run(&["token", "Shared"], None).await;
    assert_eq!(t.status.code(), Some(5), "{}", text(&t.stderr));
    assert!(text(&t.stderr).contains("not signed in"), "{}", text(&t.stderr));
    assert!(t.stdout.is_empty());
}
