//! The whole app headless: `App::run` over `TestBackend` with a scripted key stream and a
//! recording effects runner that answers like the core would.

use crate::support::tui::signed_in;
use futures_util::stream;
use inbound::services::imap::ProbeEvent;
use inbound::services::imap::Stage;
use inbound::tui::app::App;
use inbound::tui::app::effects::Effects;
use inbound::tui::state::cmd::Cmd;
use inbound::tui::state::msg::{ConsentEvent, Msg, TestEvent};
use inbound::tui::testing::{self, now};
use jiff::SignedDuration;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// Records every command; answers Save, Connect and Test like the real runner would.
#[derive(Default)]
struct Recorder {
    cmds: Vec<Cmd>,
}

impl Effects for Recorder {
    fn run(&mut self, cmd: Cmd, tx: &UnboundedSender<Msg>) {
        let send = |m| {
            let _ = tx.send(m);
        };
        match &cmd {
            Cmd::Save { run, .. } => {
                let mut data = testing::populated();
                data.config.servers.retain(|s| s.name != "Sales");
                let mut new = data.config.servers[0].clone();
                new.name = "Shared mailbox".into();
                new.username = "shared@contoso.com".into();
                new.state = inbound::model::ServerState::Draft;
                new.last_test = None;
                data.config.servers.push(new);
                send(Msg::Loaded(Ok(data)));
                send(Msg::Saved {
                    run: *run,
                    result: Ok("Shared mailbox".into()),
                });
            }
            Cmd::Connect { run, .. } => {
                send(Msg::Consent {
                    run: *run,
                    event: ConsentEvent::Ready {
                        auth_url: "https://login.example/authorize".into(),
                        port: 8400,
                        deadline: now() + SignedDuration::from_mins(5),
                    },
                });
                send(Msg::Consent {
                    run: *run,
                    event: ConsentEvent::Connected(signed_in("Shared mailbox", "shared@contoso.com")),
                });
            }
            Cmd::Test { run, .. } => {
                for event in [
                    TestEvent::Progress(ProbeEvent::Started(Stage::Connect)),
                    TestEvent::Progress(ProbeEvent::Passed {
                        stage: Stage::Connect,
                        detail: "ok".into(),
                        elapsed: Duration::from_millis(1),
                    }),
                    TestEvent::Finished(Ok(3)),
                ] {
                    send(Msg::Test { run: *run, event });
                }
            }
            _ => {}
        }
        self.cmds.push(cmd);
    }
}

fn key(c: KeyCode) -> std::io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn text(s: &str) -> Vec<std::io::Result<Event>> {
    s.chars().map(|c| key(KeyCode::Char(c))).collect()
}

#[tokio::test]
async fn wizard_to_confirmed_then_quit() {
    // Step 1: "step by step in the portal", then Enter through Register to the secret step.
    let mut script = vec![
        key(KeyCode::Char('n')),
        key(KeyCode::Right),
        key(KeyCode::Enter),
        key(KeyCode::Enter),
        key(KeyCode::Tab),
    ];
    script.extend(text("2027-05-01"));
    script.extend([key(KeyCode::Enter), key(KeyCode::Enter)]);
    script.extend(text("Shared mailbox"));
    for _ in 0..4 {
        script.push(key(KeyCode::Tab));
    }
    script.extend(text("shared@contoso.com"));
    // Past "Sign in as" to Azure app: pick the stored "Contoso mail" instead of retyping it.
    script.extend([key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Right)]);
    script.extend([
        key(KeyCode::Enter),        // save → connect → token valid
        key(KeyCode::Enter),        // Test & Confirm → Confirmed
        key(KeyCode::Enter),        // done
        Ok(Event::Resize(100, 30)), // redraws, changes nothing else
        key(KeyCode::Char('q')),
    ]);

    let mut app = App::new(testing::model(testing::populated()), Recorder::default()).with_clock(now);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    tokio::time::timeout(
        Duration::from_secs(10),
        app.run(&mut terminal, stream::iter(script)),
    )
    .await
    .expect("the app ended")
    .expect("no terminal error");

    assert!(app.model.quit);
    let kinds: Vec<&str> = app
        .effects()
        .cmds
        .iter()
        .map(|c| match c {
            Cmd::Save { .. } => "save",
            Cmd::Connect { .. } => "connect",
            Cmd::Test { .. } => "test",
            Cmd::Reload => "reload",
            Cmd::Refresh { .. } => "refresh",
            _ => "other",
        })
        .filter(|k| *k != "reload" && *k != "refresh")
        .collect();
    assert_eq!(kinds, ["save", "connect", "test"]);
    if let Some(Cmd::Save { request, .. }) = app.effects().cmds.iter().find(|c| matches!(c, Cmd::Save { .. }))
    {
        let text = format!("{request:?}");
        assert!(text.contains("Existing(\"Contoso mail\")"), "{text}");
    }
    assert_eq!(
        app.model.selected_server().map(|s| s.name.as_str()),
        Some("Shared mailbox")
    );
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("Shared mailbox"), "{screen}");
    assert!(screen.contains("\"Shared mailbox\" is Confirmed."), "{screen}");
}

#[tokio::test]
async fn end_of_input_leaves_cleanly() {
    let mut app = App::new(testing::model(testing::empty()), Recorder::default()).with_clock(now);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    tokio::time::timeout(
        Duration::from_secs(10),
        app.run(&mut terminal, stream::iter(Vec::new())),
    )
    .await
    .expect("the app ended")
    .expect("no terminal error");
    assert!(app.model.quit && app.model.interrupted);
    assert!(format!("{}", terminal.backend()).contains("No servers yet."));
}

/// Without a terminal the binary says so, points at the CLI, writes nothing to stdout (no
/// escape codes into a pipe) and exits non-zero.
#[test]
fn no_tty_prints_a_message_and_no_escape_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_inbound"))
        .arg("--config-dir")
        .arg(dir.path().join("store"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("needs a terminal") && err.contains("inbound --help"),
        "{err}"
    );
    assert!(!err.contains('\x1b'));
}
