//! Sign-in from the wizard and the review: the browser flow to Confirmed, no browser without a
//! display, retry with a new run, cancel, and the token pane.

use super::drive::{act, filled, ready, save, started, step, view};
use inbound::services::browser::Situation;
use inbound::services::imap::ProbeEvent;
use inbound::services::imap::Stage;
use inbound::tui::state::cmd::Cmd;
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{ConsentEvent, Failure, Msg, TestEvent};
use inbound::tui::state::wizard::Step;
use inbound::tui::state::wizard::connect::{BrowserNote, Connect};
use inbound::tui::state::wizard::test::{Outcome, StageState};
use inbound::tui::state::{Popup, Screen, Tone};
use inbound::tui::testing::{self, now};
use std::time::Duration;

#[test]
fn connect_success_then_test_success_ends_confirmed() {
    let mut m = testing::model(testing::empty());
    m.env.situation = Situation {
        ssh: false,
        display: true,
        ssh_target: None,
    };
    filled(&mut m);
    let run = save(&mut m);
    assert_eq!(step(&m), Some(Step::Connect));
    // A display exists: the browser is opened.
    let cmds = ready(&mut m, run);
    assert!(matches!(cmds.as_slice(), [Cmd::OpenBrowser { .. }]));
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Browser(Ok(())),
    });
    assert!(matches!(
        m.wizard().unwrap().connect,
        Connect::Waiting {
            browser: BrowserNote::Opened,
            ..
        }
    ));
    let cmds = m.update(Msg::Consent {
        run,
        event: ConsentEvent::Connected(view()),
    });
    assert!(matches!(cmds.as_slice(), [Cmd::Reload]));
    assert_eq!(step(&m), Some(Step::Token));
    // Enter on the token pane runs Test & Confirm.
    let cmds = act(&mut m, Action::Test);
    let [Cmd::Test { run, server }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(server, "Support inbox");
    let run = *run;
    for event in [
        TestEvent::Progress(ProbeEvent::Started(Stage::Connect)),
        TestEvent::Progress(ProbeEvent::Passed {
            stage: Stage::Connect,
            detail: "ok".into(),
            elapsed: Duration::from_millis(3),
        }),
        TestEvent::Finished(Ok(3)),
    ] {
        m.update(Msg::Test { run, event });
    }
    let w = m.wizard().unwrap();
    assert_eq!(w.check.outcome, Outcome::Passed { messages: 3 });
    assert!(matches!(w.check.stages[0].state, StageState::Passed { .. }));
    // Done: back to the list with the server selected.
    let cmds = act(&mut m, Action::Open);
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Reload)));
    assert!(matches!(m.screen, Screen::Review));
    assert_eq!(
        m.selected_server().map(|s| s.name.as_str()),
        Some("Support inbox")
    );
}

#[test]
fn no_display_means_no_browser() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = save(&mut m);
    assert!(ready(&mut m, run).is_empty());
    assert!(matches!(
        m.wizard().unwrap().connect,
        Connect::Waiting {
            browser: BrowserNote::NotHere(_),
            ..
        }
    ));
    // o still tries on request.
    assert!(matches!(
        act(&mut m, Action::OpenBrowser).as_slice(),
        [Cmd::OpenBrowser { .. }]
    ));
    // A pasted address waits for Enter, then goes to the sign-in that runs.
    assert!(
        m.update(Msg::Paste("http://localhost/x?code=a&state=b".into()))
            .is_empty()
    );
    let cmds = act(&mut m, Action::Submit);
    assert!(matches!(cmds.as_slice(), [Cmd::PasteAddress { run: r, .. }] if *r == run));
}

#[test]
fn connect_failure_offers_retry_with_a_new_run() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = save(&mut m);
    ready(&mut m, run);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Failed(Failure::new("AADSTS7000215", Some("hint".into()))),
    });
    assert!(matches!(m.wizard().unwrap().connect, Connect::Failed(_)));
    let cmds = act(&mut m, Action::Connect);
    let [Cmd::Connect { run: again, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_ne!(*again, run);
}

/// The answer to the admin consent link (sent to an admin from the Permissions step) pasted
/// at the sign-in step: the core records it, the step says so and keeps waiting for the
/// sign-in (the paste field is free again).
#[test]
fn the_admin_links_answer_pasted_at_the_sign_in_is_said_and_the_sign_in_waits() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = save(&mut m);
    ready(&mut m, run);
    let cmds = m.update(Msg::Consent {
        run,
        event: ConsentEvent::AdminGranted(inbound::ops::consent::AdminGranted {
            app: "Support inbox".into(),
            at: now(),
            reported_tenant: "6f1e2d3c-0000-4000-8000-000000000001".into(),
            warning: None,
        }),
    });
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Reload)), "{cmds:?}");
    assert!(!cmds.iter().any(|c| matches!(c, Cmd::Cancel(_))), "{cmds:?}");
    let w = m.wizard().unwrap();
    assert!(matches!(w.connect, Connect::Waiting { run: r, .. } if r == run));
    assert!(!w.paste.checking);
    let said = m.status.as_ref().map(|s| (s.tone, s.text.clone()));
    assert!(
        said.as_ref()
            .is_some_and(|(tone, t)| *tone == Tone::Ok && t.contains("Admin consent recorded")),
        "{said:?}"
    );
}

#[test]
fn connect_cancel_frees_the_port_and_ignores_late_results() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = save(&mut m);
    ready(&mut m, run);
    let cmds = act(&mut m, Action::Back);
    assert!(matches!(cmds.as_slice(), [Cmd::Cancel(r)] if *r == run));
    assert_eq!(m.wizard().unwrap().connect, Connect::Cancelled);
    // The cancelled run answering late changes nothing.
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Connected(view()),
    });
    assert_eq!(step(&m), Some(Step::Connect));
    // Esc again goes back to the form, now editing the saved server.
    act(&mut m, Action::Back);
    assert_eq!(step(&m), Some(Step::Form));
    assert_eq!(m.wizard().unwrap().form.editing.as_deref(), Some("Support inbox"));
}

#[test]
fn esc_on_the_token_pane_returns_to_the_list() {
    let mut m = testing::model(testing::populated());
    let cmds = act(&mut m, Action::Connect);
    assert!(matches!(cmds.as_slice(), [Cmd::Connect { .. }]), "{cmds:?}");
    let run = started(cmds);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Connected(view()),
    });
    assert_eq!(step(&m), Some(Step::Token));
    act(&mut m, Action::Back);
    assert_eq!(step(&m), None, "left the wizard");
    assert!(m.wizard().is_none());
    // `d` now means delete, as the list's hint bar says.
    act(&mut m, Action::Delete);
    assert!(matches!(m.popup, Some(Popup::ConfirmDelete(_))));
}

#[test]
fn a_failed_sign_in_offers_only_keys_that_work() {
    use inbound::tui::state::keymap::{self, Ctx};
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = save(&mut m);
    ready(&mut m, run);
    assert_eq!(m.screen_ctx(), Ctx::Connect { waiting: true });
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Failed(Failure::new("x", None)),
    });
    assert_eq!(m.screen_ctx(), Ctx::Connect { waiting: false });
    let hints: Vec<String> = keymap::hints(&m.contexts())
        .iter()
        .map(|b| b.desc.to_string())
        .collect();
    assert!(
        hints
            .iter()
            .all(|h| !h.contains("paste") && !h.contains("copy link")),
        "{hints:?}"
    );
    assert!(act(&mut m, Action::NextField).is_empty());
}
