//! The demo's other walks through the real binary in tmux at 80×24, with no display: `n`
//! asks how to register the app; the Cloud Shell path (the recommended one) goes on with the
//! setup code the demo's stand-in printed for the app it registered; that new app meets "Need
//! admin approval" (the demo's tenant lets only an admin consent), the admin consent screen
//! grants it, and the walk ends Confirmed.

use crate::support;

use support::tmux::{Tmux, tmux_or_skip};

/// The demo started in a fresh shell, its seeded review on screen.
async fn demo_in_tmux(tmux: &Tmux, tmp: &std::path::Path) {
    tmux.start_shell().await;
    let nothing = String::new;
    tmux.wait_for("shell$", &nothing).await;
    tmux.text(&format!(
        "env -u DISPLAY -u WAYLAND_DISPLAY -u SSH_CONNECTION -u SSH_CLIENT -u SSH_TTY TMPDIR='{}' '{}' demo; echo DEMO_EXIT=$?",
        tmp.display(),
        env!("CARGO_BIN_EXE_inbound")
    ))
    .await;
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("Sales (shared)", &nothing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_cloud_shell_path_to_confirmed() {
    if !tmux_or_skip("the demo's Cloud Shell walk") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = Tmux::new("demo-shell");
    demo_in_tmux(&tmux, dir.path()).await;
    let nothing = String::new;

    // `n` asks first; Cloud Shell is the answer chosen.
    tmux.keys(&["n"]).await;
    let choice = tmux
        .wait_for("How do you want to register the app", &nothing)
        .await;
    assert!(choice.contains("Cloud Shell"), "{choice}");
    tmux.keys(&["Enter"]).await;
    // The stand-in played Cloud Shell: its setup code waits in the field.
    let script = tmux.wait_for("The demo's stand-in ran it", &nothing).await;
    assert!(script.contains("Setup code"), "{script}");
    tmux.keys(&["Enter"]).await;
    let form = tmux.wait_for("The incoming mail server", &nothing).await;
    assert!(form.contains("Filled from the setup code"), "{form}");
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("waiting for Microsoft", &nothing).await;
    tmux.keys(&["s"]).await;
    // The new app needs an admin's approval: the admin consent screen, both routes.
    let admin = tmux.wait_for("1 I am an admin:", &nothing).await;
    assert!(admin.contains("was declined"), "{admin}");
    assert!(admin.contains("2 Or send this link to your admin"), "{admin}");
    tmux.keys(&["a"]).await;
    let waiting = tmux.wait_for("waiting for the admin", &nothing).await;
    assert!(
        waiting.contains("DEMO s approves as the demo's admin"),
        "{waiting}"
    );
    tmux.keys(&["s"]).await;
    // Granted: the sign-in starts again by itself, and goes through.
    let again = tmux.wait_for("waiting for Microsoft", &nothing).await;
    assert!(again.contains("signing in again"), "{again}");
    tmux.keys(&["s"]).await;
    let token = tmux.wait_for("Outlook token is valid", &nothing).await;
    assert!(token.contains("support@contoso.com"), "{token}");
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("● Confirmed · INBOX has 3 messages", &nothing)
        .await;
    tmux.keys(&["Enter", "q"]).await;
    tmux.wait_for("DEMO_EXIT=0", &nothing).await;
}
