//! Pre-flight in the form's save: a refused secret blocks it, offline warns, a stored app is
//! renewed only as the person says, replication lag is shown and Esc stops the check.

use super::drive::{act, filled, new_portal, step, submit, typed};
use inbound::tui::state::cmd::{Cmd, SaveRequest};
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{Msg, PreflightEvent, SaveError};
use inbound::tui::state::wizard::Step;
use inbound::tui::state::wizard::form::FieldId;
use inbound::tui::state::{Model, Popup, Screen, Tone};
use inbound::tui::testing;
use std::time::Duration;

fn preflight_run(cmds: &[Cmd]) -> u64 {
    let [
        Cmd::Preflight {
            run, just_created, ..
        },
    ] = cmds
    else {
        panic!("expected one Preflight, got {cmds:?}");
    };
    assert!(!just_created, "a typed app was not just created");
    *run
}

fn preflight_done(m: &mut Model, run: u64, list: inbound::ops::preflight::Checklist) -> Vec<Cmd> {
    m.update(Msg::Preflight {
        run,
        event: PreflightEvent::Done(Ok(Some(list))),
    })
}

#[test]
fn a_refused_secret_blocks_the_save_and_puts_the_cursor_on_it() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = preflight_run(&act(&mut m, Action::Submit));
    assert!(m.work_running(), "quitting now would interrupt the check");
    // Enter again while Microsoft is asked does nothing.
    assert!(act(&mut m, Action::Submit).is_empty());
    let cmds = preflight_done(&mut m, run, testing::checklist_secret_id());
    assert!(cmds.is_empty(), "nothing saved: {cmds:?}");
    let w = m.wizard().unwrap();
    assert_eq!(w.form.fields.focus, FieldId::Secret);
    assert_eq!(step(&m), Some(Step::Form));
    assert!(m.status.as_ref().is_some_and(|s| s.tone == Tone::Error));
    // Fixed, Enter checks again (a new run).
    let again = preflight_run(&act(&mut m, Action::Submit));
    assert_ne!(again, run);
    let cmds = preflight_done(&mut m, again, testing::checklist_passed());
    assert!(matches!(cmds.as_slice(), [Cmd::Save { .. }]), "{cmds:?}");
}

#[test]
fn offline_pre_flight_warns_and_saves() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = preflight_run(&act(&mut m, Action::Submit));
    let cmds = preflight_done(&mut m, run, testing::checklist_offline());
    let [Cmd::Save { run: save_run, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert!(m.status.as_ref().is_some_and(|s| s.tone == Tone::Warn));
    // The warning is said again with the result (the form is left).
    m.update(Msg::Loaded(Ok(testing::populated())));
    m.update(Msg::Saved {
        run: *save_run,
        result: Ok("Support inbox".into()),
    });
    assert!(
        m.status
            .as_ref()
            .is_some_and(|s| s.tone == Tone::Warn && s.text.contains("not checked")),
        "{:?}",
        m.status
    );
    // A pre-flight that could not run at all warns and saves too.
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = preflight_run(&act(&mut m, Action::Submit));
    let cmds = m.update(Msg::Preflight {
        run,
        event: PreflightEvent::Done(Err(SaveError::TimedOut { secs: 30 })),
    });
    assert!(matches!(cmds.as_slice(), [Cmd::Save { .. }]), "{cmds:?}");
}

/// The form with the client ID and tenant of a stored app and a new secret renews that app,
/// and the result says so, naming the servers that use it.
#[test]
fn the_form_renewing_a_stored_app_says_so_and_names_its_servers() {
    let mut m = testing::model(testing::populated());
    new_portal(&mut m);
    act(&mut m, Action::Open);
    act(&mut m, Action::NextField);
    typed(&mut m, "2027-05-01");
    act(&mut m, Action::Open);
    act(&mut m, Action::Open);
    assert_eq!(step(&m), Some(Step::Form));
    let Screen::Wizard(w) = &mut m.screen else {
        panic!("not in the wizard")
    };
    for (f, v) in [
        (FieldId::Name, "New box"),
        (FieldId::Username, "newbox@contoso.com"),
        (FieldId::Secret, "renewed8Q~NEWSECRETVALUEabcdefghijklmnopq"),
        (FieldId::ClientId, testing::CLIENT_ID),
        (FieldId::Tenant, "contoso.com"),
    ] {
        w.form.set_value(f, v);
    }
    let cmds = submit(&mut m);
    let [Cmd::Save { run, .. }] = cmds.as_slice() else {
        panic!(
            "{cmds:?} {:?} {:?}",
            m.wizard().map(|w| &w.form.fields.errors),
            m.status
        )
    };
    m.update(Msg::Saved {
        run: *run,
        result: Ok("New box".into()),
    });
    let said = m.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(said.contains("renewed"), "{said}");
    assert!(
        said.contains("\"Support inbox\""),
        "names the servers that use it: {said}"
    );
}

/// The form renews a stored app (same registration, new secret) and Microsoft could not be
/// asked: nothing is saved unless the person says so, as the rotation popup asks ("Save
/// unchecked?"): no keeps the stored secret, yes saves the form's.
#[test]
fn an_unchecked_renewal_of_a_stored_app_asks_before_saving_it_unchecked() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let offline = |m: &mut Model, run: u64| {
        let e = inbound::ops::Error::Unverified(Box::new(testing::checklist_offline()));
        m.update(Msg::Preflight {
            run,
            event: PreflightEvent::Done(Err(SaveError::Core(std::sync::Arc::new(e)))),
        })
    };
    let run = preflight_run(&act(&mut m, Action::Submit));
    let cmds = offline(&mut m, run);
    assert!(cmds.is_empty(), "nothing saved yet: {cmds:?}");
    assert_eq!(m.popup, Some(Popup::ConfirmUnchecked(None)));
    assert!(
        m.status
            .as_ref()
            .is_some_and(|s| s.tone == Tone::Warn && s.text.contains("save it unchecked")),
        "{:?}",
        m.status
    );
    // No: the stored secret stays, nothing is saved, the form keeps what was typed.
    let cmds = act(&mut m, Action::No);
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(m.popup, None);
    assert_eq!(step(&m), Some(Step::Form));
    assert!(
        m.status.as_ref().is_some_and(|s| s.text.contains("Not saved")),
        "{:?}",
        m.status
    );
    // Yes: saved unchecked, and said so with the result.
    let run = preflight_run(&act(&mut m, Action::Submit));
    assert!(offline(&mut m, run).is_empty());
    let cmds = act(&mut m, Action::Yes);
    let [Cmd::Save { run, .. }] = cmds.as_slice() else {
        panic!("saved unchecked: {cmds:?}")
    };
    assert_eq!(m.popup, None);
    m.update(Msg::Saved {
        run: *run,
        result: Ok("Support inbox".into()),
    });
    let said = m.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(said.contains("not checked"), "{said}");
}

#[test]
fn replication_lag_is_shown_while_waiting_and_esc_stops_the_check() {
    use inbound::tui::state::wizard::preflight::Preflight;
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = preflight_run(&act(&mut m, Action::Submit));
    let wait = inbound::ops::preflight::Wait {
        attempt: 1,
        retry_in: Duration::from_secs(8),
    };
    assert!(
        m.update(Msg::Preflight {
            run,
            event: PreflightEvent::Waiting(wait.message()),
        })
        .is_empty()
    );
    let Preflight::Running { waiting, .. } = &m.wizard().unwrap().form.preflight else {
        panic!()
    };
    assert!(waiting.as_deref().is_some_and(|w| w.contains("retrying in 8 s")));
    let cmds = act(&mut m, Action::Back);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Cancel(r)] if *r == run),
        "{cmds:?}"
    );
    assert_eq!(step(&m), Some(Step::Form), "Esc stops the check, not the form");
    // A late answer of the stopped run is ignored.
    assert!(preflight_done(&mut m, run, testing::checklist_passed()).is_empty());
}

#[test]
fn editing_credentials_runs_pre_flight_and_other_edits_do_not() {
    let mut m = testing::model(testing::populated());
    act(&mut m, Action::Edit);
    for _ in 0..20 {
        if m.wizard().unwrap().form.fields.focus == FieldId::Secret {
            break;
        }
        act(&mut m, Action::NextField);
    }
    assert_eq!(m.wizard().unwrap().form.fields.focus, FieldId::Secret);
    typed(&mut m, "new8Q~NEWSECRETVALUEabcdefghijklmnopqrstu");
    let cmds = act(&mut m, Action::Submit);
    assert!(
        matches!(
            cmds.as_slice(),
            [Cmd::Preflight {
                request: SaveRequest::Edit { app: Some(_), .. },
                ..
            }]
        ),
        "{cmds:?}"
    );
    // Only the port changed: saved straight away.
    let mut m = testing::model(testing::populated());
    act(&mut m, Action::Edit);
    for _ in 0..2 {
        act(&mut m, Action::NextField);
    }
    let cmds = submit(&mut m);
    assert!(matches!(cmds.as_slice(), [Cmd::Save { .. }]), "{cmds:?}");
}
