//! The review screen: delete, quit and signals, background and manual refresh, copy, the key
//! table, the details pane, ticking times and the settings dialog.

use super::drive::{act, key_msg, to_form, typed};
use inbound::tui::app::input::to_msg;
use inbound::tui::state::Popup;
use inbound::tui::state::cmd::Cmd;
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{Failure, Msg};
use inbound::tui::testing::{self, now};
use jiff::SignedDuration;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;

#[test]
fn delete_asks_naming_the_server() {
    let mut m = testing::model(testing::populated());
    act(&mut m, Action::Down);
    act(&mut m, Action::Delete);
    assert_eq!(m.popup, Some(Popup::ConfirmDelete("Sales".into())));
    assert!(act(&mut m, Action::No).is_empty());
    assert_eq!(m.popup, None);
    act(&mut m, Action::Delete);
    let cmds = act(&mut m, Action::Yes);
    let [Cmd::Delete { run, name }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(name, "Sales");
    // A stale answer is ignored; the right one reloads.
    assert!(
        m.update(Msg::Deleted {
            run: run + 100,
            name: "Sales".into(),
            result: Ok(inbound::ops::servers::Removed {
                unused_app: None,
                tokens_left: None
            })
        })
        .is_empty()
    );
    let cmds = m.update(Msg::Deleted {
        run: *run,
        name: "Sales".into(),
        result: Ok(inbound::ops::servers::Removed {
            unused_app: None,
            tokens_left: None,
        }),
    });
    assert!(matches!(cmds.as_slice(), [Cmd::Reload]));
}

#[test]
fn quit_asks_only_when_work_runs() {
    let mut m = testing::model(testing::populated());
    act(&mut m, Action::Quit);
    assert!(m.quit);

    let mut m = testing::model(testing::populated());
    act(&mut m, Action::Connect);
    act(&mut m, Action::Quit);
    assert_eq!(m.popup, Some(Popup::ConfirmQuit));
    assert!(!m.quit);
    let cmds = act(&mut m, Action::Yes);
    assert!(m.quit);
    assert!(matches!(cmds.as_slice(), [Cmd::Cancel(_)]));
}

#[test]
fn signals_quit_at_once() {
    let mut m = testing::model(testing::populated());
    act(&mut m, Action::Connect);
    let cmds = m.update(Msg::Signal("SIGHUP"));
    assert!(m.quit && m.interrupted);
    assert!(matches!(cmds.as_slice(), [Cmd::Cancel(_)]));
}

#[test]
fn background_refresh_of_due_tokens() {
    let mut m = testing::model(testing::populated());
    // Helpdesk expired 5 min ago with a refresh token: due. Billing is blocked: never.
    let cmds = m.update(Msg::Tick(now()));
    let due: Vec<&str> = cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::Refresh {
                server, force: false, ..
            } => Some(server.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(due, ["Helpdesk"]);
    let run = m.refreshing["Helpdesk"];
    // In flight: not started twice.
    assert!(m.update(Msg::Tick(now())).is_empty());
    // A failure backs off; the store is not read again for it (the token file the refresh
    // wrote comes with it, `Msg::TokensRead`).
    let cmds = m.update(Msg::Refreshed {
        run,
        server: "Helpdesk".into(),
        result: Err(Failure::new("network down", None)),
    });
    assert!(cmds.is_empty(), "{cmds:?}");
    // A read brings what the core recorded: one transient failure, whose back-off (the
    // core's one policy, 30 s after the first) the app follows too.
    let mut data = testing::populated();
    if let Some(f) = data.tokens.get_mut("Helpdesk") {
        f.failures = 1;
        f.last_error = Some(inbound::model::RecordedError {
            at: now(),
            message: "network down".into(),
            hint: None,
            transient: true,
        });
    }
    m.update(Msg::Loaded(Ok(data)));
    assert!(
        m.update(Msg::Tick(now() + SignedDuration::from_secs(10)))
            .is_empty()
    );
    let later = m.update(Msg::Tick(now() + SignedDuration::from_mins(2)));
    assert!(matches!(later.as_slice(), [Cmd::Refresh { .. }]));
    // Idle with nothing due: the runtime may sleep (no busy loop), but not forever.
    let mut idle = testing::model(testing::empty());
    assert_eq!(idle.next_wake(), None);
    idle.update(Msg::Loaded(Ok(testing::populated())));
    assert!(idle.next_wake().is_some_and(|d| d >= Duration::from_millis(100)));
}

#[test]
fn manual_refresh_reports_success() {
    let mut m = testing::model(testing::populated());
    let cmds = act(&mut m, Action::Refresh);
    let [Cmd::Refresh { run, force: true, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    m.update(Msg::Refreshed {
        run: *run,
        server: "Support inbox".into(),
        result: Ok(()),
    });
    assert!(m.status.as_ref().is_some_and(|s| s.text.contains("refreshed")));
}

#[test]
fn copy_says_where_it_went() {
    let mut m = testing::model(testing::populated());
    let cmds = act(&mut m, Action::Copy);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Copy { text, .. }] if text == "http://localhost/microsoft_outlook/confirm")
    );
    use inbound::tui::app::clipboard::Route;
    m.update(Msg::Copied {
        what: "Redirect URL".into(),
        result: Ok(Route::Osc52),
    });
    assert!(
        m.status
            .as_ref()
            .is_some_and(|s| s.text.contains("OSC 52") && s.text.contains("ignore"))
    );
    m.update(Msg::Copied {
        what: "Redirect URL".into(),
        result: Ok(Route::TmuxBuffer),
    });
    assert!(
        m.status
            .as_ref()
            .is_some_and(|s| s.text.contains("tmux's paste buffer"))
    );
    m.update(Msg::Copied {
        what: "Redirect URL".into(),
        result: Err(inbound::tui::app::clipboard::CopyError::Terminal(
            std::sync::Arc::new(std::io::Error::other("no terminal")),
        )),
    });
    assert!(
        m.status
            .as_ref()
            .is_some_and(|s| s.text.contains("Could not copy"))
    );
    assert_eq!(m.copied.len(), 1, "printed at exit, once");
}

#[test]
fn keys_resolve_through_the_table() {
    let mut m = testing::model(testing::populated());
    let key = |c: KeyCode, mods| Event::Key(KeyEvent::new(c, mods));
    assert!(matches!(
        to_msg(&m, &key(KeyCode::Char('?'), KeyModifiers::SHIFT)),
        Some(Msg::Action(Action::Help))
    ));
    to_form(&mut m);
    // In the form, '?' and 'q' are typed; F1 still opens help.
    assert!(matches!(
        to_msg(&m, &key(KeyCode::Char('?'), KeyModifiers::SHIFT)),
        Some(Msg::Text(_))
    ));
    assert!(matches!(
        to_msg(&m, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
        Some(Msg::Text(_))
    ));
    assert!(matches!(
        to_msg(&m, &key(KeyCode::F(1), KeyModifiers::NONE)),
        Some(Msg::Action(Action::Help))
    ));
    // Releases are ignored.
    let mut release = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
    release.kind = ratatui::crossterm::event::KeyEventKind::Release;
    assert!(to_msg(&m, &Event::Key(release)).is_none());
}

#[test]
fn details_scroll_and_reveal_keys() {
    let mut m = testing::model(testing::populated());
    assert!(matches!(key_msg(&m, 'v'), Some(Msg::Action(Action::Reveal))));
    act(&mut m, Action::ScrollDown);
    assert_eq!(m.details_scroll, 5);
    act(&mut m, Action::ScrollUp);
    assert_eq!(m.details_scroll, 0);
    act(&mut m, Action::ScrollDown);
    act(&mut m, Action::Down);
    assert_eq!(m.details_scroll, 0, "a new selection starts at the top");
}

#[test]
fn times_shown_in_seconds_tick_every_second() {
    use inbound::model::{AuthKind, Config, ServerState};
    // One server whose times are all far from now (NOW is on a minute boundary): the next
    // wake is the next minute, not the next second.
    let mut config = Config::default();
    config.apps.push(testing::app("Contoso mail", "2027-05-01"));
    config.servers.push(testing::server(
        "Far",
        AuthKind::OAuth2,
        ServerState::Draft,
        "far@contoso.com",
        Some("Contoso mail"),
    ));
    let mut data = testing::empty();
    data.config = config;
    data.tokens.insert(
        "Far".into(),
        testing::tokens("Far", "far@contoso.com", 600, "far@contoso.com"),
    );
    let mut m = testing::model(data.clone());
    assert_eq!(m.next_wake(), Some(Duration::from_secs(60)));
    // Just refreshed: "8 s ago" must move every second.
    if let Some(t) = data.tokens.get_mut("Far").and_then(|f| f.tokens.as_mut()) {
        t.refreshed_at = now() - SignedDuration::from_secs(8);
    }
    m.update(Msg::Loaded(Ok(data)));
    assert_eq!(m.next_wake(), Some(Duration::from_secs(1)));
}

#[test]
fn settings_can_be_seen_and_changed_in_the_app() {
    use inbound::tui::state::settings::FIELDS;
    let mut m = testing::model(testing::populated());
    act(&mut m, Action::Settings);
    assert!(matches!(m.popup, Some(Popup::Settings(_))));
    assert!(m.text_focused(), "typing goes into the field");
    typed(&mut m, "99999");
    assert!(act(&mut m, Action::Submit).is_empty(), "refused before any write");
    let form = m.settings().unwrap();
    assert!(form.fields.errors.contains_key(&0), "{:?}", form.fields.errors);
    for _ in 0..5 {
        m.update(Msg::Text(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
    }
    typed(&mut m, "18765");
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    assert_eq!(
        FIELDS[m.settings().unwrap().fields.focus],
        inbound::model::validate::Field::Timeout
    );
    typed(&mut m, "600");
    let cmds = act(&mut m, Action::Submit);
    let [Cmd::SaveSettings { run, patch }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(patch.listen_port, Some(Some(18765)));
    assert_eq!(patch.consent_timeout_secs, Some(Some(600)));
    m.update(Msg::SettingsSaved {
        run: *run,
        result: Ok(()),
    });
    assert_eq!(m.popup, None);
    assert!(
        m.status
            .as_ref()
            .is_some_and(|s| s.text.contains("Settings saved"))
    );
}
