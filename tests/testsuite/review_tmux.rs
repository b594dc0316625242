//! The review of a 300-server store through the real binary in tmux (140×40, the table): find
//! one server, sort by token expiry, mark three, test them at once, and read the summary.
//! Every server points at a closed loopback port, so each test fails fast at "connect" and
//! nothing leaves the machine.

use crate::support;

use inbound::model::{Flow, TokenSet};
use inbound::secret::Secret;
use inbound::store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use support::tmux::{NO_DISPLAY, Tmux, tmux_or_skip};

const SERVERS: usize = 300;

fn seed(dir: &std::path::Path) -> Store {
    let store = Store::open(Some(dir.to_path_buf())).expect("store");
    support::store::seed_mailboxes(&store, SERVERS);
    // Ten servers signed in, their tokens running out in turn: mailbox-290 first.
    let config = store.load().expect("load");
    let now = Timestamp::now();
    for (k, i) in (290..SERVERS).rev().enumerate() {
        let server = config.server(&format!("mailbox-{i:03}")).expect("server").clone();
        store
            .update_tokens(&server, |f| {
                f.tokens = Some(TokenSet {
                    access_token: Secret::new("access-token"),
                    refresh_token: Some(Secret::new("refresh-token")),
                    issued_at: now,
                    expires_at: now + SignedDuration::from_mins(120 - 5 * k as i64),
                    refreshed_at: now,
                    consented_at: now,
                    scope: "https://outlook.office.com/IMAP.AccessAsUser.All openid profile email".into(),
                    account: Some(server.username.clone()),
                    flow: Flow::AuthorizationCode,
                    principal_id: None,
                });
                Ok::<_, StoreError>(())
            })
            .expect("tokens");
    }
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_300_servers_find_sort_mark_and_test() {
    if !tmux_or_skip("the 300-server review walk") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = dir.path().join("store");
    let store = seed(&store_dir);
    let tmux = Tmux::new("review");
    let log = || std::fs::read_to_string(store_dir.join("logs").join("inbound.log")).unwrap_or_default();
    tmux.start_shell().await;
    tmux.run(&["resize-window", "-t", "walk", "-x", "140", "-y", "40"])
        .await;
    tmux.wait_for("shell$", &log).await;
    tmux.text(&format!(
        "{NO_DISPLAY} '{}' --config-dir '{}'; echo INBOUND_EXIT=$?",
        env!("CARGO_BIN_EXE_inbound"),
        store_dir.display()
    ))
    .await;
    tmux.keys(&["Enter"]).await;
    let screen = tmux.wait_for("300 servers", &log).await;
    assert!(
        screen.contains("Token until") && screen.contains("by health"),
        "{screen}"
    );

    // Find one server: an exact word narrows 300 to one, and it is selected.
    tmux.keys(&["/"]).await;
    tmux.text("'mailbox-123").await;
    let screen = tmux.wait_for("1 of 300 match", &log).await;
    assert!(screen.contains("▶ mailbox-123"), "{screen}");
    assert!(
        screen.contains("┌ mailbox-123 "),
        "the details show it:\n{screen}"
    );
    // Enter keeps the find, Esc on the list gives the whole list back.
    tmux.keys(&["Enter"]).await;
    tmux.keys(&["Escape"]).await;
    tmux.wait_for("/300 ", &log).await;

    // Sort by token expiry: health → name → token expiry.
    tmux.keys(&["o"]).await;
    tmux.wait_for("by name", &log).await;
    tmux.keys(&["o"]).await;
    let screen = tmux.wait_for("by token expiry", &log).await;
    assert!(screen.contains("Token until ▼"), "{screen}");
    tmux.keys(&["Home"]).await;
    let screen = tmux.wait_for("▶ mailbox-290", &log).await;
    let first_rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("mailbox-2"))
        .take(3)
        .collect();
    assert!(
        first_rows[0].contains("mailbox-290") && first_rows[1].contains("mailbox-291"),
        "the token that runs out first leads:\n{screen}"
    );

    // Mark three (Space moves down after each mark) and test them at once.
    tmux.keys(&["Space", "Space", "Space"]).await;
    tmux.wait_for("3 marked", &log).await;
    tmux.keys(&["t"]).await;
    tmux.wait_for("Testing 3 servers", &log).await;
    let screen = tmux.wait_for("Done in", &log).await;
    assert!(screen.contains("0 passed, 3 failed"), "{screen}");
    for name in ["mailbox-290", "mailbox-291", "mailbox-292"] {
        assert!(
            screen
                .lines()
                .any(|l| l.contains(&format!("✖ {name}")) && l.contains("connect")),
            "{name} failed at connect:\n{screen}"
        );
    }
    // The failed tests are recorded, for these three only.
    let config = store.load().expect("load");
    let tested: Vec<&str> = config
        .servers
        .iter()
        .filter(|s| s.last_test.is_some())
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(tested, ["mailbox-290", "mailbox-291", "mailbox-292"]);
    tmux.keys(&["Enter"]).await;
    tmux.keys(&["q"]).await;
    tmux.wait_for("INBOUND_EXIT=0", &log).await;
}
