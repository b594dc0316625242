//! App-only servers: the form's third choice, the Exchange step (before and after the first
//! token, and for a mailbox added later), a refused app-only test, and the details pane.

use super::*;
use crate::tui::state::wizard::Step;

/// The review of the app-only fixture with `name` selected.
fn review(data: crate::tui::state::msg::Snapshot, name: &str) -> Model {
    let mut m = testing::model(data);
    m.select_name(name);
    m
}

/// The Exchange step of `name`, opened from the review.
fn exchange(data: crate::tui::state::msg::Snapshot, name: &str) -> Model {
    let mut m = review(data, name);
    act(&mut m, &[Action::Exchange]);
    assert_eq!(m.wizard().map(|w| w.step), Some(Step::Exchange));
    m
}

#[test]
fn form_with_app_only_chosen() {
    let mut m = testing::model(testing::app_only());
    // The portal path (step 1's second choice), then Enter through steps 1–3.
    act(&mut m, &[Action::New, Action::Right, Action::Open]);
    act(&mut m, &[Action::Open, Action::Open, Action::Open]);
    typed(&mut m, "Archive 2");
    act(&mut m, &[Action::NextField, Action::Right]);
    snap("app_only_form", &m, 80, 24);
}

#[test]
fn exchange_step_before_the_first_token() {
    let m = exchange(testing::app_only(), "Archive");
    snap("app_only_exchange_placeholder", &m, 80, 24);
    snap("app_only_exchange_placeholder_narrow", &m, 60, 20);
}

#[test]
fn exchange_step_after_the_first_token() {
    let mut data = testing::app_only();
    data.tokens.insert(
        "Archive".into(),
        testing::app_only_tokens("Archive", "archive@contoso.com", 40),
    );
    snap("app_only_exchange_filled", &exchange(data, "Archive"), 80, 24);
}

#[test]
fn exchange_step_of_a_mailbox_added_later() {
    let m = exchange(testing::app_only(), "Later box");
    snap("app_only_exchange_mailbox_only", &m, 80, 24);
}

#[test]
fn a_new_app_only_server_goes_from_the_form_to_exchange() {
    let mut m = testing::model(testing::app_only());
    act(&mut m, &[Action::New, Action::Open]);
    typed(&mut m, "2027-05-01");
    act(&mut m, &[Action::Open, Action::Open]);
    act(&mut m, &[Action::NextField, Action::Right]);
    m.update(Msg::Action(Action::Submit));
    // The form is not filled: pretend the save of "Archive" (already stored) went through.
    if let crate::tui::state::Screen::Wizard(w) = &mut m.screen {
        w.save_run = Some(m.next_run);
    }
    let run = m.next_run;
    m.next_run += 1;
    m.update(Msg::Saved {
        run,
        result: Ok("Archive".into()),
    });
    assert_eq!(m.wizard().map(|w| w.step), Some(Step::Exchange));
    snap("app_only_new_exchange", &m, 80, 24);
}

#[test]
fn test_refused_by_exchange_lists_the_causes() {
    let mut m = review(testing::app_only(), "Archive");
    let run = start(&mut m, Action::Test);
    let ms = Duration::from_millis;
    let mut events = Vec::new();
    for (stage, detail) in [
        (Stage::Connect, "outlook.office365.com:993"),
        (Stage::Tls, "certificate ok"),
        (
            Stage::Greeting,
            "* OK The Microsoft Exchange IMAP4 service is ready.",
        ),
        (Stage::Capabilities, "AUTH=XOAUTH2 SASL-IR"),
    ] {
        events.push(TestEvent::Progress(ProbeEvent::Started(stage)));
        events.push(TestEvent::Progress(ProbeEvent::Passed {
            stage,
            detail: detail.into(),
            elapsed: ms(20),
        }));
    }
    events.push(TestEvent::Progress(ProbeEvent::Started(Stage::Authenticate)));
    let setup = crate::tui::state::wizard::exchange::setup(&m.data.config, &m.data.tokens, "Archive")
        .unwrap_or_else(|e| panic!("{e}"));
    // The core's error, as the test returns it.
    let source = crate::services::imap::ProbeError::AppOnlyRejected {
        server_text: "AUTHENTICATE failed.".into(),
        mailbox: "archive@contoso.com".into(),
        rejection: Box::new(crate::ops::exchange::rejection(&setup)),
    };
    let e = crate::ops::Error::Probe {
        server: "Archive".into(),
        source,
    };
    let crate::ops::Error::Probe { source, .. } = &e else {
        unreachable!()
    };
    events.push(TestEvent::Finished(Err(ProbeFailure {
        stage: Some(source.stage()),
        message: source.to_string(),
        hint: e.hint(),
        fix: e.fix(),
    })));
    send(&mut m, events.into_iter().map(|event| Msg::Test { run, event }));
    snap("app_only_test_rejected", &m, 80, 24);
    act(&mut m, &[Action::ScrollDown, Action::ScrollDown]);
    snap("app_only_test_rejected_scrolled", &m, 80, 24);
}

#[test]
fn test_with_a_token_without_the_role_names_admin_consent() {
    let mut m = review(testing::app_only(), "Archive");
    let run = start(&mut m, Action::Test);
    let e = crate::services::oauth::OAuthError::AppOnlyToken(
        crate::services::oauth::app_only::AppTokenProblem::MissingRole { roles: Vec::new() },
    );
    m.update(Msg::Test {
        run,
        event: TestEvent::Finished(Err(ProbeFailure {
            stage: None,
            message: e.to_string(),
            hint: e.hint(),
            fix: None,
        })),
    });
    snap("app_only_test_no_role", &m, 80, 24);
}

#[test]
fn details_of_app_only_servers() {
    snap(
        "app_only_details_certificate",
        &review(testing::app_only(), "Shared robot"),
        80,
        24,
    );
    snap(
        "app_only_details_no_token",
        &review(testing::app_only(), "Archive"),
        80,
        24,
    );
}
