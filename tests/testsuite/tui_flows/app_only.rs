//! App-only servers: no sign-in, the Exchange step instead.

use super::drive::{act, step, submit, to_form, typed};
use inbound::model::AuthKind;
use inbound::services::imap::Stage;
use inbound::tui::state::Model;
use inbound::tui::state::cmd::{Cmd, SaveRequest};
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{Msg, ProbeFailure, TestEvent};
use inbound::tui::state::wizard::Step;
use inbound::tui::state::wizard::form::FieldId;
use inbound::tui::state::wizard::test::Outcome;
use inbound::tui::testing::{self};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
