//! End to end through the real binary in tmux: the wizard from nothing → form → connect (a
//! scripted "browser" signs in at the fake identity provider) → token valid → Test & Confirm
//! against the real Dovecot → Confirmed in the list; then `q` and the shell is back.
//!
//! Skipped with a notice when tmux, curl or Dovecot is missing, unless
//! INBOUND_REQUIRE_DOVECOT=1 (CI), which makes that an error.

mod support;

use inbound::model::ServerState;
use inbound::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};
use support::dovecot::{Dovecot, OAUTH_USER};
use support::fake_idp::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp};
use tokio::process::Command;

const DEADLINE: Duration = Duration::from_secs(30);

fn required() -> bool {
    std::env::var("INBOUND_REQUIRE_DOVECOT").is_ok_and(|v| v == "1")
}

fn have(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg(if tool == "tmux" { "-V" } else { "--version" })
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One tmux server on its own socket, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    async fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .await
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    async fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "walk"];
        args.extend_from_slice(keys);
        self.run(&args).await;
    }

    /// Types text literally.
    async fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "walk", "-l", text]).await;
    }

    async fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "walk"]).await
    }

    /// Polls the pane until `needle` shows, within [`DEADLINE`].
    async fn wait_for(&self, needle: &str, context: &dyn Fn() -> String) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen().await;
            if screen.contains(needle) {
                return screen;
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "{needle:?} did not appear within {DEADLINE:?}. Screen:\n{screen}\n{}",
                    context()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

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
    for tool in ["tmux", "curl"] {
        if !have(tool) {
            assert!(
                !required(),
                "{tool} is not installed, but INBOUND_REQUIRE_DOVECOT=1"
            );
            eprintln!("{tool} not installed; skipping the tmux walk");
            return;
        }
    }
    let idp = FakeIdp::start().await;
    idp.set_account(OAUTH_USER);
    let Some(dovecot) = Dovecot::start(&idp.introspection_url()) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = dir.path().join("store");
    let browser = write_browser(dir.path());
    let tmux = Tmux {
        socket: format!("inbound-walk-{}", std::process::id()),
    };
    let context = || {
        format!(
            "browser log: {}\ninbound log: {}\ndovecot: {}",
            std::fs::read_to_string(dir.path().join("browser.log")).unwrap_or_default(),
            std::fs::read_to_string(store_dir.join("logs").join("inbound.log")).unwrap_or_default(),
            dovecot.log_tail(20)
        )
    };

    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "walk",
        "-x",
        "80",
        "-y",
        "24",
        "env",
        "PS1=shell$ ",
        "sh",
    ])
    .await;
    tmux.wait_for("shell$", &context).await;
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
    tmux.wait_for("Register the application", &context).await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("Create a client secret", &context).await;
    tmux.text("2099-05-01").await;
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
    tmux.keys(&["Tab"]).await;
    tmux.text(DEFAULT_CLIENT_SECRET).await;
    tmux.keys(&["Tab"]).await;
    tmux.text(DEFAULT_CLIENT_ID).await;
    tmux.keys(&["Tab"]).await;
    tmux.text("contoso.onmicrosoft.com").await;
    tmux.keys(&["Tab", "C-u"]).await;
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
/// raw mode and the alternate screen, and the exit code says "interrupted" (130).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_restore_the_terminal() {
    if !have("tmux") {
        assert!(
            !required(),
            "tmux is not installed, but INBOUND_REQUIRE_DOVECOT=1"
        );
        eprintln!("tmux not installed; skipping the signal test");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = Tmux {
        socket: format!("inbound-signal-{}", std::process::id()),
    };
    let nothing = String::new;
    let shell_pid = tmux
        .run(&[
            "new-session",
            "-d",
            "-P",
            "-F",
            "#{pane_pid}",
            "-s",
            "walk",
            "-x",
            "80",
            "-y",
            "24",
            "env",
            "PS1=shell$ ",
            "sh",
        ])
        .await;
    let shell_pid = shell_pid.trim().to_string();
    tmux.wait_for("shell$", &nothing).await;
    for (i, signal) in ["TERM", "HUP"].into_iter().enumerate() {
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
        tmux.wait_for(&format!("SIG{signal}_EXIT=130"), &nothing).await;
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
