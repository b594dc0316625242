//! Token lifecycle through the binary against the fake identity provider (no IMAP needed):
//! consent errors, single-flight refresh across processes, transient vs fatal failures,
//! `check` verdicts and secret rotation.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use support::cli::{Cli, text};

use inbound::store::Store;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use support::fake_idp::{DEFAULT_CLIENT_ID, FakeIdp, authorize_redirect, play_browser};
use tokio::io::{AsyncReadExt, BufReader};
use tokio::process::Command;

const NAME: &str = "Support inbox";
const USER: &str = "alice@example.com";

struct Env {
    cli: Cli,
    idp: FakeIdp,
}

impl Env {
    async fn new() -> Env {
        let idp = FakeIdp::start().await;
        idp.set_account(USER);
        let cli = Cli::new();
        cli.add_oauth(&idp, NAME, USER, &["--host", "127.0.0.1", "--port", "1"])
            .await;
        Env { cli, idp }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        self.cli.cmd(args)
    }

    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.cli.run(args, stdin).await
    }

    fn config_dir(&self) -> PathBuf {
        self.cli.config_dir()
    }

    async fn start_connect(
        &self,
    ) -> (
        tokio::process::Child,
        BufReader<tokio::process::ChildStdout>,
        String,
    ) {
        self.cli.start_connect(NAME, &["--no-browser"]).await
    }

    /// Records a passed test by hand (no IMAP here), so `check` sees a Confirmed server.
    fn mark_confirmed(&self) {
        self.cli
            .store()
            .update(|c| {
                let s = c.server_mut(NAME).unwrap();
                s.state = inbound::model::ServerState::Confirmed;
                s.last_test = Some(inbound::model::LastTest {
                    at: jiff::Timestamp::now(),
                    ok: true,
                    messages: Some(3),
                    summary: "ok".into(),
                    needs: None,
                });
                Ok::<_, inbound::store::StoreError>(())
            })
            .unwrap();
    }

    async fn connect(&self) {
        let (out, status, page) = self.cli.connect(NAME).await;
        assert_eq!(status, 200, "{page}");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// Moves the stored access token's expiry into the past (as if time had passed).
    fn expire_stored_token(&self) {
        let store = Store::open(Some(self.config_dir())).unwrap();
        let path = store.tokens_path(store.load().unwrap().server(NAME).unwrap());
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        v["tokens"]["issued_at"] = "2020-01-01T00:00:00Z".into();
        v["tokens"]["expires_at"] = "2020-01-01T01:00:00Z".into();
        inbound::store::atomic::write_atomic(&path, &serde_json::to_vec(&v).unwrap()).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_processes_on_an_expired_token_make_one_refresh() {
    let env = Env::new().await;
    env.connect().await;
    env.expire_stored_token();
    let children: Vec<_> = (0..20)
        .map(|_| {
            let mut c = env.cmd(&["token", NAME]);
            c.stdout(Stdio::piped()).stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    let mut tokens = Vec::new();
    for child in children {
        let out = child.wait_with_output().await.unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        tokens.push(text(&out.stdout).trim().to_string());
    }
    assert_eq!(
        env.idp.refresh_requests(),
        1,
        "exactly one refresh reaches the token endpoint"
    );
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "all 20 print the same token"
    );
    assert!(env.idp.is_valid_access_token(&tokens[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_formats() {
    let env = Env::new().await;
    env.connect().await;
    let json = env.run(&["token", NAME, "--format", "json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["username"], USER);
    let token = v["access_token"].as_str().unwrap();
    assert_eq!(v["xoauth2"], inbound::services::xoauth2::encode(USER, token));
    let x = env.run(&["token", NAME, "--format", "xoauth2"], None).await;
    assert_eq!(
        text(&x.stdout).trim(),
        inbound::services::xoauth2::encode(USER, token)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failure_keeps_every_token() {
    let env = Env::new().await;
    env.connect().await;
    let store = Store::open(Some(env.config_dir())).unwrap();
    let before = std::fs::read(store.tokens_path(store.load().unwrap().server(NAME).unwrap())).unwrap();
    let token_before = env.run(&["token", NAME], None).await.stdout;
    env.idp
        .fail_next_token_raw(503, "<html>Service Unavailable</html>");
    let r = env.run(&["refresh", NAME], None).await;
    assert_eq!(r.status.code(), Some(1));
    assert!(text(&r.stdout).contains("still valid"), "{}", text(&r.stdout));
    let file: serde_json::Value = serde_json::from_slice(
        &std::fs::read(store.tokens_path(store.load().unwrap().server(NAME).unwrap())).unwrap(),
    )
    .unwrap();
    let old: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert_eq!(file["tokens"], old["tokens"], "tokens kept");
    assert!(file.get("blocker").is_none());
    assert_eq!(env.run(&["token", NAME], None).await.stdout, token_before);
    // and the next refresh works with the kept refresh token
    assert!(env.run(&["refresh", NAME], None).await.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_refresh_needs_reconsent_and_check_says_critical() {
    let env = Env::new().await;
    env.connect().await;
    env.mark_confirmed();
    let ok = env.run(&["check"], None).await;
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
    env.idp.revoke_all_refresh_tokens();
    let r = env.run(&["refresh", NAME], None).await;
    assert_eq!(r.status.code(), Some(5), "{}{}", text(&r.stdout), text(&r.stderr));
    assert!(
        text(&r.stdout).contains("needs re-consent"),
        "{}",
        text(&r.stdout)
    );
    // A still-valid access token keeps being served, with a warning.
    let t = env.run(&["token", NAME], None).await;
    assert!(t.status.success());
    assert!(text(&t.stderr).contains("needs attention"), "{}", text(&t.stderr));
    let check = env.run(&["check", "--json"], None).await;
    assert_eq!(check.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(v["status"], "CRITICAL");
    assert_eq!(v["servers"][0]["token"]["state"], "needs_reconsent");
    let plain = env.run(&["check"], None).await;
    assert!(
        text(&plain.stdout)
            .starts_with("CRITICAL - 1 server, 1 needs attention | ok=0 warning=0 critical=1 unknown=0"),
        "{}",
        text(&plain.stdout)
    );
    assert!(text(&plain.stdout).contains("inbound connect \"Support inbox\""));
    // Re-consent fixes it.
    env.connect().await;
    assert!(env.run(&["refresh", NAME], None).await.status.success());
    assert_eq!(env.run(&["check"], None).await.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_secret_then_rotation_recovers() {
    let env = Env::new().await;
    env.connect().await;
    env.idp.fail_next_token(
        401,
        "invalid_client",
        &[7000222],
        "AADSTS7000222: The provided client secret keys for app are expired.",
    );
    let r = env.run(&["refresh", NAME], None).await;
    assert_eq!(r.status.code(), Some(5));
    ids_once(&text(&r.stderr));
    let show = env.run(&["show", NAME, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["health"]["token"]["state"], "secret_expired");
    // rotate: a new secret, no re-consent
    env.idp
        .set_client(DEFAULT_CLIENT_ID, "new~Secret.Value_9876543210-zyxwvutsrqpo");
    let expires = support::months_ahead(12);
    let e = env
        .run(
            &[
                "edit",
                "--app",
                NAME,
                "--secret-stdin",
                "--secret-expires",
                &expires,
            ],
            Some("new~Secret.Value_9876543210-zyxwvutsrqpo"),
        )
        .await;
    assert!(e.status.success(), "{}", text(&e.stderr));
    let r = env.run(&["refresh", NAME], None).await;
    assert!(r.status.success(), "{}{}", text(&r.stdout), text(&r.stderr));
    assert_eq!(
        env.idp
            .last_token_form()
            .iter()
            .find(|(k, _)| k == "client_secret")
            .unwrap()
            .1,
        "new~Secret.Value_9876543210-zyxwvutsrqpo"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_denied_in_the_browser_is_explained() {
    let env = Env::new().await;
    env.idp.fail_next_authorize(
        "access_denied",
        "AADSTS65004: User declined to consent to access the app.",
    );
    let (child, _stdout, url) = env.start_connect().await;
    let (status, page) = play_browser(&url).await;
    assert_eq!(status, 200);
    assert!(page.contains("access_denied"));
    let out = child.wait_with_output().await.unwrap();
    let err = text(&out.stderr);
    // A declined consent may be a Cancel or "Need admin approval": both ways are offered.
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("declined") && err.contains("AADSTS65004"), "{err}");
    assert!(err.contains("connect again and accept"), "{err}");
    assert!(err.contains("--admin-consent"), "the admin route too: {err}");
    ids_once(&err);
}

/// Microsoft's trace ID, correlation ID and time are said once, never also as its raw
/// "Trace ID: …" lines.
fn ids_once(err: &str) {
    let lower = err.to_lowercase();
    for id in ["trace id", "correlation id"] {
        assert!(lower.matches(id).count() <= 1, "{id} more than once: {err}");
    }
    assert!(!err.contains("Trace ID:") && !err.contains("Timestamp:"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_id_pasted_instead_of_value_is_caught() {
    let env = Env::new().await;
    // At input time:
    let out = env
        .run(
            &[
                "add",
                "X",
                "--username",
                USER,
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--tenant",
                "contoso.com",
                "--secret-stdin",
            ],
            Some("0f8fad5b-d9cb-469f-a165-70867728950e"),
        )
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("this looks like the Secret ID; paste the Value"));
    // And when Microsoft refuses the secret at redemption:
    env.idp.set_client(DEFAULT_CLIENT_ID, "another~value");
    let (child, _stdout, url) = env.start_connect().await;
    let (_, page) = play_browser(&url).await;
    assert!(page.contains("Sign-in failed"), "{page}");
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not the Secret ID"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_state_does_not_end_the_wait() {
    let env = Env::new().await;
    let (child, mut stdout, url) = env.start_connect().await;
    let location = authorize_redirect(&url).await;
    let forged = location.replace("state=", "state=forged");
    let c = oauth2::reqwest::Client::new();
    assert_eq!(c.get(&forged).send().await.unwrap().status().as_u16(), 400);
    let page = c.get(&location).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Outlook token is valid"), "{page}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    assert!(child.wait_with_output().await.unwrap().status.success());
    assert!(rest.contains("Outlook token is valid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_store_is_reported_and_left_alone() {
    let env = Env::new().await;
    let store = Store::open(Some(env.config_dir())).unwrap();
    let damaged = b"{\"schema\": 1, \"servers\": [ {\"name\": \n";
    inbound::store::atomic::write_atomic(&store.config_path(), damaged).unwrap();
    let out = env.run(&["list"], None).await;
    assert_eq!(out.status.code(), Some(4));
    assert!(
        text(&out.stderr).contains("is damaged at line"),
        "{}",
        text(&out.stderr)
    );
    let add = env
        .run(
            &[
                "add",
                "Y",
                "--auth",
                "basic",
                "--username",
                USER,
                "--password-stdin",
            ],
            Some("pw"),
        )
        .await;
    assert_eq!(add.status.code(), Some(4));
    assert_eq!(std::fs::read(store.config_path()).unwrap(), damaged);
    let check = env.run(&["check"], None).await;
    assert_eq!(check.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_as_another_account_is_reported() {
    let env = Env::new().await;
    env.idp.set_account("bob@example.com");
    let (out, status, _) = env.cli.connect(NAME).await;
    assert_eq!(status, 200);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("Warning: you signed in as bob@example.com but Username is alice@example.com"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_from_the_browser_times_out_with_advice() {
    let env = Env::new().await;
    let out = env
        .run(
            &[
                "connect",
                NAME,
                "--no-browser",
                "--listen-port",
                "0",
                "--timeout",
                "1",
            ],
            None,
        )
        .await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("no answer from the browser within 1 s"), "{err}");
    assert!(err.contains("AADSTS50011"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_transient_failure_mail_programs_are_not_a_refresh_storm() {
    let env = Env::new().await;
    env.connect().await;
    // Make the token due for refresh but still valid for a minute.
    let store = env.cli.store();
    let path = store.tokens_path(store.load().unwrap().server(NAME).unwrap());
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let now = jiff::Timestamp::now();
    v["tokens"]["issued_at"] = (now - jiff::SignedDuration::from_mins(59)).to_string().into();
    v["tokens"]["expires_at"] = (now + jiff::SignedDuration::from_mins(1)).to_string().into();
    inbound::store::atomic::write_atomic(&path, &serde_json::to_vec(&v).unwrap()).unwrap();

    env.idp.fail_next_token_raw(503, "Service Unavailable");
    let first = env.run(&["token", NAME], None).await;
    assert!(
        first.status.success(),
        "still-valid token served: {}",
        text(&first.stderr)
    );
    assert_eq!(
        env.idp.token_requests(),
        3,
        "pre-flight at add + consent + one failed refresh"
    );
    for _ in 0..3 {
        assert!(env.run(&["token", NAME], None).await.status.success());
    }
    assert_eq!(
        env.idp.token_requests(),
        3,
        "backing off: no new refresh attempts"
    );
    // An explicit refresh ignores the back-off and recovers.
    assert!(env.run(&["refresh", NAME], None).await.status.success());
    assert_eq!(env.idp.refresh_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_warns_about_a_secret_expiring_within_30_days() {
    let env = Env::new().await;
    env.connect().await;
    env.mark_confirmed();
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let in_20_days = today.checked_add(jiff::Span::new().days(20)).unwrap().to_string();
    let e = env
        .run(&["edit", "--app", NAME, "--secret-expires", &in_20_days], None)
        .await;
    assert!(e.status.success(), "{}", text(&e.stderr));
    let check = env.run(&["check", "--json"], None).await;
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stdout));
    let v: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(v["status"], "WARNING");
    assert_eq!(v["servers"][0]["secret_days_left"], 20);
    assert!(
        v["servers"][0]["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("client secret expires in 20 d")
    );
    let in_3_days = today.checked_add(jiff::Span::new().days(3)).unwrap().to_string();
    env.run(&["edit", "--app", NAME, "--secret-expires", &in_3_days], None)
        .await;
    assert_eq!(env.run(&["check"], None).await.status.code(), Some(2));
}

/// A refresh someone asks for after a refused secret asks Microsoft again (the secret may be
/// fixed in the portal by now) instead of replaying the stored refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_refresh_after_a_refused_secret_tries_again() {
    let env = Env::new().await;
    env.connect().await;
    env.idp.fail_next_token(
        401,
        "invalid_client",
        &[7000215],
        "AADSTS7000215: Invalid client secret provided.",
    );
    let refused = env.run(&["refresh", NAME], None).await;
    assert!(!refused.status.success(), "{}", text(&refused.stdout));
    let asked = env.idp.refresh_requests();
    let again = env.run(&["refresh", NAME], None).await;
    assert_eq!(env.idp.refresh_requests(), asked + 1, "Microsoft was asked again");
    assert!(
        again.status.success(),
        "{}{}",
        text(&again.stdout),
        text(&again.stderr)
    );
}
