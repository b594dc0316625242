//! Consent without a reachable listener: paste-back and device code, through the binary.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use crate::support;

use support::cli::{Cli, text};

use std::process::Output;
use support::fake_idp::{FakeIdp, authorize_redirect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
        idp.set_device_interval(0);
        let mut cli = Cli::new();
        cli.env = vec![
            ("SSH_CONNECTION".into(), "203.0.113.5 50000 192.0.2.10 22".into()),
            ("USER".into(), "admin".into()),
        ];
        cli.add_oauth(&idp, NAME, USER, &[]).await;
        Env { cli, idp }
    }

    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.cli.run(args, stdin).await
    }
}

/// Starts `connect --paste`; the test "pastes" with `paste(location)`.
async fn paste_flow(env: &Env, paste: impl FnOnce(String) -> Vec<String>) -> (Output, String) {
    let (mut child, mut stdout, url) = env.cli.start_connect(NAME, &["--paste"]).await;
    let mut stdin = child.stdin.take().unwrap();
    // The browser ends on the redirect address, which the user copies (the listener is not
    // reachable from their machine, so we never GET it).
    let location = authorize_redirect(url.trim()).await;
    for chunk in paste(location) {
        stdin.write_all(chunk.as_bytes()).await.unwrap();
    }
    stdin.flush().await.unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    (out, rest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_back_of_the_full_address_completes_consent() {
    let env = Env::new().await;
    let (out, rest) = paste_flow(&env, |loc| vec![format!("{loc}\n")]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        rest.contains("Outlook token is valid: signed in as alice@example.com"),
        "{rest}"
    );
    let err = text(&out.stderr);
    assert!(err.contains("ssh -N -L"), "tunnel line offered: {err}");
    assert!(err.contains("admin@192.0.2.10"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_back_tolerates_wrapping_and_a_missing_scheme() {
    let env = Env::new().await;
    let (out, rest) = paste_flow(&env, |loc| {
        let no_scheme = loc.trim_start_matches("http://").to_string();
        let (a, b) = no_scheme.split_at(no_scheme.len() / 2);
        vec![format!("  {a}\n"), format!("{b}  \n")]
    })
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(rest.contains("Outlook token is valid"), "{rest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_a_wrong_state_are_explained_and_the_wait_goes_on() {
    let env = Env::new().await;
    let (out, _) = paste_flow(&env, |loc| {
        let wrong = loc.replace("state=", "state=zz");
        vec!["hello\n\n".into(), format!("{wrong}\n\n"), format!("{loc}\n")]
    })
    .await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("it should contain ?code="), "{err}");
    assert!(err.contains("belongs to another sign-in attempt"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_error_address_is_explained() {
    let env = Env::new().await;
    env.idp
        .fail_next_authorize("access_denied", "AADSTS65004: User declined to consent.");
    let (out, _) = paste_flow(&env, |loc| vec![format!("{loc}\n")]).await;
    let err = text(&out.stderr);
    // A declined consent may be a Cancel or "Need admin approval": both ways are offered.
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("declined") && err.contains("AADSTS65004"), "{err}");
    assert!(err.contains("--admin-consent"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_pending_then_success_without_a_client_secret() {
    let env = Env::new().await;
    env.idp.script_device_poll(&[
        "authorization_pending",
        "slow_down",
        "authorization_pending",
        "ok",
    ]);
    let out = env.run(&["connect", NAME, "--device-code"], None).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().next(), Some("https://microsoft.com/devicelogin"));
    assert!(err.contains("Code: "), "{err}");
    assert!(err.contains("poll more slowly"), "{err}");
    assert!(stdout.contains("Outlook token is valid"));
    let form = env.idp.last_token_form();
    assert!(
        form.iter().all(|(k, _)| k != "client_secret"),
        "device-code token request must carry no secret: {form:?}"
    );
    // Refreshing a device-code token also omits the secret.
    let r = env.run(&["refresh", NAME], None).await;
    assert!(r.status.success(), "{}{}", text(&r.stdout), text(&r.stderr));
    assert!(
        env.idp
            .last_token_form()
            .iter()
            .all(|(k, _)| k != "client_secret")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_as_json_for_scripts() {
    let env = Env::new().await;
    env.idp.script_device_poll(&["authorization_pending", "ok"]);
    let out = env.run(&["connect", NAME, "--device-code", "--json"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    let code: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(code["verification_uri"], "https://microsoft.com/devicelogin");
    assert!(
        code["user_code"].as_str().is_some_and(|c| !c.is_empty()),
        "{code}"
    );
    assert!(code["expires_in"].as_u64().is_some() && code["interval"].as_u64().is_some());
    let done: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(done["server"], NAME);
    assert!(done["access_token_expires_at"].is_string(), "{done}");
    assert!(lines.next().is_none(), "JSON only on stdout: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_declined_and_expired() {
    let env = Env::new().await;
    env.idp.script_device_poll(&["authorization_declined"]);
    let out = env.run(&["connect", NAME, "--device-code"], None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("declined"), "{}", text(&out.stderr));
    env.idp.script_device_poll(&["expired_token"]);
    let out = env.run(&["connect", NAME, "--device-code"], None).await;
    assert!(text(&out.stderr).contains("expired"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_on_a_confidential_app_explains_public_client_flows() {
    let env = Env::new().await;
    env.idp.fail_next_token(
        400,
        "invalid_client",
        &[7000218],
        "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
    let out = env.run(&["connect", NAME, "--device-code"], None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Allow public client flows = Yes"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_url_mode_behind_a_reverse_proxy() {
    let env = Env::new().await;
    // What the setup script registers for this public URL (Entra compares https redirects whole).
    env.idp
        .set_redirect_uris(&["https://demo.tasksuite.com/microsoft_outlook/confirm"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let s = env
        .run(
            &[
                "settings",
                "--public-url",
                "https://demo.tasksuite.com/",
                "--listen-address",
                "127.0.0.1",
            ],
            None,
        )
        .await;
    assert!(s.status.success(), "{}", text(&s.stderr));
    assert!(text(&s.stdout).contains("https://demo.tasksuite.com/microsoft_outlook/confirm"));
    let show = env.run(&["show", NAME, "--json"], None).await;
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(
        v["redirect_url"],
        "https://demo.tasksuite.com/microsoft_outlook/confirm"
    );

    let (mut child, mut stdout, url) = env
        .cli
        .start_connect(NAME, &["--no-browser", "--listen-port", &port])
        .await;
    drop(child.stdin.take());
    let location = authorize_redirect(&url).await;
    assert!(
        location.starts_with("https://demo.tasksuite.com/microsoft_outlook/confirm?code="),
        "{location}"
    );
    // The proxy forwards the path and query to the listener.
    let forwarded = location.replace("https://demo.tasksuite.com", &format!("http://127.0.0.1:{port}"));
    let page = oauth2::reqwest::get(&forwarded)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Outlook token is valid"), "{page}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    assert!(child.wait_with_output().await.unwrap().status.success());
    // A bad public URL is refused with the reason.
    let bad = env
        .run(&["settings", "--public-url", "http://demo.tasksuite.com"], None)
        .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("https://"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_stops_at_expires_in() {
    let env = Env::new().await;
    env.idp.set_device_expires_in(1);
    env.idp
        .script_device_poll(&vec!["authorization_pending"; 100_000]);
    let out = env.run(&["connect", NAME, "--device-code"], None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the code expired"),
        "{}",
        text(&out.stderr)
    );
}
