//! Pure `update` tests for each TUI flow: feed messages, assert the model and the commands.
//! No terminal, no tokio, no clock.

use inbound::model::AuthKind;
use inbound::ops::consent::Connected;
use inbound::services::browser::Situation;
use inbound::services::imap::ProbeEvent;
use inbound::services::imap::Stage;
use inbound::services::oauth::device::PollEvent;
use inbound::tui::app::input::to_msg;
use inbound::tui::state::cmd::{Cmd, SaveRequest};
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{
    ConsentEvent, Failure, Msg, PreflightEvent, ProbeFailure, SaveError, TestEvent,
};
use inbound::tui::state::rotate::RotateField;
use inbound::tui::state::wizard::Step;
use inbound::tui::state::wizard::connect::{BrowserNote, Connect, Device};
use inbound::tui::state::wizard::form::FieldId;
use inbound::tui::state::wizard::guide::Page;
use inbound::tui::state::wizard::test::{Outcome, StageState};
use inbound::tui::state::{Model, Popup, Screen, Tone};
use inbound::tui::testing::{self, now};
use jiff::SignedDuration;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;

fn act(m: &mut Model, a: Action) -> Vec<Cmd> {
    m.update(Msg::Action(a))
}

fn typed(m: &mut Model, text: &str) {
    for c in text.chars() {
        assert!(
            m.update(Msg::Text(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
                .is_empty()
        );
    }
}

fn step(m: &Model) -> Option<Step> {
    m.wizard().map(|w| w.step)
}

fn form_value(m: &Model, f: FieldId) -> String {
    m.wizard()
        .map(|w| w.form.value(f).to_string())
        .unwrap_or_default()
}

/// A new wizard on step 1 of the portal path (the choice answered "step by step").
fn new_portal(m: &mut Model) {
    act(m, Action::New);
    act(m, Action::Right);
    act(m, Action::Open);
}

/// A new wizard on the portal path, Enter through steps 1–3 to the form.
fn to_form(m: &mut Model) {
    new_portal(m);
    for _ in 0..3 {
        act(m, Action::Open);
    }
}

/// New wizard on an empty store, at the form with everything typed (the expiry on step 2).
fn filled(m: &mut Model) {
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
fn submit(m: &mut Model) -> Vec<Cmd> {
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
fn save(m: &mut Model) -> u64 {
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

fn ready(m: &mut Model, run: u64) -> Vec<Cmd> {
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Ready {
            auth_url: "https://login.example/authorize?x=1".into(),
            port: 8400,
            deadline: now() + SignedDuration::from_secs(300),
        },
    })
}

fn view() -> Connected {
    Connected {
        server: "Support".into(),
        username: "support@contoso.com".into(),
        tokens: inbound::model::TokenSet {
            access_token: inbound::secret::Secret::new("at"),
            refresh_token: Some(inbound::secret::Secret::new("rt")),
            issued_at: now(),
            expires_at: now() + SignedDuration::from_mins(60),
            refreshed_at: now(),
            consented_at: now(),
            scope: "IMAP.AccessAsUser.All".into(),
            account: Some("support@contoso.com".into()),
            flow: inbound::model::Flow::AuthorizationCode,
            principal_id: None,
        },
        mismatch: None,
    }
}

#[test]
fn wizard_forward_and_back_loses_nothing() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    for _ in 0..3 {
        act(&mut m, Action::Back);
    }
    assert_eq!(step(&m), Some(Step::Register));
    // Esc on the portal page goes back to the choice; Esc there leaves, keeping a draft;
    // n resumes it.
    act(&mut m, Action::Back);
    assert_eq!(m.wizard().map(|w| w.guide.page), Some(Page::Choose));
    act(&mut m, Action::Back);
    assert!(matches!(m.screen, Screen::Review));
    assert!(m.draft.is_some());
    act(&mut m, Action::New);
    assert_eq!(step(&m), Some(Step::Register));
    for _ in 0..4 {
        act(&mut m, Action::Open);
    }
    assert_eq!(step(&m), Some(Step::Form));
    assert_eq!(form_value(&m, FieldId::Name), "Support inbox");
    assert_eq!(form_value(&m, FieldId::Tenant), "contoso.com");
    assert_eq!(form_value(&m, FieldId::Expires), "2027-05-01");
}

#[test]
fn expiry_date_is_checked_when_leaving_step_2() {
    let mut m = testing::model(testing::empty());
    new_portal(&mut m);
    act(&mut m, Action::Open);
    act(&mut m, Action::NextField);
    typed(&mut m, "01/05/2027");
    act(&mut m, Action::Open);
    assert_eq!(step(&m), Some(Step::Secret));
    assert!(
        m.wizard()
            .is_some_and(|w| w.form.errors.contains_key(&FieldId::Expires))
    );
}

#[test]
fn validation_on_blur_and_on_submit() {
    let mut m = testing::model(testing::empty());
    to_form(&mut m);
    // Leaving an empty Name marks it.
    act(&mut m, Action::NextField);
    let errors = |m: &Model| m.wizard().map(|w| w.form.errors.clone()).unwrap_or_default();
    assert!(errors(&m).contains_key(&FieldId::Name));
    // A Secret ID (GUID) in the Secret field is refused with the Value hint.
    for _ in 0..5 {
        act(&mut m, Action::NextField);
    }
    assert_eq!(m.wizard().map(|w| w.form.focus), Some(FieldId::Secret));
    typed(&mut m, "0f8fad5b-d9cb-469f-a165-70867728950e");
    act(&mut m, Action::NextField);
    assert!(errors(&m)[&FieldId::Secret].contains("Secret ID"));
    // Submit: nothing is saved and focus jumps to the first bad field.
    let cmds = act(&mut m, Action::Submit);
    assert!(cmds.is_empty());
    assert_eq!(m.wizard().map(|w| w.form.focus), Some(FieldId::Name));
    assert!(errors(&m).contains_key(&FieldId::Username));
    assert!(errors(&m).contains_key(&FieldId::ClientId));
}

#[test]
fn basic_hides_azure_fields_and_saves_without_an_app() {
    let mut m = testing::model(testing::empty());
    to_form(&mut m);
    typed(&mut m, "Legacy");
    act(&mut m, Action::NextField);
    act(&mut m, Action::Left);
    let visible = m.wizard().map(|w| w.form.visible()).unwrap_or_default();
    assert!(visible.contains(&FieldId::Password) && !visible.contains(&FieldId::ClientId));
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    typed(&mut m, "old@contoso.com");
    act(&mut m, Action::NextField);
    typed(&mut m, "hunter2");
    let cmds = act(&mut m, Action::Submit);
    let [
        Cmd::Save {
            request: SaveRequest::Add { input, .. },
            ..
        },
    ] = cmds.as_slice()
    else {
        panic!("expected Save, got {cmds:?}");
    };
    assert_eq!(input.auth, AuthKind::Basic);
    assert!(input.app.is_none());
    // Secrets never show in Debug (and so never in the log).
    assert!(!format!("{cmds:?}").contains("hunter2"));
}

#[test]
fn save_errors_from_the_store_go_to_their_fields() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let cmds = submit(&mut m);
    let Some(Cmd::Save { run, request }) = cmds.into_iter().next() else {
        panic!()
    };
    assert!(!format!("{request:?}").contains(testing::SECRET));
    m.update(Msg::Saved {
        run,
        result: Err(SaveError::Fields(vec![
            inbound::model::validate::FieldError::new(
                inbound::model::validate::Field::CaFile,
                "/x is not a readable file",
            ),
        ])),
    });
    let w = m.wizard().unwrap();
    assert_eq!(w.form.focus, FieldId::CaFile);
    assert_eq!(w.step, Step::Form);
}

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
    act(&mut m, Action::Test);
    let run = m.next_run - 1;
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
    assert_eq!(m.wizard().unwrap().form.focus, FieldId::Secret, "not Name");
}

#[test]
fn status_lines_never_outlive_their_truth() {
    // Said on the review, gone in the wizard.
    let mut m = testing::model(testing::empty());
    act(&mut m, Action::Edit);
    assert!(m.status.as_ref().is_some_and(|s| s.text.contains("press n")));
    act(&mut m, Action::New);
    assert!(m.status.is_none(), "{:?}", m.status);
    // "Fields need attention" goes once no field is marked.
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    act(&mut m, Action::PrevField);
    typed(&mut m, "x");
    let cmds = act(&mut m, Action::Submit);
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(
        m.status
            .as_ref()
            .is_some_and(|s| s.text.contains("need attention"))
    );
    m.update(Msg::Text(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
    act(&mut m, Action::NextField);
    assert!(
        m.wizard().unwrap().form.errors.is_empty(),
        "{:?}",
        m.wizard().unwrap().form.errors
    );
    assert!(m.status.is_none(), "{:?}", m.status);
}

#[test]
fn esc_on_the_token_pane_returns_to_the_list() {
    let mut m = testing::model(testing::populated());
    let cmds = act(&mut m, Action::Connect);
    assert!(matches!(cmds.as_slice(), [Cmd::Connect { .. }]));
    let run = m.next_run - 1;
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
fn stale_save_is_ignored() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let cmds = submit(&mut m);
    let Some(Cmd::Save { run, .. }) = cmds.first() else {
        panic!()
    };
    let cmds = m.update(Msg::Saved {
        run: run + 7,
        result: Ok("Support inbox".into()),
    });
    assert!(cmds.is_empty());
    assert_eq!(step(&m), Some(Step::Form));
    // While the save runs, Enter does not save twice.
    assert!(act(&mut m, Action::Submit).is_empty());
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
    // A failure backs off and reloads (the list shows the recorded error without a key).
    let cmds = m.update(Msg::Refreshed {
        run,
        server: "Helpdesk".into(),
        result: Err(Failure::new("network down", None)),
    });
    assert!(matches!(cmds.as_slice(), [Cmd::Reload]));
    // The reload brings what the core recorded: one transient failure, whose back-off (the
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
fn edit_of_a_stored_server_saves_a_patch() {
    let mut m = testing::model(testing::populated());
    act(&mut m, Action::Edit);
    assert_eq!(step(&m), Some(Step::Form));
    // Move to Server Name and change it.
    for _ in 0..2 {
        act(&mut m, Action::NextField);
    }
    assert_eq!(m.wizard().unwrap().form.focus, FieldId::Host);
    m.update(Msg::Text(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    typed(&mut m, "imap.contoso.com");
    let cmds = act(&mut m, Action::Submit);
    let [
        Cmd::Save {
            run,
            request: SaveRequest::Edit { name, patch, app },
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(name, "Support inbox");
    assert_eq!(patch.host.as_deref(), Some("imap.contoso.com"));
    assert!(app.is_none(), "unchanged app fields are not sent");
    let cmds = m.update(Msg::Saved {
        run: *run,
        result: Ok("Support inbox".into()),
    });
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Reload)));
    assert!(matches!(m.screen, Screen::Review));
}

// ---- Consent without a browser: paste field, device code, first one wins ----

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

fn key_msg(m: &Model, c: char) -> Option<Msg> {
    to_msg(
        m,
        &Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    )
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
    act(&mut m, Action::DeviceCode);
    let again = m.next_run - 1;
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

// ---- Secret rotation ----

/// The rotation form filled with a well-formed secret and a future expiry, then submitted.
fn rotation_submitted(m: &mut Model) -> u64 {
    act(m, Action::Rotate);
    typed(m, "new8Q~NEWSECRETVALUEabcdefghijklmnopqrstu");
    act(m, Action::NextField);
    typed(m, "2027-11-01");
    match act(m, Action::Submit).as_slice() {
        [
            Cmd::RotateSecret {
                run,
                unchecked: false,
                ..
            },
        ] => *run,
        other => panic!("the new secret goes to the check first: {other:?}"),
    }
}

fn preflight_error(
    item: inbound::ops::preflight::CheckItem,
    outcome: inbound::ops::preflight::Outcome,
) -> SaveError {
    let mut list = inbound::ops::preflight::Checklist::default();
    list.set(item, outcome);
    let e = match item {
        inbound::ops::preflight::CheckItem::Secret if list.passed() => {
            inbound::ops::Error::Unverified(Box::new(list))
        }
        _ => inbound::ops::Error::Preflight(Box::new(list)),
    };
    SaveError::Core(std::sync::Arc::new(e))
}

#[test]
fn rotation_keeps_the_old_secret_until_microsoft_accepts_the_new_one() {
    use inbound::ops::preflight::{CheckItem, Outcome as Check};
    let mut m = testing::model(testing::populated());
    // Refused (a mistyped Value): nothing reloads or refreshes, the reason is under the field.
    let run = rotation_submitted(&mut m);
    let refused = preflight_error(
        CheckItem::Secret,
        Check::Failed {
            headline: "refused".into(),
            reason: "AADSTS7000215: Invalid client secret provided.".into(),
            fix: "paste the secret's Value".into(),
            field: None,
        },
    );
    let cmds = m.update(Msg::SecretSaved {
        run,
        result: Err(refused),
    });
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(m.popup, Some(Popup::Rotate));
    let r = m.rotation.as_ref().unwrap();
    assert!(
        r.secret_error
            .as_deref()
            .is_some_and(|e| e.contains("AADSTS7000215")),
        "{r:?}"
    );
    assert!(
        m.status
            .as_ref()
            .is_some_and(|s| s.text.contains("the old one stays"))
    );

    // Offline: say so and ask; "no" keeps the old secret, "yes" saves unchecked.
    let mut m = testing::model(testing::populated());
    let run = rotation_submitted(&mut m);
    let offline = preflight_error(
        CheckItem::Secret,
        Check::Unknown {
            why: "could not reach https://login.microsoftonline.com (dns error)".into(),
        },
    );
    let cmds = m.update(Msg::SecretSaved {
        run,
        result: Err(offline.clone()),
    });
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(m.popup, Some(Popup::ConfirmUnchecked));
    assert!(
        m.rotation
            .as_ref()
            .and_then(|r| r.unverified.as_deref())
            .is_some_and(|w| w.contains("could not reach")),
    );
    assert!(matches!(key_msg(&m, 'n'), Some(Msg::Action(Action::No))));
    assert!(act(&mut m, Action::No).is_empty());
    assert_eq!(m.popup, Some(Popup::Rotate), "back to the form, nothing saved");
    // Submitted again, still offline, and this time saved unchecked.
    let run = match act(&mut m, Action::Submit).as_slice() {
        [
            Cmd::RotateSecret {
                run,
                unchecked: false,
                ..
            },
        ] => *run,
        other => panic!("{other:?}"),
    };
    m.update(Msg::SecretSaved {
        run,
        result: Err(offline),
    });
    assert!(matches!(key_msg(&m, 'y'), Some(Msg::Action(Action::Yes))));
    let cmds = act(&mut m, Action::Yes);
    let [
        Cmd::RotateSecret {
            run,
            unchecked: true,
            secret,
            ..
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(secret.expose(), "new8Q~NEWSECRETVALUEabcdefghijklmnopqrstu");
    let cmds = m.update(Msg::SecretSaved {
        run: *run,
        result: Ok(()),
    });
    assert!(matches!(cmds.first(), Some(Cmd::Reload)), "{cmds:?}");
    assert_eq!(m.popup, None);
}

#[test]
fn rotation_validates_saves_and_refreshes_every_server_of_the_app() {
    let mut m = testing::model(testing::populated());
    // s on the selected OAuth2 server (Support inbox, app "Contoso mail").
    assert!(matches!(key_msg(&m, 's'), Some(Msg::Action(Action::Rotate))));
    assert!(act(&mut m, Action::Rotate).is_empty());
    assert_eq!(m.popup, Some(Popup::Rotate));
    let r = m.rotation.as_ref().unwrap();
    assert_eq!(r.app, "Contoso mail");
    assert_eq!(r.users, ["Support inbox", "Sales", "Helpdesk"]);
    // In the form, letters are typed.
    assert!(matches!(key_msg(&m, 'q'), Some(Msg::Text(_))));
    // A GUID is the Secret ID, not the Value; a past date is refused.
    typed(&mut m, "0f8fad5b-d9cb-469f-a165-70867728950e");
    act(&mut m, Action::NextField);
    typed(&mut m, "2026-01-01");
    assert!(act(&mut m, Action::Submit).is_empty());
    let r = m.rotation.as_ref().unwrap();
    assert!(
        r.secret_error
            .as_deref()
            .is_some_and(|e| e.contains("looks like the Secret ID; paste the Value"))
    );
    assert!(
        r.expires_error
            .as_deref()
            .is_some_and(|e| e.contains("not in the future"))
    );
    assert!(
        !format!("{:?}", m.rotation).contains("0f8fad5b"),
        "Debug hides the secret"
    );
    // Fix both (Submit put the focus on the first bad field, the secret).
    let r = m.rotation.as_deref_mut().unwrap();
    assert_eq!(r.focus, RotateField::Secret);
    r.secret = inbound::tui::state::secret_input::SecretInput::default();
    r.expires = tui_input::Input::default();
    typed(&mut m, "new8Q~NEWSECRETVALUEabcdefghijklmnopqrstu");
    act(&mut m, Action::NextField);
    typed(&mut m, "2027-11-01");
    let cmds = act(&mut m, Action::Submit);
    let [
        Cmd::RotateSecret {
            run,
            app,
            secret,
            expires,
            unchecked: false,
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(app, "Contoso mail");
    assert_eq!(expires, "2027-11-01");
    assert_eq!(secret.expose(), "new8Q~NEWSECRETVALUEabcdefghijklmnopqrstu");
    assert!(!format!("{cmds:?}").contains("NEWSECRET"));
    let run = *run;
    // A stale answer is ignored.
    assert!(
        m.update(Msg::SecretSaved {
            run: run + 99,
            result: Ok(())
        })
        .is_empty()
    );
    // Saved: every signed-in server of the app is refreshed (Sales is not signed in).
    let cmds = m.update(Msg::SecretSaved { run, result: Ok(()) });
    assert_eq!(m.popup, None);
    let refreshes: Vec<(u64, String)> = cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::Refresh {
                run,
                server,
                force: true,
            } => Some((*run, server.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        refreshes.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
        ["Support inbox", "Helpdesk"]
    );
    assert!(matches!(cmds.first(), Some(Cmd::Reload)));
    m.update(Msg::Refreshed {
        run: refreshes[0].0,
        server: refreshes[0].1.clone(),
        result: Ok(()),
    });
    assert!(
        m.status
            .as_ref()
            .is_some_and(|s| s.text.contains("refreshing 2 servers"))
    );
    m.update(Msg::Refreshed {
        run: refreshes[1].0,
        server: refreshes[1].1.clone(),
        result: Err(Failure::new(
            "AADSTS7000215: Invalid client secret provided.",
            Some("paste the Value".into()),
        )),
    });
    let status = m.status.clone().unwrap();
    assert_eq!(
        status.text,
        "Saved the new secret of app \"Contoso mail\"; 1 server recovered; \"Helpdesk\" still fails: AADSTS7000215: Invalid client secret provided. — paste the Value; \"Sales\" is not signed in yet (connect it from the list)."
    );
    assert_eq!(status.tone, Tone::Error);
    assert!(m.rotation_report.is_none());
}

#[test]
fn rotation_store_errors_stay_in_the_form_and_basic_has_none() {
    let mut m = testing::model(testing::populated());
    act(&mut m, Action::Rotate);
    typed(&mut m, "new8Q~NEWSECRETVALUEabcdefghijklmnopqrstu");
    act(&mut m, Action::NextField);
    typed(&mut m, "2027-11-01");
    let run = started(act(&mut m, Action::Submit));
    m.update(Msg::SecretSaved {
        run,
        result: Err(SaveError::Core(std::sync::Arc::new(inbound::ops::Error::Io(
            "the store is locked by another inbound".into(),
        )))),
    });
    assert_eq!(m.popup, Some(Popup::Rotate));
    assert_eq!(
        m.rotation.as_ref().unwrap().general.as_deref(),
        Some("the store is locked by another inbound")
    );
    // Esc closes without saving.
    assert!(act(&mut m, Action::Back).is_empty());
    assert_eq!(m.popup, None);
    // Legacy is Basic: no secret to rotate.
    for _ in 0..4 {
        act(&mut m, Action::Down);
    }
    assert_eq!(m.selected_server().map(|s| s.auth), Some(AuthKind::Basic));
    act(&mut m, Action::Rotate);
    assert_eq!(m.popup, None);
    assert!(m.status.as_ref().is_some_and(|s| s.text.contains("Basic")));
}

#[test]
fn rotation_with_nothing_to_refresh_says_so_at_once() {
    let mut m = testing::model(testing::populated());
    // Billing uses "Old app" and needs re-consent: a new secret does not fix that.
    act(&mut m, Action::Down);
    act(&mut m, Action::Down);
    act(&mut m, Action::Rotate);
    assert_eq!(m.rotation.as_ref().unwrap().users, ["Billing"]);
    typed(&mut m, "new8Q~NEWSECRETVALUEabcdefghijklmnopqrstu");
    act(&mut m, Action::NextField);
    typed(&mut m, "2027-11-01");
    let run = started(act(&mut m, Action::Submit));
    let cmds = m.update(Msg::SecretSaved { run, result: Ok(()) });
    assert!(matches!(cmds.as_slice(), [Cmd::Reload]));
    let status = m.status.clone().unwrap();
    assert!(status.text.contains("0 servers recovered"), "{}", status.text);
    assert!(
        status.text.contains("\"Billing\" still needs re-consent"),
        "{}",
        status.text
    );
    assert_eq!(status.tone, Tone::Warn);
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

/// The run of the one command that started work.
fn started(cmds: Vec<Cmd>) -> u64 {
    match cmds.as_slice() {
        [Cmd::DeviceSignIn { run, .. } | Cmd::RotateSecret { run, .. }] => *run,
        other => panic!("expected one start, got {other:?}"),
    }
}

#[test]
fn a_failed_sign_in_offers_only_keys_that_work() {
    use inbound::tui::state::keymap::{self, Ctx};
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let run = save(&mut m);
    ready(&mut m, run);
    assert_eq!(m.screen_ctx(), Ctx::Connect);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Failed(Failure::new("x", None)),
    });
    assert_eq!(m.screen_ctx(), Ctx::ConnectIdle);
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
    assert_eq!(m.popup, Some(Popup::Settings));
    assert!(m.text_focused(), "typing goes into the field");
    typed(&mut m, "99999");
    assert!(act(&mut m, Action::Submit).is_empty(), "refused before any write");
    let form = m.settings.as_deref().unwrap();
    assert!(form.errors[0].is_some(), "{:?}", form.errors);
    for _ in 0..5 {
        m.update(Msg::Text(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
    }
    typed(&mut m, "18765");
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    assert_eq!(
        FIELDS[m.settings.as_deref().unwrap().focus],
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

#[test]
fn debug_of_the_form_and_the_wizard_never_shows_a_secret() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let shown = format!("{:?} {:?}", m.wizard().unwrap().form, m.wizard().unwrap());
    assert!(!shown.contains(testing::SECRET), "{shown}");
    assert!(shown.contains("SecretInput { len: "), "{shown}");
    // A setup code half typed into step 1's field, a rotation's new secret.
    let mut m = testing::model(testing::empty());
    act(&mut m, Action::New);
    act(&mut m, Action::Open);
    act(&mut m, Action::NextField);
    typed(&mut m, "inbound-setup:1:c2VjcmV0LXZhbHVl");
    let shown = format!("{:?}", m.wizard().unwrap());
    assert!(!shown.contains("c2VjcmV0LXZhbHVl"), "{shown}");
    let mut r = inbound::tui::state::rotate::Rotation::new("Contoso mail", Vec::new());
    r.paste(testing::SECRET);
    let shown = format!("{r:?}");
    assert!(!shown.contains(testing::SECRET), "{shown}");
}

/// A setup code as the script prints it, with a secret expiring in six months.
fn setup_code(public_client: bool, admin_consent: bool) -> String {
    let expires = jiff::Zoned::now()
        .date()
        .checked_add(jiff::Span::new().months(6))
        .ok();
    inbound::ops::setup::SetupCode {
        tenant: "contoso.onmicrosoft.com".into(),
        client_id: testing::CLIENT_ID.into(),
        secret: (!public_client).then(|| inbound::secret::Secret::new(testing::SECRET)),
        secret_expires: expires.filter(|_| !public_client),
        redirect_uri: (!public_client).then(|| "http://localhost/microsoft_outlook/confirm".into()),
        public_client,
        admin_consent,
        app_only: false,
        mailboxes: Vec::new(),
    }
    .encode()
    .expose()
    .to_string()
}

fn script_error(m: &Model) -> Option<String> {
    m.wizard().and_then(|w| w.script.error.clone())
}

#[test]
fn script_path_bad_code_then_good_code_fills_the_form() {
    let mut m = testing::model(testing::empty());
    act(&mut m, Action::New);
    assert_eq!(m.wizard().map(|w| w.guide.page), Some(Page::Choose));
    // The script is the default answer: Enter shows it; one key copies it whole.
    act(&mut m, Action::Open);
    assert_eq!(m.wizard().map(|w| w.guide.page), Some(Page::Script));
    let cmds = act(&mut m, Action::Copy);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Copy { text, what }]
            if text.starts_with("#!/usr/bin/env bash") && text.contains("az ad app") && what == "Setup script"),
        "{cmds:?}"
    );
    // ←/→ switches to the PowerShell variant.
    act(&mut m, Action::Right);
    let cmds = act(&mut m, Action::Copy);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Copy { text, .. }] if text.contains("Connect-MgGraph")),
        "{cmds:?}"
    );
    // Not a code; then a code cut short: precise messages, nothing filled.
    m.update(Msg::Paste("hello".into()));
    assert!(script_error(&m).is_some_and(|e| e.contains("not a setup code")));
    let good = setup_code(false, false);
    m.update(Msg::Paste(good[..good.len() - 3].to_string()));
    assert!(
        script_error(&m).is_some_and(|e| e.contains("cut short")),
        "{:?}",
        script_error(&m)
    );
    assert_eq!(step(&m), Some(Step::Register));
    // Damaged in the middle.
    let damaged = good.replacen(":1:", ":1:x", 1);
    m.update(Msg::Paste(damaged));
    assert!(
        script_error(&m).is_some_and(|e| e.contains("checksum")),
        "{:?}",
        script_error(&m)
    );
    // Wrapped by the terminal onto two lines: rejoined.
    let (a, b) = good.split_at(40);
    m.update(Msg::Paste(format!("{a}\n{b}")));
    assert_eq!(step(&m), Some(Step::Register), "a paste waits for Enter");
    act(&mut m, Action::Submit);
    assert_eq!(step(&m), Some(Step::Form));
    assert_eq!(form_value(&m, FieldId::ClientId), testing::CLIENT_ID);
    assert_eq!(form_value(&m, FieldId::Tenant), "contoso.onmicrosoft.com");
    assert_eq!(form_value(&m, FieldId::Secret), testing::SECRET);
    assert!(!form_value(&m, FieldId::Expires).is_empty());
    let w = m.wizard().unwrap();
    assert!(w.script.code.is_empty(), "the code is not kept");
    assert!(
        w.form
            .note
            .as_ref()
            .is_some_and(|n| n.contains("not granted") && n.contains("Esc")),
        "{:?}",
        w.form.note
    );
    // The save says the app was just created (pre-flight waits out replication).
    typed(&mut m, "Support inbox");
    for _ in 0..4 {
        act(&mut m, Action::NextField);
    }
    typed(&mut m, "support@contoso.com");
    let cmds = submit(&mut m);
    let [
        Cmd::Save {
            request: SaveRequest::Add { input, just_created },
            ..
        },
    ] = cmds.as_slice()
    else {
        panic!("expected Save, got {cmds:?}");
    };
    assert!(*just_created);
    let Some(inbound::ops::servers::AppChoice::New(app)) = &input.app else {
        panic!("expected a new app: {input:?}");
    };
    assert_eq!(app.client_id, testing::CLIENT_ID);
    assert!(!app.public_client && app.secret.is_some());
}

#[test]
fn script_path_public_client_code_with_consent() {
    let mut m = testing::model(testing::empty());
    act(&mut m, Action::New);
    act(&mut m, Action::Down);
    act(&mut m, Action::Right);
    act(&mut m, Action::Open);
    m.update(Msg::Paste(setup_code(true, true)));
    act(&mut m, Action::Submit);
    assert_eq!(step(&m), Some(Step::Form));
    let w = m.wizard().unwrap();
    assert!(w.form.public_client);
    assert!(
        w.form
            .note
            .as_ref()
            .is_some_and(|n| n.contains("granted admin consent"))
    );
    let v = w.form.visible();
    assert!(!v.contains(&FieldId::Secret) && !v.contains(&FieldId::Expires));
}

#[test]
fn manual_path_values_land_in_the_form() {
    let mut m = testing::model(testing::empty());
    new_portal(&mut m);
    // Step 1's copy key copies the redirect URL (nothing else).
    let cmds = act(&mut m, Action::Copy);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Copy { text, what }]
            if text == "http://localhost/microsoft_outlook/confirm" && what == "Redirect URL"),
        "{cmds:?}"
    );
    typed(&mut m, testing::CLIENT_ID);
    act(&mut m, Action::NextField);
    typed(&mut m, "contoso.com");
    act(&mut m, Action::Open);
    assert_eq!(step(&m), Some(Step::Secret));
    typed(&mut m, testing::SECRET);
    act(&mut m, Action::NextField);
    typed(&mut m, "2027-05-01");
    act(&mut m, Action::Open);
    assert_eq!(step(&m), Some(Step::Permissions));
    act(&mut m, Action::Open);
    assert_eq!(step(&m), Some(Step::Form));
    assert_eq!(form_value(&m, FieldId::ClientId), testing::CLIENT_ID);
    assert_eq!(form_value(&m, FieldId::Tenant), "contoso.com");
    assert_eq!(form_value(&m, FieldId::Secret), testing::SECRET);
    assert_eq!(form_value(&m, FieldId::Expires), "2027-05-01");
    let v = m.wizard().map(|w| w.form.visible()).unwrap_or_default();
    assert!(v.contains(&FieldId::Secret) && v.contains(&FieldId::Expires));
}

#[test]
fn step_2_refuses_a_secret_id_and_impossible_expiry_dates() {
    let errors = |m: &Model| m.wizard().map(|w| w.form.errors.clone()).unwrap_or_default();
    let mut m = testing::model(testing::empty());
    new_portal(&mut m);
    act(&mut m, Action::Open);
    typed(&mut m, "0f8fad5b-d9cb-469f-a165-70867728950e");
    act(&mut m, Action::Open);
    assert_eq!(step(&m), Some(Step::Secret));
    assert!(errors(&m)[&FieldId::Secret].contains("Secret ID"));
    // Fixed: the Value.
    for _ in 0..36 {
        m.update(Msg::Text(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
    }
    typed(&mut m, testing::SECRET);
    act(&mut m, Action::NextField);
    assert!(!errors(&m).contains_key(&FieldId::Secret));
    for (date, why) in [("2020-01-01", "has passed"), ("2099-01-01", "24 months")] {
        typed(&mut m, date);
        act(&mut m, Action::Open);
        assert_eq!(step(&m), Some(Step::Secret), "{date} accepted");
        assert!(errors(&m)[&FieldId::Expires].contains(why), "{:?}", errors(&m));
        for _ in 0..10 {
            m.update(Msg::Text(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
        }
    }
    typed(&mut m, "2027-05-01");
    act(&mut m, Action::Open);
    assert_eq!(step(&m), Some(Step::Permissions));
}

#[test]
fn public_client_skips_the_secret_step() {
    let mut m = testing::model(testing::empty());
    act(&mut m, Action::New);
    act(&mut m, Action::Right);
    act(&mut m, Action::Down);
    act(&mut m, Action::Right);
    act(&mut m, Action::Open);
    // Registered under "Mobile and desktop applications" with the path `connect` sends.
    let cmds = act(&mut m, Action::Copy);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Copy { text, .. }] if text == "http://localhost/microsoft_outlook/confirm")
    );
    act(&mut m, Action::Open);
    assert_eq!(step(&m), Some(Step::Permissions));
    act(&mut m, Action::Back);
    assert_eq!(step(&m), Some(Step::Register));
    act(&mut m, Action::Open);
    act(&mut m, Action::Open);
    assert_eq!(step(&m), Some(Step::Form));
    let v = m.wizard().map(|w| w.form.visible()).unwrap_or_default();
    assert!(!v.contains(&FieldId::Secret) && !v.contains(&FieldId::Expires));
    typed(&mut m, "Support inbox");
    for _ in 0..4 {
        act(&mut m, Action::NextField);
    }
    typed(&mut m, "support@contoso.com");
    // Past "Sign in as" (optional) to the client ID.
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    typed(&mut m, testing::CLIENT_ID);
    act(&mut m, Action::NextField);
    typed(&mut m, "contoso.com");
    let cmds = submit(&mut m);
    let [
        Cmd::Save {
            request: SaveRequest::Add { input, just_created },
            ..
        },
    ] = cmds.as_slice()
    else {
        panic!("expected Save, got {cmds:?}");
    };
    assert!(!*just_created);
    let Some(inbound::ops::servers::AppChoice::New(app)) = &input.app else {
        panic!("expected a new app: {input:?}");
    };
    assert!(app.public_client && app.secret.is_none() && app.secret_expires.is_none());
}

// ---- Pre-flight in the form's save ----

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
    assert_eq!(w.form.focus, FieldId::Secret);
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
        panic!("{cmds:?} {:?} {:?}", m.wizard().map(|w| &w.form.errors), m.status)
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
    assert_eq!(m.popup, Some(Popup::ConfirmUnchecked));
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
        if m.wizard().unwrap().form.focus == FieldId::Secret {
            break;
        }
        act(&mut m, Action::NextField);
    }
    assert_eq!(m.wizard().unwrap().form.focus, FieldId::Secret);
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

// ---- Sign in as and Cloud ----

#[test]
fn sign_in_as_and_cloud_reach_the_request() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    // Tenant → (Secret expires) → Cloud: US Government sets Server Name and Authority together.
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    assert_eq!(m.wizard().unwrap().form.focus, FieldId::Cloud);
    act(&mut m, Action::Right);
    assert_eq!(form_value(&m, FieldId::Host), "outlook.office365.us");
    assert_eq!(
        form_value(&m, FieldId::Authority),
        "https://login.microsoftonline.us"
    );
    // DoD: one authority for both US Government clouds, another IMAP host.
    act(&mut m, Action::Right);
    assert_eq!(form_value(&m, FieldId::Host), "outlook-dod.office365.us");
    // Back over Secret expires, Tenant, Client ID and Secret to Sign in as.
    for _ in 0..5 {
        act(&mut m, Action::PrevField);
    }
    assert_eq!(m.wizard().unwrap().form.focus, FieldId::SignInAs);
    typed(&mut m, "delegate@contoso.com");
    let cmds = submit(&mut m);
    let [
        Cmd::Save {
            request: SaveRequest::Add { input, .. },
            ..
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(input.sign_in_as.as_deref(), Some("delegate@contoso.com"));
    assert_eq!(input.host, "outlook-dod.office365.us");
}

#[test]
fn a_hand_typed_server_name_survives_a_cloud_change() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    for _ in 0..20 {
        if m.wizard().unwrap().form.focus == FieldId::Host {
            break;
        }
        act(&mut m, Action::PrevField);
    }
    m.update(Msg::Text(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    typed(&mut m, "imap.contoso.com");
    for _ in 0..20 {
        if m.wizard().unwrap().form.focus == FieldId::Cloud {
            break;
        }
        act(&mut m, Action::NextField);
    }
    act(&mut m, Action::Left);
    assert_eq!(form_value(&m, FieldId::Host), "imap.contoso.com");
    assert_eq!(
        form_value(&m, FieldId::Authority),
        "https://login.partner.microsoftonline.cn",
        "the authority still held Global's default"
    );
}

// ---- Admin consent ----

fn need() -> inbound::ops::consent::AdminConsentNeeded {
    inbound::ops::consent::AdminConsentNeeded {
        server: "Support inbox".into(),
        app: "Contoso mail".into(),
        admin_link: "https://login.microsoftonline.com/contoso.com/adminconsent?client_id=x".into(),
        microsoft: "AADSTS90094: Admin consent is required".into(),
        declined: false,
    }
}

/// A new server whose sign-in stopped at "Need admin approval".
fn needs_admin(m: &mut Model) -> u64 {
    filled(m);
    let run = save(m);
    ready(m, run);
    let cmds = m.update(Msg::Consent {
        run,
        event: ConsentEvent::NeedsAdminConsent(Box::new(need())),
    });
    assert!(cmds.iter().all(|c| matches!(c, Cmd::Cancel(_))), "{cmds:?}");
    run
}

#[test]
fn needs_admin_consent_opens_the_admin_screen_with_both_routes() {
    use inbound::tui::state::keymap::Ctx;
    let mut m = testing::model(testing::empty());
    let signin = needs_admin(&mut m);
    assert_eq!(m.screen_ctx(), Ctx::AdminConsent);
    assert!(!m.work_running(), "the sign-in ended");
    // Send the link: copied whole.
    assert!(matches!(
        act(&mut m, Action::Copy).as_slice(),
        [Cmd::Copy { text, .. }] if text == &need().admin_link
    ));
    // I am an admin: the admin consent runs through our listener.
    let cmds = act(&mut m, Action::GrantAdmin);
    let [Cmd::AdminConsent { run, server }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let run = *run;
    assert_eq!(server, "Support inbox");
    assert_ne!(run, signin);
    ready(&mut m, run);
    assert_eq!(m.screen_ctx(), Ctx::AdminWaiting);
    let cmds = act(&mut m, Action::OpenBrowser);
    assert!(
        matches!(cmds.as_slice(), [Cmd::OpenBrowser { run: r, .. }] if *r == run),
        "{cmds:?}"
    );
    // A pasted address goes to the admin consent run, on Enter.
    m.update(Msg::Paste(
        "http://localhost:8400/microsoft_outlook/confirm?admin_consent=True&tenant=t&state=s".into(),
    ));
    let cmds = act(&mut m, Action::Submit);
    assert!(
        matches!(cmds.as_slice(), [Cmd::PasteAddress { run: r, .. }] if *r == run),
        "{cmds:?}"
    );
    // Not an admin: said, and both routes stay.
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Failed(Failure::new(
            "the account that signed in cannot grant consent",
            None,
        )),
    });
    assert_eq!(m.screen_ctx(), Ctx::AdminConsent);
    let admin = m.wizard().unwrap().admin.clone().unwrap();
    assert!(admin.failure.is_some_and(|f| f.message.contains("cannot grant")));
    // Again, granted this time: the user sign-in starts again by itself.
    let cmds = act(&mut m, Action::GrantAdmin);
    let [Cmd::AdminConsent { run: again, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let again = *again;
    ready(&mut m, again);
    let cmds = m.update(Msg::Consent {
        run: again,
        event: ConsentEvent::AdminGranted(inbound::ops::consent::AdminGranted {
            app: "Contoso mail".into(),
            at: now(),
            reported_tenant: "contoso.com".into(),
            warning: None,
        }),
    });
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Reload)), "{cmds:?}");
    let Some(Cmd::Connect {
        run: signin_again,
        server,
    }) = cmds.iter().find(|c| matches!(c, Cmd::Connect { .. }))
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(server, "Support inbox");
    assert!(m.wizard().unwrap().admin.is_none());
    assert_eq!(m.wizard().unwrap().connect.run(), Some(*signin_again));
    assert!(m.status.as_ref().is_some_and(|s| s.tone == Tone::Ok));
}

#[test]
fn esc_on_the_admin_page_cancels_it_and_keeps_both_routes() {
    use inbound::tui::state::keymap::Ctx;
    let mut m = testing::model(testing::empty());
    needs_admin(&mut m);
    let cmds = act(&mut m, Action::GrantAdmin);
    let [Cmd::AdminConsent { run, .. }] = cmds.as_slice() else {
        panic!()
    };
    let run = *run;
    ready(&mut m, run);
    let cmds = act(&mut m, Action::Back);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Cancel(r)] if *r == run),
        "{cmds:?}"
    );
    assert_eq!(m.screen_ctx(), Ctx::AdminConsent);
    // The cancelled run's late answer changes nothing.
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Cancelled,
    });
    assert_eq!(m.screen_ctx(), Ctx::AdminConsent);
    // Sign in again (after the admin granted it through the link).
    let cmds = act(&mut m, Action::Connect);
    assert!(matches!(cmds.as_slice(), [Cmd::Connect { .. }]), "{cmds:?}");
    assert!(m.wizard().unwrap().admin.is_none());
}

// App-only servers: no sign-in, the Exchange step instead.

fn select(m: &mut Model, name: &str) {
    while m.selected_server().is_some_and(|s| s.name != name) {
        let before = m.selected;
        act(m, Action::Down);
        assert_ne!(before, m.selected, "{name} is not in the list");
    }
}

fn status(m: &Model) -> String {
    m.status.as_ref().map(|s| s.text.clone()).unwrap_or_default()
}

#[test]
fn the_form_cycles_to_app_only_and_saving_goes_to_the_exchange_step() {
    let mut m = testing::model(testing::app_only());
    to_form(&mut m);
    typed(&mut m, "Archive 2");
    act(&mut m, Action::NextField);
    let auth = |m: &Model| m.wizard().map(|w| w.form.auth);
    act(&mut m, Action::Right);
    assert_eq!(auth(&m), Some(AuthKind::OAuth2App));
    // The app's own fields stay: client credentials need the client ID, tenant and secret.
    let visible = m.wizard().map(|w| w.form.visible()).unwrap_or_default();
    assert!(visible.contains(&FieldId::ClientId) && visible.contains(&FieldId::Secret));
    act(&mut m, Action::Right);
    assert_eq!(auth(&m), Some(AuthKind::Basic));
    act(&mut m, Action::Right);
    assert_eq!(auth(&m), Some(AuthKind::OAuth2));
    act(&mut m, Action::Left);
    assert_eq!(auth(&m), Some(AuthKind::Basic));
    act(&mut m, Action::Left);
    assert_eq!(auth(&m), Some(AuthKind::OAuth2App));
    for _ in 0..3 {
        act(&mut m, Action::NextField);
    }
    typed(&mut m, "archive2@contoso.com");
    // Past "Azure app" (stored apps exist; a new app is typed below it).
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    typed(&mut m, testing::SECRET);
    act(&mut m, Action::NextField);
    typed(&mut m, testing::CLIENT_ID);
    act(&mut m, Action::NextField);
    typed(&mut m, "contoso.com");
    let cmds = submit(&mut m);
    let [
        Cmd::Save {
            run,
            request: SaveRequest::Add { input, .. },
        },
    ] = cmds.as_slice()
    else {
        panic!("expected Save, got {cmds:?}");
    };
    assert_eq!(input.auth, AuthKind::OAuth2App);
    assert!(input.app.is_some());
    // The store saved it as "Archive" (already in the fixture): no sign-in is started.
    let cmds = m.update(Msg::Saved {
        run: *run,
        result: Ok("Archive".into()),
    });
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(step(&m), Some(Step::Exchange));
    assert_eq!(m.wizard().map(|w| w.flow().len()), Some(6));
    // Enter goes on to Test & Confirm.
    let cmds = act(&mut m, Action::Open);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Test { server, .. }] if server == "Archive"),
        "{cmds:?}"
    );
    assert_eq!(step(&m), Some(Step::Test));
}

#[test]
fn the_exchange_step_copies_every_line_as_one_block() {
    let mut m = testing::model(testing::app_only());
    select(&mut m, "Archive");
    assert!(act(&mut m, Action::Exchange).is_empty());
    assert_eq!(step(&m), Some(Step::Exchange));
    let cmds = act(&mut m, Action::Copy);
    let [Cmd::Copy { text, what }] = cmds.as_slice() else {
        panic!("expected Copy, got {cmds:?}");
    };
    assert_eq!(what, "Exchange commands");
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("# ")).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[2].starts_with("New-ServicePrincipal -AppId '2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58' -ObjectId '<enterprise-app-object-id>'"));
    assert!(lines[3].starts_with("Add-MailboxPermission -Identity 'archive@contoso.com'"));
    // Esc: the server is saved, back to the list.
    act(&mut m, Action::Back);
    assert!(m.wizard().is_none());
}

#[test]
fn a_mailbox_added_later_copies_only_its_permission_with_the_object_id() {
    let mut m = testing::model(testing::app_only());
    select(&mut m, "Later box");
    act(&mut m, Action::Exchange);
    let cmds = act(&mut m, Action::Copy);
    let [Cmd::Copy { text, .. }] = cmds.as_slice() else {
        panic!("expected Copy, got {cmds:?}");
    };
    assert!(!text.contains("New-ServicePrincipal"), "{text}");
    assert!(text.contains(&format!(
        "Add-MailboxPermission -Identity 'later@contoso.com' -User '{}' -AccessRights FullAccess",
        testing::PRINCIPAL_ID
    )));
}

#[test]
fn review_connect_on_app_only_says_there_is_no_sign_in_and_refresh_fetches_a_token() {
    let mut m = testing::model(testing::app_only());
    select(&mut m, "Archive");
    assert!(act(&mut m, Action::Connect).is_empty());
    assert!(m.wizard().is_none());
    let said = status(&m);
    assert!(said.contains("no sign-in"), "{said}");
    assert!(said.contains("x shows the Exchange commands"), "{said}");
    // No token yet, nobody to sign in: a refresh fetches one from the app's credentials.
    let cmds = act(&mut m, Action::Refresh);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Refresh { server, force: true, .. }] if server == "Archive"),
        "{cmds:?}"
    );
}

#[test]
fn exchange_key_on_a_delegated_server_explains_itself() {
    let mut m = testing::model(testing::populated());
    assert!(act(&mut m, Action::Exchange).is_empty());
    assert!(m.wizard().is_none());
    assert!(status(&m).contains("app-only"), "{}", status(&m));
}

#[test]
fn a_refused_app_only_test_offers_the_exchange_step_and_a_retry() {
    let mut m = testing::model(testing::app_only());
    select(&mut m, "Archive");
    let cmds = act(&mut m, Action::Test);
    let [Cmd::Test { run, .. }] = cmds.as_slice() else {
        panic!("expected Test, got {cmds:?}");
    };
    let fix = inbound::model::health::Fix::ExchangeSetup {
        server: "Archive".into(),
    };
    assert_eq!(inbound::tui::ui::fix::action(&fix), Some(Action::Exchange));
    m.update(Msg::Test {
        run: *run,
        event: TestEvent::Finished(Err(ProbeFailure {
            stage: Some(Stage::Authenticate),
            message: "the server refused the app-only login".into(),
            hint: None,
            fix: Some(fix),
        })),
    });
    assert!(matches!(
        m.wizard().map(|w| &w.check.outcome),
        Some(Outcome::Failed(_))
    ));
    // No key connects here (nobody signs in); x opens the Exchange step instead.
    let key = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let ctxs = m.contexts();
    assert_eq!(inbound::tui::state::keymap::resolve(&ctxs, &key('c')), None);
    assert_eq!(
        inbound::tui::state::keymap::resolve(&ctxs, &key('x')),
        Some(Action::Exchange)
    );
    // Should the action arrive anyway, it says why.
    assert!(act(&mut m, Action::Connect).is_empty());
    assert_eq!(step(&m), Some(Step::Test));
    assert!(status(&m).contains("no sign-in"), "{}", status(&m));
    // The Exchange step, then back to the test: a retry is a new run.
    act(&mut m, Action::Exchange);
    assert_eq!(step(&m), Some(Step::Exchange));
    let cmds = act(&mut m, Action::Open);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Test { run: again, .. }] if again != run),
        "{cmds:?}"
    );
    let cmds = m.update(Msg::Action(Action::Back));
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Cancel(_))), "{cmds:?}");
}
