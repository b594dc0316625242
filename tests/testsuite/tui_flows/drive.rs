//! The steps every flow shares: actions and typed text, a filled form, a save answered as the
//! store would, the sign-in's first answer and its result.

use inbound::ops::consent::Connected;
use inbound::tui::app::input::to_msg;
use inbound::tui::state::Model;
use inbound::tui::state::cmd::Cmd;
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{ConsentEvent, Msg, PreflightEvent};
use inbound::tui::state::wizard::Step;
use inbound::tui::state::wizard::form::FieldId;
use inbound::tui::testing::{self, now};
use jiff::SignedDuration;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

pub(super) fn act(m: &mut Model, a: Action) -> Vec<Cmd> {
    m.update(Msg::Action(a))
}

pub(super) fn typed(m: &mut Model, text: &str) {
    for c in text.chars() {
        assert!(
            m.update(Msg::Text(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
                .is_empty()
        );
    }
}

pub(super) fn step(m: &Model) -> Option<Step> {
    m.wizard().map(|w| w.step)
}

pub(super) fn form_value(m: &Model, f: FieldId) -> String {
    m.wizard()
        .map(|w| w.form.value(f).to_string())
        .unwrap_or_default()
}

/// A new wizard on step 1 of the portal path (the choice answered "step by step").
pub(super) fn new_portal(m: &mut Model) {
    act(m, Action::New);
    act(m, Action::Right);
    act(m, Action::Open);
}

/// A new wizard on the portal path, Enter through steps 1–3 to the form.
pub(super) fn to_form(m: &mut Model) {
    new_portal(m);
    for _ in 0..3 {
        act(m, Action::Open);
    }
}

/// New wizard on an empty store, at the form with everything typed (the expiry on step 2).
pub(super) fn filled(m: &mut Model) {
    new_portal(m);
    act(m, Action::Open);
    act(m, Action::NextField);
    typed(m, "2027-05-01");
    act(m, Action::Open);
    act(m, Action::Open);
    assert_eq!(step(m), Some(Step::Form));
    typed(m, "Support inbox");
    for _ in 0..4 {
        act(m, Action::NextField);
    }
    typed(m, "support@contoso.com");
    // Past "Sign in as" (optional) to the secret.
    act(m, Action::NextField);
    act(m, Action::NextField);
    typed(m, testing::SECRET);
    act(m, Action::NextField);
    typed(m, testing::CLIENT_ID);
    act(m, Action::NextField);
    typed(m, "contoso.com");
}

/// Submits; a pre-flight is answered "all passed", so the save follows.
pub(super) fn submit(m: &mut Model) -> Vec<Cmd> {
    let cmds = act(m, Action::Submit);
    match cmds.as_slice() {
        [Cmd::Preflight { run, .. }] => m.update(Msg::Preflight {
            run: *run,
            event: PreflightEvent::Done(Ok(Some(testing::checklist_passed()))),
        }),
        _ => cmds,
    }
}

/// Submits, then answers as the store would: reloaded data, then Saved.
pub(super) fn save(m: &mut Model) -> u64 {
    let cmds = submit(m);
    let [Cmd::Save { run, .. }] = cmds.as_slice() else {
        panic!("expected one Save, got {cmds:?}");
    };
    let run = *run;
    m.update(Msg::Loaded(Ok(testing::populated())));
    let cmds = m.update(Msg::Saved {
        run,
        result: Ok("Support inbox".into()),
    });
    let [Cmd::Connect { run, server }] = cmds.as_slice() else {
        panic!("expected Connect, got {cmds:?}");
    };
    assert_eq!(server, "Support inbox");
    *run
}

pub(super) fn ready(m: &mut Model, run: u64) -> Vec<Cmd> {
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Ready {
            auth_url: "https://login.example/authorize?x=1".into(),
            port: 8400,
            deadline: now() + SignedDuration::from_secs(300),
        },
    })
}

/// A finished sign-in of support@contoso.com.
pub(super) fn view() -> Connected {
    crate::support::tui::signed_in("Support", "support@contoso.com")
}

pub(super) fn key_msg(m: &Model, c: char) -> Option<Msg> {
    to_msg(
        m,
        &Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    )
}

/// The run of the one command that started work, read from what `update` returned (never
/// guessed from the model's run counter).
pub(super) fn started(cmds: Vec<Cmd>) -> u64 {
    match cmds.as_slice() {
        [
            Cmd::Connect { run, .. }
            | Cmd::Test { run, .. }
            | Cmd::DeviceSignIn { run, .. }
            | Cmd::RotateSecret { run, .. },
        ] => *run,
        other => panic!("expected one start, got {other:?}"),
    }
}
