//! The review's tools through the real binary: `inbound NAME` opens the app on that server
//! (an unknown name is refused with the similar ones); in tmux, the mouse on the review screen
//! (a click selects a row, a click on the hint bar does the key, and the terminal's mouse
//! reporting is off again once the app ends), and import from the app (bad rows named, a dry
//! run, then the import).

use crate::support;

use inbound::store::Store;
use support::cli::{Cli, text};
use support::tmux::{NO_DISPLAY, Tmux, tmux_or_skip};

const SERVERS: usize = 40;

#[tokio::test]
async fn an_unknown_name_is_refused_with_the_similar_ones() {
    let cli = Cli::new();
    support::store::seed_mailboxes(&cli.store(), SERVERS);
    let out = cli.run(&["mailbox-03"], None).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("no server named \"mailbox-03\". Similar: \"mailbox-003\""),
        "{err}"
    );
    assert!(err.contains("inbound --help"), "{err}");
    // A command is still a command, and a name in a pipe still needs a terminal.
    let out = cli.run(&["list"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli.run(&["mailbox-003"], None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("needs a terminal"),
        "{}",
        text(&out.stderr)
    );
}

/// The name on the list's first row (line 3 of the pane).
fn first_listed(screen: &str) -> String {
    let line = screen.lines().nth(2).unwrap_or_default();
    let at = line
        .find("mailbox-")
        .unwrap_or_else(|| panic!("no server on the first row:\n{screen}"));
    line[at..at + "mailbox-000".len()].to_string()
}

async fn mouse_flag(tmux: &Tmux) -> String {
    tmux.run(&["display-message", "-p", "-t", "walk", "#{mouse_any_flag}"])
        .await
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_opens_on_a_named_server_and_takes_clicks() {
    if !tmux_or_skip("inbound NAME and the mouse") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = dir.path().join("store");
    support::store::seed_mailboxes(&Store::open(Some(store_dir.clone())).expect("store"), SERVERS);
    let tmux = Tmux::new("tools");
    let log = || std::fs::read_to_string(store_dir.join("logs").join("inbound.log")).unwrap_or_default();
    tmux.start_shell().await;
    tmux.text(&format!(
        "{NO_DISPLAY} '{}' --config-dir '{}' mailbox-030; echo INBOUND_EXIT=$?",
        env!("CARGO_BIN_EXE_inbound"),
        store_dir.display()
    ))
    .await;
    tmux.keys(&["Enter"]).await;
    // 80×24: the list and the named server's details beside it.
    let screen = tmux.wait_for("┌ mailbox-030 ", &log).await;
    assert!(screen.contains("▶ mailbox-030"), "{screen}");
    assert_eq!(mouse_flag(&tmux).await, "1", "the review takes the mouse");

    // A click (SGR mouse report, as a terminal sends it) on the list's first row: the
    // frame's top is row 2 of the pane (1-based), the first server's name row 3.
    let first = first_listed(&screen);
    assert_ne!(
        first, "mailbox-030",
        "the named server is further down:\n{screen}"
    );
    tmux.text("\x1b[<0;5;3M\x1b[<0;5;3m").await;
    let screen = tmux.wait_for(&format!("┌ {first} "), &log).await;
    assert!(
        screen.contains(&format!("▶ {first}")),
        "the clicked row is selected:\n{screen}"
    );

    // A click on the hint bar's "n new": the wizard opens, and gives the mouse back.
    tmux.text("\x1b[<0;2;24M\x1b[<0;2;24m").await;
    tmux.wait_for("How do you want to register", &log).await;
    assert_eq!(
        mouse_flag(&tmux).await,
        "0",
        "the wizard leaves the mouse to the terminal"
    );
    tmux.keys(&["Escape"]).await;
    tmux.wait_for("kept as a draft", &log).await;
    assert_eq!(mouse_flag(&tmux).await, "1");

    // Import from the app: a file with a bad row is refused whole, the row named; once
    // fixed, the dry run lists what would be added, and the next Enter adds it.
    let file = dir.path().join("desks.csv");
    std::fs::write(
        &file,
        "name,username,app\nDesk 1,desk1@contoso.com,Contoso mail\nDesk 2,desk2@contoso.com,No such app\n",
    )
    .expect("csv");
    tmux.keys(&["i"]).await;
    tmux.wait_for("Import servers from a file", &log).await;
    tmux.text(&file.display().to_string()).await;
    tmux.keys(&["Enter"]).await;
    let screen = tmux.wait_for("line 3, app", &log).await;
    assert!(screen.contains("nothing was imported"), "{screen}");
    std::fs::write(
        &file,
        "name,username,app\nDesk 1,desk1@contoso.com,Contoso mail\nDesk 2,desk2@contoso.com,Contoso mail\n",
    )
    .expect("csv");
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("2 servers would be added", &log).await;
    let store = Store::open(Some(store_dir.clone())).expect("store");
    assert_eq!(
        store.load().expect("load").servers.len(),
        SERVERS,
        "a dry run writes nothing"
    );
    tmux.keys(&["Enter"]).await;
    tmux.wait_for("Added 2 servers as Draft", &log).await;
    tmux.wait_for("42 servers", &log).await;
    let names: Vec<String> = store
        .load()
        .expect("load")
        .servers
        .iter()
        .map(|s| s.name.clone())
        .collect();
    assert!(names.contains(&"Desk 1".to_string()) && names.contains(&"Desk 2".to_string()));

    tmux.keys(&["q"]).await;
    tmux.wait_for("INBOUND_EXIT=0", &log).await;
    assert_eq!(
        mouse_flag(&tmux).await,
        "0",
        "the terminal is given back without mouse reporting"
    );
}
