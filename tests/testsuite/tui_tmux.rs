//! End to end through the real binary in tmux: the wizard from nothing → form → connect (a
//! scripted "browser" signs in at the fake identity provider) → token valid → Test & Confirm
//! against the real Dovecot → Confirmed in the list; then `q` and the shell is back.
//!
//! Skipped with a notice when tmux, curl or Dovecot is missing, unless
//! INBOUND_REQUIRE_DOVECOT=1 (CI), which makes that an error.

use crate::support;

use inbound::model::ServerState;
use inbound::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};
use support::cli::Cli;
use support::dovecot::{Dovecot, OAUTH_USER};
use support::fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp, authorize_redirect};
use support::tmux::{DEADLINE, Tmux, tmux_or_skip, tools_or_skip};
use tokio::process::Command;

fn write_browser(dir: &Path) -> String {
    let path = dir.join("browser.sh");
    let log = dir.join("browser.log");
    let script = format!(
        "#!/bin/sh\n# Plays the user's browser: follows the sign-in redirects to the listener.\ncurl -sSL -o /dev/null --max-time 20 -w '%{{http_code}}\\n' \"$1\" >>'{}' 2>&1\n",
        log.display()
    );
    std::fs::write(&path, script).expect("write browser script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wizard_walk_to_confirmed_in_tmux() {
    if !tools_or_skip(&["tmux", "curl"], "the tmux walk") {
        return;
    }
    let idp = FakeIdp::start().await;
    idp.set_account(OAUTH_USER);
    let Some(dovecot) = Dovecot::start(&idp.introspection_url()) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = dir.path().join("store");
    let browser = write_browser(dir.path());
    let tmux = Tmux::new("walk");
    let context = || {
        format!(
            "browser log: {}\ninbound log: {}\ndovecot: {}",
            std::fs::read_to_string(dir.path().join("browser.log")).unwrap_or_default(),
            std::fs::read_to_string(store_dir.join("logs").join("inbound.log")).unwrap_or_default(),
            dovecot.log_tail(20)
        )
    };

    tmux.start_shell().await;
    let command = format!(
        "env -u SSH_CONNECTION -u SSH_CLIENT -u SSH_TTY -u WAYLAND_DISPLAY DISPLAY=:99 BROWSER='{browser}' \
         '{}' --config-dir '{}'; echo INBOUND_EXIT=$?",
        env!("CARGO_BIN_EXE_inbound"),
        store_dir.display()
    );
    tmux.text(&command).await;
    tmux.keys(&["Enter"]).await;

    // Review: empty list.
    tmux.wait_for("No servers yet.", &context).await;
    // Wizard steps 1–3.
    tmux.keys(&["n"]).await;
    tmux.wait_for("How do you want to register", &context).await;
    tmux.keys(&["Right", "Enter"]).await;
    // Each value is typed on the step that shows where to find it.
    tmux.wait_for("Application (client) ID", &context).await;
    tmux.text(DEFAULT_CLIENT_ID).await;
    tmux.keys(&["Tab"]).await;
    tmux.text("contoso.onmicrosoft.com").await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("Create a client secret", &context).await;
    tmux.text(DEFAULT_CLIENT_SECRET).await;
    tmux.keys(&["Tab"]).await;
    tmux.text(&support::months_ahead(6)).await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("Grant the IMAP permission", &context).await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("The incoming mail server", &context).await;

    // Step 4: the form (empty store: no Azure app choice).
    let port = dovecot.port.to_string();
    let authority = idp.authority();
    let ca = dovecot.ca_file.display().to_string();
    tmux.text("Support inbox").await;
    tmux.keys(&["Tab", "Tab", "C-u"]).await; // Authentication stays OAuth2.0; Server Name
    tmux.text("127.0.0.1").await;
    tmux.keys(&["Tab", "C-u"]).await;
    tmux.text(&port).await;
    tmux.keys(&["Tab"]).await;
    tmux.text(OAUTH_USER).await;
    // Secret, client ID, tenant and expiry are filled from steps 1–2; past "Sign in as"
    // (optional) and Cloud (stays Global) to Authority.
    tmux.keys(&["Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "C-u"])
        .await;
    tmux.text(&authority).await;
    tmux.keys(&["Tab"]).await;
    tmux.text(&ca).await;
    let form = tmux.screen().await;
    assert!(
        !form.contains(DEFAULT_CLIENT_SECRET),
        "the secret is masked:\n{form}"
    );
    tmux.keys(&["Enter"]).await;

    // Steps 5–6: the browser opens by itself (a display is set) and signs in.
    let token = tmux.wait_for("Outlook token is valid", &context).await;
    assert!(token.contains(OAUTH_USER), "{token}");
    // Step 7: Test & Confirm against Dovecot.
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("● Confirmed · INBOX has 3 messages", &context)
        .await;
    tmux.keys(&["Enter"]).await;
    let list = tmux.wait_for("Support inbox ─", &context).await;
    assert!(list.contains("● Confirmed"), "{list}");
    assert!(list.contains("token ✔"), "{list}");

    // Quit: the shell is back, off the alternate screen.
    tmux.keys(&["q"]).await;
    tmux.wait_for("INBOUND_EXIT=0", &context).await;
    let alt = tmux
        .run(&["display-message", "-p", "-t", "walk", "#{alternate_on}"])
        .await;
    assert_eq!(alt.trim(), "0", "still on the alternate screen");

    let store = Store::open(Some(store_dir.clone())).expect("store");
    let config = store.load().expect("config");
    let server = config.server("Support inbox").expect("saved");
    assert_eq!(server.state, ServerState::Confirmed);
    assert_eq!(server.last_test.as_ref().and_then(|t| t.messages), Some(3));
}

/// SIGTERM and SIGHUP (an SSH drop) end the app through the normal path: the terminal leaves
/// raw mode and the alternate screen, and the exit code is 128 + the signal (143, 129, 131).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_restore_the_terminal() {
    if !tmux_or_skip("the signal test") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = Tmux::new("signal");
    let nothing = String::new;
    let shell_pid = tmux.start_shell().await;
    for (i, signal) in ["TERM", "HUP", "QUIT"].into_iter().enumerate() {
        tmux.run(&["send-keys", "-t", "walk", "-l", "clear"]).await;
        tmux.keys(&["Enter"]).await;
        let command = format!(
            "'{}' --config-dir '{}'; echo SIG{signal}_EXIT=$?; stty -a | grep -o ' -*icanon'",
            env!("CARGO_BIN_EXE_inbound"),
            dir.path().join("store").display()
        );
        tmux.text(&command).await;
        tmux.keys(&["Enter"]).await;
        tmux.wait_for("No servers yet.", &nothing).await;
        // The app is the shell's only child.
        let children = std::fs::read_to_string(format!("/proc/{shell_pid}/task/{shell_pid}/children"))
            .expect("children of the pane's shell");
        let pid = children
            .split_whitespace()
            .next()
            .expect("the app runs")
            .to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(status.success(), "round {i}");
        let code = match signal {
            "TERM" => 143,
            "HUP" => 129,
            _ => 131,
        };
        tmux.wait_for(&format!("SIG{signal}_EXIT={code}"), &nothing).await;
        // stty prints " icanon" (line editing back) or " -icanon" (still raw) on its own line.
        let start = Instant::now();
        let mode = loop {
            let screen = tmux.screen().await;
            if let Some(l) = screen
                .lines()
                .map(str::trim)
                .find(|l| *l == "icanon" || *l == "-icanon")
            {
                break l.to_string();
            }
            assert!(start.elapsed() < DEADLINE, "no stty output:\n{screen}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(mode, "icanon", "SIG{signal}: the terminal was left in raw mode");
        let alt = tmux
            .run(&["display-message", "-p", "-t", "walk", "#{alternate_on}"])
            .await;
        assert_eq!(alt.trim(), "0", "SIG{signal}: still on the alternate screen");
    }
}

// ---- Consent over SSH without a display: paste-back and device code, end to end ----

const SSH_USER: &str = "alice@example.com";

/// A stored OAuth2 server at the fake IdP, and the app running in tmux as if over SSH with
/// no display (and a `$BROWSER` that would fail loudly if it were ever started).
async fn ssh_session(cli: &Cli, tmux: &Tmux, dir: &Path) {
    let marker = dir.join("browser-was-started");
    let browser = dir.join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.display()),
    )
    .expect("write browser script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    tmux.start_shell().await;
    let command = format!(
        "env -u DISPLAY -u WAYLAND_DISPLAY -u SSH_TTY -u SSH_CLIENT SSH_CONNECTION='203.0.113.5 50000 192.0.2.10 22' USER=admin BROWSER='{}' \
         '{}' --config-dir '{}'; echo INBOUND_EXIT=$?",
        browser.display(),
        env!("CARGO_BIN_EXE_inbound"),
        cli.config_dir().display()
    );
    tmux.text(&command).await;
    tmux.keys(&["Enter"]).await;
}

/// The listener's port, read from the waiting screen (" listener 127.0.0.1:PORT ").
fn listener_port(screen: &str) -> u16 {
    screen
        .split("listener 127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no listener port on screen:\n{screen}"))
}

/// What `http://localhost:PORT/start` redirects to: the authorization URL on screen.
async fn start_target(port: u16) -> String {
    let client = oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let resp = client
        .get(format!("http://127.0.0.1:{port}/start"))
        .send()
        .await
        .expect("GET /start");
    assert_eq!(resp.status().as_u16(), 302, "/start redirects");
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_string()
}

/// The three ways are on one screen, the tunnel line names the bound port, no browser ran.
fn assert_three_paths(screen: &str, port: u16, dir: &Path) {
    assert!(
        screen.contains("No browser here (SSH session, no display)."),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("ssh -N -L {port}:localhost:{port} admin@192.0.2.10")),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("http://localhost:{port}/start")),
        "{screen}"
    );
    assert!(screen.contains("or paste the address"), "{screen}");
    assert!(screen.contains("d = device code"), "{screen}");
    assert!(
        !dir.join("browser-was-started").exists(),
        "a browser was started without a display"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_consent_through_paste_back_in_tmux() {
    if !tmux_or_skip("the SSH paste-back walk") {
        return;
    }
    let (idp, cli, dir, tmux) = review_over_ssh("paste").await;
    idp.set_account(SSH_USER);
    let context = log_of(&cli);
    let (screen, port) = sign_in_waiting(&tmux, dir.path(), &context).await;

    // The authorization URL, as the short link gives it, is the one shown whole on screen.
    let auth_url = start_target(port).await;
    let shown: String = screen.lines().map(str::trim_end).collect();
    assert!(
        shown.contains(&auth_url),
        "the link is on screen whole:\n{screen}"
    );

    // A wrong address: the error shows under the field, and the wait goes on.
    tmux.keys(&["Tab"]).await;
    tmux.text(&format!(
        "http://localhost:{port}/microsoft_outlook/confirm?code=abc"
    ))
    .await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("✖ the address has no state=", &context).await;

    // The address the browser would end on (never visited: the user copies it).
    let location = authorize_redirect(&auth_url).await;
    tmux.keys(&["C-u"]).await;
    tmux.text(&location).await;
    tmux.keys(&["Enter"]).await;
    let token = tmux.wait_for("Outlook token is valid", &context).await;
    assert!(token.contains(SSH_USER), "{token}");

    // The listener is gone: its port is free again.
    let freed = std::net::TcpListener::bind(("127.0.0.1", port));
    assert!(freed.is_ok(), "port {port} still taken after sign-in");
    drop(freed);

    tmux.keys(&["q"]).await;
    tmux.wait_for("INBOUND_EXIT=0", &context).await;
    assert_eq!(stored_flow(&cli), inbound::model::Flow::AuthorizationCode);
    assert!(!dir.path().join("browser-was-started").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_consent_through_device_code_in_tmux() {
    if !tmux_or_skip("the SSH device-code walk") {
        return;
    }
    let (idp, cli, dir, tmux) = review_over_ssh("device").await;
    idp.set_account(SSH_USER);
    idp.set_device_interval(0);
    idp.script_device_poll(&["authorization_pending", "ok"]);
    let context = log_of(&cli);
    let (_, port) = sign_in_waiting(&tmux, dir.path(), &context).await;

    // d: device code beside the listener; the fake answers pending, then ok.
    tmux.keys(&["d"]).await;
    let token = tmux.wait_for("Outlook token is valid", &context).await;
    assert!(token.contains(SSH_USER), "{token}");
    assert_eq!(idp.device_code_requests(), 1);
    let form = idp.last_token_form();
    assert!(
        form.iter().all(|(k, _)| k != "client_secret"),
        "device code sends no secret: {form:?}"
    );
    // Device code won: the listener was cancelled and its port is free.
    let start = Instant::now();
    while std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < DEADLINE, "port {port} still taken");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    tmux.keys(&["q"]).await;
    tmux.wait_for("INBOUND_EXIT=0", &context).await;
    assert_eq!(stored_flow(&cli), inbound::model::Flow::DeviceCode);
}

/// The app's log, for a failure's context.
fn log_of(cli: &Cli) -> impl Fn() -> String {
    let log = cli.config_dir().join("logs").join("inbound.log");
    move || std::fs::read_to_string(&log).unwrap_or_default()
}

/// `c` on the review over SSH: the sign-in waits and offers its three paths. The screen and
/// the listener's port.
async fn sign_in_waiting(tmux: &Tmux, dir: &Path, context: &dyn Fn() -> String) -> (String, u16) {
    tmux.keys(&["c"]).await;
    let screen = tmux.wait_for("waiting for Microsoft", context).await;
    let port = listener_port(&screen);
    assert_three_paths(&screen, port, dir);
    (screen, port)
}

/// How the stored tokens of "Support inbox" were got.
fn stored_flow(cli: &Cli) -> inbound::model::Flow {
    let store = cli.store();
    let config = store.load().expect("the store");
    store
        .load_tokens(config.server("Support inbox").expect("the server"))
        .expect("token file")
        .and_then(|f| f.tokens)
        .expect("tokens stored")
        .flow
}

/// One OAuth2 server at the fake IdP, the app on its review screen in tmux as over SSH; the
/// values returned must live as long as the test.
async fn review_over_ssh(name: &str) -> (FakeIdp, Cli, tempfile::TempDir, Tmux) {
    let idp = FakeIdp::start().await;
    let cli = Cli::new();
    cli.add_oauth(&idp, "Support inbox", SSH_USER, &[]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = Tmux::new(name);
    ssh_session(&cli, &tmux, dir.path()).await;
    tmux.wait_for("Support inbox", &String::new).await;
    (idp, cli, dir, tmux)
}

/// `y` inside tmux with tmux's default settings: the text reaches tmux's paste buffer (an
/// application's OSC 52 would be dropped there), the status says where it went, and at exit
/// it is printed to the scrollback as well.
#[tokio::test]
async fn copy_inside_tmux_reaches_the_tmux_buffer() {
    if !tmux_or_skip("the tmux copy test") {
        return;
    }
    let (_idp, _cli, _dir, tmux) = review_over_ssh("copy").await;
    let nothing = String::new;
    tmux.keys(&["y"]).await;
    tmux.wait_for("paste buffer", &nothing).await;
    let buffer = tmux.run(&["show-buffer"]).await;
    assert_eq!(buffer.trim(), "http://localhost/microsoft_outlook/confirm");
    tmux.keys(&["q"]).await;
    let screen = tmux.wait_for("INBOUND_EXIT=0", &nothing).await;
    assert!(
        screen.contains("Redirect URL: http://localhost/microsoft_outlook/confirm"),
        "printed at exit:\n{screen}"
    );
}

/// The SSH connect screen at 60×20: nothing is dropped silently; an indicator says what is
/// below, and PgDn brings the paste field and device code into view.
#[tokio::test]
async fn ssh_connect_at_60x20_scrolls() {
    if !tmux_or_skip("the 60x20 connect walk") {
        return;
    }
    let (_idp, cli, _dir, tmux) = review_over_ssh("small").await;
    let nothing = String::new;
    let log =
        || std::fs::read_to_string(cli.config_dir().join("logs").join("inbound.log")).unwrap_or_default();
    tmux.resize_and_wait(60, 20, &log).await;
    tmux.keys(&["c"]).await;
    let screen = tmux.wait_for("below · PgDn", &log).await;
    assert!(screen.contains("? help"), "{screen}");
    for _ in 0..6 {
        tmux.keys(&["PageDown"]).await;
    }
    let screen = tmux.wait_for("device code (needs", &nothing).await;
    assert!(screen.contains("Tab, then paste"), "{screen}");
    // Separately: ESC then q at once reads as Alt-q.
    tmux.keys(&["Escape"]).await;
    tmux.wait_for("Sign-in cancelled", &nothing).await;
    tmux.keys(&["q"]).await;
    tmux.wait_for("INBOUND_EXIT=0", &nothing).await;
}
