//! Consent without a browser: the paste field, device code beside the listener, first one wins.

use super::drive::{act, filled, key_msg, ready, save, started, step, typed, view};
use inbound::services::browser::Situation;
use inbound::services::oauth::device::PollEvent;
use inbound::tui::state::Model;
use inbound::tui::state::cmd::Cmd;
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{ConsentEvent, Failure, Msg};
use inbound::tui::state::wizard::Step;
use inbound::tui::state::wizard::connect::Device;
use inbound::tui::testing::{self, now};
use jiff::SignedDuration;
use std::time::Duration;

/// A sign-in waiting over SSH (no display): returns the listener's run.
fn waiting_over_ssh(m: &mut Model) -> u64 {
    m.env.situation = Situation {
        ssh: true,
        display: false,
        ssh_target: Some("admin@mail01".into()),
    };
    filled(m);
    let run = save(m);
    assert!(ready(m, run).is_empty(), "never a browser without a display");
    run
}

#[test]
fn paste_field_takes_typed_text_and_a_bad_paste_keeps_the_wait() {
    let mut m = testing::model(testing::empty());
    let run = waiting_over_ssh(&mut m);
    // Not focused: letters are keys (d = device code), not text.
    assert!(matches!(key_msg(&m, 'd'), Some(Msg::Action(Action::DeviceCode))));
    act(&mut m, Action::NextField);
    assert!(m.wizard().unwrap().paste.focused);
    // Focused: every printable key is typed, even the bound ones.
    for c in ['d', 'y', 'q', 'o', '?'] {
        assert!(matches!(key_msg(&m, c), Some(Msg::Text(_))), "{c}");
    }
    let address = "http://localhost:8400/microsoft_outlook/confirm?code=SECRETCODE&state=cut";
    typed(&mut m, address);
    let cmds = act(&mut m, Action::Submit);
    let [Cmd::PasteAddress { run: r, text }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(*r, run);
    assert_eq!(text.expose(), address);
    assert!(
        !format!("{cmds:?}").contains("SECRETCODE"),
        "the code stays out of Debug (and so out of the log)"
    );
    assert!(m.wizard().unwrap().paste.checking);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::PasteRejected("the address looks cut off; paste the rest of it".into()),
    });
    let w = m.wizard().unwrap();
    assert_eq!(
        w.paste.error.as_deref(),
        Some("the address looks cut off; paste the rest of it")
    );
    assert!(!w.paste.checking);
    assert_eq!(w.connect.run(), Some(run), "the wait goes on");
    // An empty field is refused locally, precisely.
    let mut m2 = testing::model(testing::empty());
    waiting_over_ssh(&mut m2);
    act(&mut m2, Action::NextField);
    assert!(act(&mut m2, Action::Submit).is_empty());
    assert!(
        m2.wizard()
            .unwrap()
            .paste
            .error
            .as_deref()
            .is_some_and(|e| e.contains("paste the whole address"))
    );
    // A bracketed paste replaces the field; Enter uses it (never the paste itself: the
    // Enter pressed after it out of habit would act on the next screen).
    assert!(m.update(Msg::Paste(format!("{address}X\n"))).is_empty());
    let cmds = act(&mut m, Action::Submit);
    assert!(
        matches!(cmds.as_slice(), [Cmd::PasteAddress { text, .. }] if text.expose() == format!("{address}X"))
    );
    // Esc leaves the field first; the next Esc cancels the sign-in.
    assert!(act(&mut m, Action::NextField).is_empty());
    assert!(!m.wizard().unwrap().paste.focused);
    let cmds = act(&mut m, Action::Back);
    assert!(matches!(cmds.as_slice(), [Cmd::Cancel(r)] if *r == run));
}

#[test]
fn device_code_runs_beside_the_listener_and_the_first_to_finish_wins() {
    let mut m = testing::model(testing::empty());
    let listener = waiting_over_ssh(&mut m);
    let cmds = act(&mut m, Action::DeviceCode);
    let [Cmd::DeviceSignIn { run: device, server }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let device = *device;
    assert_eq!(server, "Support inbox");
    assert_ne!(device, listener);
    m.update(Msg::Consent {
        run: device,
        event: ConsentEvent::DeviceCode {
            user_code: "FQK7TWXNL".into(),
            uri: "https://microsoft.com/devicelogin".into(),
            deadline: now() + SignedDuration::from_secs(900),
            interval: 5,
        },
    });
    m.update(Msg::Consent {
        run: device,
        event: ConsentEvent::DevicePoll(PollEvent::SlowDown {
            interval: Duration::from_secs(10),
        }),
    });
    let w = m.wizard().unwrap();
    assert!(matches!(
        &w.device,
        Device::Code {
            poll: Some(PollEvent::SlowDown { .. }),
            interval: 10,
            ..
        }
    ));
    assert_eq!(w.connect.run(), Some(listener), "the listener keeps waiting");
    assert!(m.animating(), "countdown and spinner tick");
    // y copies the user code here.
    assert!(matches!(act(&mut m, Action::Copy).as_slice(), [Cmd::Copy { text, .. }] if text == "FQK7TWXNL"));
    // Device code wins: the listener is cancelled (its port freed).
    let cmds = m.update(Msg::Consent {
        run: device,
        event: ConsentEvent::Connected(view()),
    });
    assert!(
        matches!(cmds.as_slice(), [Cmd::Cancel(r), Cmd::Reload] if *r == listener),
        "{cmds:?}"
    );
    assert_eq!(step(&m), Some(Step::Token));
    assert_eq!(m.wizard().unwrap().device, Device::Off);
    // The listener's late "cancelled" changes nothing.
    m.update(Msg::Consent {
        run: listener,
        event: ConsentEvent::Cancelled,
    });
    assert_eq!(step(&m), Some(Step::Token));
}

#[test]
fn listener_wins_over_device_code_and_device_failures_stay_on_screen() {
    let mut m = testing::model(testing::empty());
    let listener = waiting_over_ssh(&mut m);
    let device = started(act(&mut m, Action::DeviceCode));
    // A failure of device code keeps the listener; the hint is shown.
    m.update(Msg::Consent {
        run: device,
        event: ConsentEvent::Failed(Failure::new(
            "AADSTS7000218",
            Some("Allow public client flows = Yes".into()),
        )),
    });
    assert!(
        matches!(&m.wizard().unwrap().device, Device::Failed(f) if f.hint.as_deref() == Some("Allow public client flows = Yes"))
    );
    assert_eq!(m.wizard().unwrap().connect.run(), Some(listener));
    // d again starts a new device run; Esc stops it and shows the link again.
    let again = started(act(&mut m, Action::DeviceCode));
    assert_ne!(again, device);
    let cmds = act(&mut m, Action::Back);
    assert!(matches!(cmds.as_slice(), [Cmd::Cancel(r)] if *r == again));
    assert_eq!(m.wizard().unwrap().device, Device::Off);
    assert_eq!(m.wizard().unwrap().connect.run(), Some(listener));
    // Start it once more, then the listener (tunnel or paste) wins: device code is cancelled.
    let third = started(act(&mut m, Action::DeviceCode));
    let cmds = m.update(Msg::Consent {
        run: listener,
        event: ConsentEvent::Connected(view()),
    });
    assert!(
        matches!(cmds.as_slice(), [Cmd::Cancel(r), Cmd::Reload] if *r == third),
        "{cmds:?}"
    );
    assert_eq!(step(&m), Some(Step::Token));
}

#[test]
fn esc_cancels_every_sign_in_path() {
    let mut m = testing::model(testing::empty());
    let listener = waiting_over_ssh(&mut m);
    let device = started(act(&mut m, Action::DeviceCode));
    // Back from the device view (device stopped), then Esc cancels the rest.
    act(&mut m, Action::Back);
    let again = started(act(&mut m, Action::DeviceCode));
    let cmds = m.update(Msg::Action(Action::Quit));
    assert!(cmds.is_empty(), "work runs: quit asks first");
    m.update(Msg::Action(Action::No));
    // Leaving the wizard cancels both the listener and device code.
    m.popup = None;
    let cmds = m.update(Msg::Signal("SIGTERM"));
    let cancelled: Vec<u64> = cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::Cancel(r) => Some(*r),
            _ => None,
        })
        .collect();
    assert!(
        cancelled.contains(&listener) && cancelled.contains(&again),
        "{cmds:?}"
    );
    assert!(!cancelled.contains(&device), "already stopped");
}
