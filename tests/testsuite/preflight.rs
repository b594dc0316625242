//! Pre-flight through the binary: `add`/`edit` prove tenant, client ID and secret against the
//! fake Entra (discovery + client credentials) before anything is saved, and no authorize
//! request is ever made. Plus `doctor`, national clouds, the replication-lag retry and device
//! code blocked by Conditional Access.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use inbound::model::AzureApp;
use inbound::ops::preflight::{self, CheckItem, Outcome, PreflightOptions, Progress};
use inbound::secret::Secret;
use inbound::services::oauth::CredentialField;
use std::process::Output;
use std::time::Duration;
use support::cli::{Cli, text};
use support::fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID, FakeIdp};

const NAME: &str = "Support inbox";
const USER: &str = "alice@example.com";
const TENANT: &str = "contoso.onmicrosoft.com";

struct Env {
    cli: Cli,
    idp: FakeIdp,
}

impl Env {
    async fn new() -> Env {
        let idp = FakeIdp::start().await;
        idp.set_tenant(TENANT);
        Env { cli: Cli::new(), idp }
    }

    /// `add NAME` with these credentials against the fake, plus `extra`.
    async fn add(&self, client_id: &str, tenant: &str, secret: &str, extra: &[&str]) -> Output {
        let authority = self.idp.authority();
        let mut args = vec![
            "add",
            NAME,
            "--username",
            USER,
            "--client-id",
            client_id,
            "--tenant",
            tenant,
            "--secret-stdin",
            "--authority",
            &authority,
            "--host",
            "127.0.0.1",
            "--port",
            "1",
        ];
        args.extend_from_slice(extra);
        self.cli.run(&args, Some(&format!("{secret}\n"))).await
    }

    async fn servers(&self) -> usize {
        let out = self.cli.run(&["list", "--json"], None).await;
        // A refused first add creates no store at all.
        if out.status.code() == Some(3) && text(&out.stderr).contains("no store at") {
            return 0;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array().unwrap().len()
    }

    /// The refused add: exit 2, nothing saved, no browser step, and stderr.
    async fn refused(&self, out: Output) -> String {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(self.servers().await, 0, "nothing saved: {err}");
        assert_eq!(self.idp.authorize_requests(), 0, "no authorize request");
        assert!(err.contains("nothing was saved"), "{err}");
        assert!(err.contains("--no-check"), "{err}");
        err
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_credentials_show_the_checklist_and_save() {
    let env = Env::new().await;
    let out = env
        .add(DEFAULT_CLIENT_ID, TENANT, DEFAULT_CLIENT_SECRET, &[])
        .await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    let short: String = DEFAULT_TENANT_ID.chars().take(4).collect();
    assert!(
        err.contains(&format!(
            "✔ tenant {TENANT} = {short}…  ✔ app found  ✔ secret accepted"
        )),
        "{err}"
    );
    assert_eq!(env.servers().await, 1);
    assert_eq!(env.idp.discovery_requests(), 1);
    let form = env.idp.last_token_form();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("grant_type").as_deref(), Some("client_credentials"));
    assert_eq!(
        get("scope").as_deref(),
        Some("https://outlook.office.com/.default")
    );
    assert_eq!(env.idp.authorize_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tenant_is_caught_by_discovery() {
    let env = Env::new().await;
    let out = env
        .add(DEFAULT_CLIENT_ID, "fabrikam.com", DEFAULT_CLIENT_SECRET, &[])
        .await;
    let err = env.refused(out).await;
    assert!(err.contains("✖ tenant not found"), "{err}");
    assert!(err.contains("AADSTS90002"), "{err}");
    assert!(err.contains("check the Directory (tenant) ID"), "{err}");
    assert_eq!(env.idp.token_requests(), 0, "stopped at discovery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_of_another_tenant_is_caught() {
    let env = Env::new().await;
    let other = "99999999-2222-3333-4444-555555555555";
    let err = env
        .refused(env.add(other, TENANT, DEFAULT_CLIENT_SECRET, &[]).await)
        .await;
    assert!(err.contains("✖ app not found in this tenant"), "{err}");
    assert!(err.contains("AADSTS700016"), "{err}");
    assert!(err.contains("check Azure Client ID and Tenant"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_caught_with_value_vs_id_advice() {
    let env = Env::new().await;
    let err = env
        .refused(env.add(DEFAULT_CLIENT_ID, TENANT, "wrong~value", &[]).await)
        .await;
    assert!(err.contains("✔ app found  ✖ secret refused"), "{err}");
    assert!(err.contains("AADSTS7000215"), "{err}");
    assert!(err.contains("Value, not the Secret ID"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_secret_and_a_public_client_are_caught() {
    let env = Env::new().await;
    env.idp.fail_next_token(
        401,
        "invalid_client",
        &[7000222],
        "The provided client secret keys for app are expired.",
    );
    let err = env
        .refused(
            env.add(DEFAULT_CLIENT_ID, TENANT, DEFAULT_CLIENT_SECRET, &[])
                .await,
        )
        .await;
    assert!(err.contains("✖ secret expired"), "{err}");
    assert!(err.contains("create a new secret"), "{err}");

    env.idp.fail_next_token(
        400,
        "invalid_client",
        &[700025],
        "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
    );
    let err = env
        .refused(
            env.add(DEFAULT_CLIENT_ID, TENANT, DEFAULT_CLIENT_SECRET, &[])
                .await,
        )
        .await;
    assert!(err.contains("✖ secret not wanted (public client)"), "{err}");
    assert!(err.contains("under Web"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_check_saves_without_asking_microsoft() {
    let env = Env::new().await;
    let out = env
        .add(DEFAULT_CLIENT_ID, TENANT, "wrong~value", &["--no-check"])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(env.servers().await, 1);
    assert_eq!(env.idp.discovery_requests() + env.idp.token_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_warns_and_still_saves() {
    let cli = Cli::new();
    // A loopback port nobody listens on: connection refused, like a machine without network.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = cli
        .run(
            &[
                "add",
                NAME,
                "--username",
                USER,
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--tenant",
                TENANT,
                "--secret-stdin",
                "--authority",
                &authority,
            ],
            Some(DEFAULT_CLIENT_SECRET),
        )
        .await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("? tenant unchecked"), "{err}");
    assert!(err.contains("could not reach"), "{err}");
    assert!(err.contains("saved anyway"), "{err}");
    assert!(err.contains("Added \"Support inbox\""), "{err}");
}

/// Offline, a new secret does not replace the stored one unless the person says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_a_rotated_secret_is_refused_and_the_old_one_kept() {
    let env = Env::new().await;
    assert!(
        env.add(DEFAULT_CLIENT_ID, TENANT, DEFAULT_CLIENT_SECRET, &[])
            .await
            .status
            .success()
    );
    // The authority becomes a loopback port nobody listens on: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let offline = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    env.cli
        .store()
        .update(|config| {
            config.apps[0].authority = offline;
            Ok::<_, inbound::store::StoreError>(())
        })
        .unwrap();
    let stored = || {
        env.cli
            .store()
            .load()
            .unwrap()
            .app(NAME)
            .and_then(|a| a.secret.clone())
            .map(|s| s.expose().to_string())
    };
    let out = env
        .cli
        .run(&["edit", "--app", NAME, "--secret-stdin"], Some("typo~value\n"))
        .await;
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("could not be checked") && err.contains("could not reach"),
        "{err}"
    );
    assert!(err.contains("the old ones stay"), "{err}");
    assert!(
        err.contains("--no-check"),
        "names the way to save unchecked: {err}"
    );
    assert_eq!(stored().as_deref(), Some(DEFAULT_CLIENT_SECRET));
    let out = env
        .cli
        .run(
            &["edit", "--app", NAME, "--secret-stdin", "--no-check"],
            Some("typo~value\n"),
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(stored().as_deref(), Some("typo~value"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_is_checked_before_it_replaces_the_old_one() {
    let env = Env::new().await;
    assert!(
        env.add(DEFAULT_CLIENT_ID, TENANT, DEFAULT_CLIENT_SECRET, &[])
            .await
            .status
            .success()
    );
    let bad = env
        .cli
        .run(&["edit", "--app", NAME, "--secret-stdin"], Some("typo~value"))
        .await;
    let err = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(err.contains("secret refused"), "{err}");
    // The stored secret is still the good one: a refresh-free check proves it.
    let store = env.cli.store();
    let app = store.load().unwrap().app(NAME).cloned().unwrap();
    assert_eq!(app.secret.unwrap().expose(), DEFAULT_CLIENT_SECRET);
    env.idp
        .set_client(DEFAULT_CLIENT_ID, "new~Secret.Value_0123456789-abcdefgh");
    let good = env
        .cli
        .run(
            &["edit", "--app", NAME, "--secret-stdin"],
            Some("new~Secret.Value_0123456789-abcdefgh"),
        )
        .await;
    assert!(good.status.success(), "{}", text(&good.stderr));
    assert!(text(&good.stderr).contains("✔ secret accepted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn national_clouds_set_authority_and_host_together() {
    let cli = Cli::new();
    let out = cli
        .run(
            &[
                "add",
                NAME,
                "--username",
                USER,
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--tenant",
                TENANT,
                "--secret-stdin",
                "--cloud",
                "usgov",
                "--no-check",
            ],
            Some(DEFAULT_CLIENT_SECRET),
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let show = cli.run(&["show", NAME, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["host"], "outlook.office365.us");
    assert_eq!(v["app"]["authority"], "https://login.microsoftonline.us");
    assert_eq!(v["app"]["cloud"], "usgov");
    let human = text(&cli.run(&["show", NAME], None).await.stdout);
    assert!(human.contains("US Government (GCC High)"), "{human}");
    // DoD's Exchange shares the US Government directory; China's does not.
    let out = cli.run(&["edit", NAME, "--cloud", "usgov-dod"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&cli.run(&["show", NAME, "--json"], None).await.stdout).unwrap();
    assert_eq!(v["host"], "outlook-dod.office365.us");
    let bad = cli.run(&["edit", NAME, "--cloud", "mars"], None).await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("usgov-dod"), "{}", text(&bad.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_walks_the_chain_and_stops_where_it_breaks() {
    let env = Env::new().await;
    assert!(
        env.add(DEFAULT_CLIENT_ID, TENANT, DEFAULT_CLIENT_SECRET, &[])
            .await
            .status
            .success()
    );
    let out = env.cli.run(&["doctor", NAME], None).await;
    let shown = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "CRITICAL: {shown}{}",
        text(&out.stderr)
    );
    assert!(shown.contains("✔ config"), "{shown}");
    assert!(
        shown.contains(&format!("✔ tenant       {TENANT} = {DEFAULT_TENANT_ID}")),
        "{shown}"
    );
    assert!(
        shown.contains("✔ credentials  app found, secret accepted"),
        "{shown}"
    );
    assert!(shown.contains("✖ token"), "{shown}");
    assert!(
        // Never signed in: "sign in", not "sign in again".
        shown.contains(&format!("sign in: inbound connect \"{NAME}\"")),
        "{shown}"
    );
    assert!(shown.contains("– IMAP host"), "{shown}");
    // The secret is revoked meanwhile: doctor names it, as JSON too.
    env.idp.set_client(DEFAULT_CLIENT_ID, "rotated~elsewhere");
    let out = env.cli.run(&["doctor", NAME, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["level"], "CRITICAL");
    assert_eq!(v["steps"][2]["step"], "credentials");
    assert_eq!(v["steps"][2]["status"], "failed");
    assert_eq!(v["preflight"]["checks"][2]["field"], "Secret");
    assert_eq!(env.idp.authorize_requests(), 0);
    let missing = env.cli.run(&["doctor", "nope"], None).await;
    assert_eq!(missing.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_end_to_end_against_dovecot() {
    let Some(env) = support::mail::MailEnv::start().await else {
        return;
    };
    env.add_connected(NAME).await;
    let cli = &env.cli;
    let out = cli.run(&["doctor", NAME], None).await;
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", text(&out.stderr));
    assert!(shown.contains("✔ IMAP host"), "{shown}");
    assert!(
        shown.contains(&format!(
            "✔ login        INBOX has {} messages",
            support::dovecot::INBOX_MESSAGES
        )),
        "{shown}"
    );
    // Diagnosis only: the server is still a Draft.
    let v: serde_json::Value =
        serde_json::from_slice(&cli.run(&["show", NAME, "--json"], None).await.stdout).unwrap();
    assert_eq!(v["state"], "Draft");
}

/// `connect --device-code` for a new server whose first poll is refused with `invalid_grant`,
/// these AADSTS `codes` and `description`.
async fn device_code_refused(codes: &[u64], description: &str) -> Output {
    let env = Env::new().await;
    env.idp.set_account(USER);
    env.idp.set_device_interval(0);
    assert!(
        env.add(DEFAULT_CLIENT_ID, TENANT, DEFAULT_CLIENT_SECRET, &[])
            .await
            .status
            .success()
    );
    env.idp.fail_next_token(400, "invalid_grant", codes, description);
    env.cli.run(&["connect", NAME, "--device-code"], None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_blocked_by_conditional_access_points_to_the_browser_paths() {
    // The first poll answers like a tenant whose Conditional Access blocks device code.
    let out = device_code_refused(
        &[53003],
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    )
    .await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Conditional Access blocks device-code sign-in"),
        "{err}"
    );
    assert!(err.contains("ssh -N -L"), "{err}");
    assert!(
        err.contains(&format!("inbound connect \"{NAME}\" --paste")),
        "{err}"
    );
}

/// "Need admin approval" while polling a device code leads to the admin step, as on the
/// browser paths (both routes named), not to a bare failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_needing_admin_approval_names_the_admin_routes() {
    let out = device_code_refused(
        &[65001],
        "AADSTS65001: The user or administrator has not consented to use the application.",
    )
    .await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "you are needed: {err}");
    assert!(err.contains("needs admin approval"), "{err}");
    assert!(err.contains("--admin-consent"), "the admin route: {err}");
    assert!(
        err.contains("/adminconsent?client_id="),
        "the link to send: {err}"
    );
}

fn app(idp: &FakeIdp) -> AzureApp {
    AzureApp {
        public_client: false,
        admin_consent_at: None,
        name: "a".into(),
        client_id: DEFAULT_CLIENT_ID.into(),
        tenant: TENANT.into(),
        secret: Some(Secret::new(DEFAULT_CLIENT_SECRET)),
        secret_expires: None,
        authority: idp.authority(),
        certificate: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn just_after_setup_replication_lag_is_waited_out_and_announced() {
    let env = Env::new().await;
    // Microsoft's replicas do not know the app yet …
    env.idp
        .set_client("00000000-0000-0000-0000-000000000000", DEFAULT_CLIENT_SECRET);
    let opts = PreflightOptions {
        just_created: true,
        ..PreflightOptions::default()
    };
    let mut said = Vec::new();
    let mut slept = Vec::new();
    let idp = env.idp.clone();
    let list = preflight::run_with(
        &app(&env.idp),
        &opts,
        |p| {
            if let Progress::Waiting(w) = p {
                said.push(w.message());
            }
        },
        |d| {
            slept.push(d);
            // … until the second wait is over.
            if slept.len() == 2 {
                idp.set_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
            }
            async {}
        },
    )
    .await;
    assert!(list.passed(), "{}", list.line());
    assert_eq!(slept, [Duration::from_secs(2), Duration::from_secs(4)]);
    assert!(
        said[1].contains("not seen the new app yet") && said[1].contains("retrying in 4 s"),
        "{said:?}"
    );
    assert_eq!(env.idp.token_requests(), 3);

    // Without a setup code there is no waiting: the first answer stands.
    env.idp
        .set_client("00000000-0000-0000-0000-000000000000", DEFAULT_CLIENT_SECRET);
    let list = preflight::run(&app(&env.idp), &PreflightOptions::default(), |_| {}).await;
    assert_eq!(list.field_to_fix(), Some(CredentialField::ClientId));
    assert!(matches!(
        list.get(CheckItem::Secret),
        Some(Outcome::Skipped { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_client_is_checked_as_far_as_it_can_be() {
    let env = Env::new().await;
    let mut public = app(&env.idp);
    public.secret = None;
    let list = preflight::run(&public, &PreflightOptions::default(), |_| {}).await;
    assert!(list.passed());
    assert!(matches!(
        list.get(CheckItem::Tenant),
        Some(Outcome::Passed { .. })
    ));
    assert!(
        matches!(list.get(CheckItem::App), Some(Outcome::Skipped { why }) if why.contains("at sign-in")),
        "{list:?}"
    );
    assert_eq!(env.idp.token_requests() + env.idp.device_code_requests(), 0);
}
