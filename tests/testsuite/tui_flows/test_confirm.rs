//! Test & Confirm after a sign-in: a failed stage offers retry, edit and reconnect; a wrong
//! secret goes back to its field.

use super::drive::{act, filled, ready, save, started, step};
use inbound::services::imap::ProbeEvent;
use inbound::services::imap::Stage;
use inbound::tui::state::cmd::Cmd;
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{ConsentEvent, Failure, Msg, ProbeFailure, TestEvent};
use inbound::tui::state::wizard::Step;
use inbound::tui::state::wizard::form::FieldId;
use inbound::tui::state::wizard::test::{Outcome, StageState};
use inbound::tui::testing::{self};

#[test]
fn test_failure_marks_the_stage_and_offers_retry_edit_reconnect() {
    let mut m = testing::model(testing::populated());
    let cmds = act(&mut m, Action::Test);
    let [Cmd::Test { run, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let run = *run;
    m.update(Msg::Test {
        run,
        event: TestEvent::Progress(ProbeEvent::Started(Stage::Authenticate)),
    });
    m.update(Msg::Test {
        run,
        event: TestEvent::Finished(Err(ProbeFailure {
            stage: Some(Stage::Authenticate),
            message: "the server refused the login: AUTHENTICATE failed.".into(),
            hint: Some("check the account".into()),
            fix: None,
        })),
    });
    let w = m.wizard().unwrap();
    assert_eq!(w.check.stages[0].state, StageState::Failed);
    assert!(matches!(w.check.outcome, Outcome::Failed(_)));
    // Retry starts a new run; the old run's late events are ignored.
    let cmds = act(&mut m, Action::Test);
    assert!(matches!(cmds.as_slice(), [Cmd::Test { run: r, .. }] if *r != run));
    m.update(Msg::Test {
        run,
        event: TestEvent::Finished(Ok(1)),
    });
    assert_eq!(m.wizard().unwrap().check.outcome, Outcome::Running);
    // Esc cancels the running test.
    let cmds = act(&mut m, Action::Back);
    assert!(matches!(cmds.as_slice(), [Cmd::Cancel(_)]));
    assert_eq!(m.wizard().unwrap().check.outcome, Outcome::Cancelled);
    // e edits; c re-connects.
    act(&mut m, Action::Edit);
    assert_eq!(step(&m), Some(Step::Form));
    assert_eq!(m.wizard().unwrap().form.editing.as_deref(), Some("Support inbox"));
}

#[test]
fn reconnect_from_a_failed_test() {
    let mut m = testing::model(testing::populated());
    let cmds = act(&mut m, Action::Test);
    assert!(matches!(cmds.as_slice(), [Cmd::Test { .. }]), "{cmds:?}");
    let run = started(cmds);
    m.update(Msg::Test {
        run,
        event: TestEvent::Finished(Err(ProbeFailure {
            stage: None,
            message: "x".into(),
            hint: None,
            fix: None,
        })),
    });
    let cmds = act(&mut m, Action::Connect);
    assert!(matches!(cmds.as_slice(), [Cmd::Connect { .. }]));
    assert_eq!(step(&m), Some(Step::Connect));
}

#[test]
fn a_wrong_secret_sends_esc_to_the_secret_field() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = save(&mut m);
    ready(&mut m, run);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Failed(Failure {
            field: Some(FieldId::Secret),
            ..Failure::new("AADSTS7000215: Invalid client secret provided.", None)
        }),
    });
    act(&mut m, Action::Back);
    assert_eq!(step(&m), Some(Step::Form));
    assert_eq!(m.wizard().unwrap().form.fields.focus, FieldId::Secret, "not Name");
}
