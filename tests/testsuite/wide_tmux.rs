//! The demo walked at 140×40 through the real binary (the other walks are 80×24 and 60×20):
//! every step says what it should, nothing names a key its screen does not bind, no line is
//! wider than the terminal, and the wizard ends Confirmed.

use crate::support;

use support::tmux::{NO_DISPLAY, Tmux, tmux_or_skip};

const COLS: usize = 140;

/// The screen once its hint bar is drawn (a capture can land mid-frame), within the deadline.
async fn settled(tmux: &Tmux, screen: String) -> String {
    let start = std::time::Instant::now();
    let mut screen = screen;
    loop {
        let hints = screen.lines().last().unwrap_or_default().to_string();
        if hints.contains("? help") || hints.contains("F1 help") {
            return screen;
        }
        if start.elapsed() > support::tmux::DEADLINE {
            return screen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        screen = tmux.screen().await;
    }
}

/// What every screen of the walk must satisfy.
fn honest(screen: &str) {
    assert!(
        !screen.contains(inbound::tui::state::keymap::UNBOUND),
        "a key its screen does not bind:\n{screen}"
    );
    for line in screen.lines() {
        assert!(
            unicode_width::UnicodeWidthStr::width(line) <= COLS,
            "wider than {COLS}: {line}"
        );
    }
    let hints = screen.lines().last().unwrap_or_default();
    assert!(
        hints.contains("? help") || hints.contains("F1 help"),
        "the hint bar keeps help:\n{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_walks_to_confirmed_at_140_by_40() {
    if !tmux_or_skip("the 140×40 walk") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = Tmux::new("wide");
    tmux.start_shell().await;
    tmux.run(&["resize-window", "-t", "walk", "-x", "140", "-y", "40"])
        .await;
    let nothing = String::new;
    tmux.wait_for("shell$", &nothing).await;
    tmux.text(&format!(
        "{NO_DISPLAY} TMPDIR='{}' '{}' demo; echo DEMO_EXIT=$?",
        dir.path().display(),
        env!("CARGO_BIN_EXE_inbound")
    ))
    .await;
    tmux.keys(&["Enter"]).await;
    let review = tmux.wait_for("Sales (shared)", &nothing).await;
    let review = settled(&tmux, review).await;
    honest(&review);
    assert_eq!(review.lines().count(), 40, "{review}");
    // Both panes side by side at this width: the list and the selected server's health.
    assert!(
        review.contains("Helpdesk") && review.contains("Health"),
        "{review}"
    );

    // The choice of how to register the app comes first; → takes the portal path.
    tmux.keys(&["n"]).await;
    tmux.wait_for("How do you want to register the app", &nothing)
        .await;
    tmux.keys(&["Right", "Enter"]).await;
    for heading in [
        "Register the application",
        "Create a client secret",
        "Grant the IMAP permission",
        "The incoming mail server",
    ] {
        let screen = tmux.wait_for(heading, &nothing).await;
        let screen = settled(&tmux, screen).await;
        honest(&screen);
        // The step bar names every step at this width.
        for step in [
            "Register",
            "Secret",
            "Permissions",
            "Server",
            "Connect",
            "Token",
            "Test",
        ] {
            assert!(
                screen.contains(step),
                "{step} missing from the step bar:\n{screen}"
            );
        }
        tmux.keys(&["Enter"]).await;
    }
    let connect = tmux.wait_for("waiting for Microsoft", &nothing).await;
    let connect = settled(&tmux, connect).await;
    honest(&connect);
    assert!(connect.contains("No browser here (no display)."), "{connect}");
    // The demo's tenant lets only an admin consent: the admin consent screen, accepted as the
    // demo's admin, then the sign-in again.
    tmux.keys(&["s"]).await;
    tmux.wait_for("1 I am an admin:", &nothing).await;
    tmux.keys(&["a"]).await;
    tmux.wait_for("waiting for the admin", &nothing).await;
    tmux.keys(&["s"]).await;
    tmux.wait_for("waiting for Microsoft", &nothing).await;
    tmux.keys(&["s"]).await;
    let token = tmux.wait_for("Outlook token is valid", &nothing).await;
    let token = settled(&tmux, token).await;
    honest(&token);
    tmux.keys(&["Enter"]).await;
    let confirmed = tmux
        .wait_for("● Confirmed · INBOX has 3 messages", &nothing)
        .await;
    let confirmed = settled(&tmux, confirmed).await;
    honest(&confirmed);
    for stage in [
        "connect",
        "TLS",
        "greeting",
        "capabilities",
        "authenticate",
        "INBOX",
        "logout",
    ] {
        assert!(confirmed.contains(stage), "{stage} missing:\n{confirmed}");
    }
    tmux.keys(&["Enter", "q"]).await;
    tmux.wait_for("DEMO_EXIT=0", &nothing).await;
}
