//! The new-server wizard's form: moving between steps loses nothing, fields are checked on
//! leaving and on submit, store errors land on their fields, edits save patches, and the
//! "Sign in as" and cloud choices reach the request.

use super::drive::{act, filled, form_value, new_portal, step, submit, to_form, typed};
use inbound::model::AuthKind;
use inbound::tui::state::cmd::{Cmd, SaveRequest};
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{Msg, SaveError};
use inbound::tui::state::wizard::Step;
use inbound::tui::state::wizard::form::FieldId;
use inbound::tui::state::wizard::guide::Page;
use inbound::tui::state::{Model, Screen};
use inbound::tui::testing::{self};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
            .is_some_and(|w| w.form.fields.errors.contains_key(&FieldId::Expires))
    );
}

#[test]
fn validation_on_blur_and_on_submit() {
    let mut m = testing::model(testing::empty());
    to_form(&mut m);
    // Leaving an empty Name marks it.
    act(&mut m, Action::NextField);
    let errors = |m: &Model| {
        m.wizard()
            .map(|w| w.form.fields.errors.clone())
            .unwrap_or_default()
    };
    assert!(errors(&m).contains_key(&FieldId::Name));
    // A Secret ID (GUID) in the Secret field is refused with the Value hint.
    for _ in 0..5 {
        act(&mut m, Action::NextField);
    }
    assert_eq!(m.wizard().map(|w| w.form.fields.focus), Some(FieldId::Secret));
    typed(&mut m, "0f8fad5b-d9cb-469f-a165-70867728950e");
    act(&mut m, Action::NextField);
    assert!(errors(&m)[&FieldId::Secret].contains("Secret ID"));
    // Submit: nothing is saved and focus jumps to the first bad field.
    let cmds = act(&mut m, Action::Submit);
    assert!(cmds.is_empty());
    assert_eq!(m.wizard().map(|w| w.form.fields.focus), Some(FieldId::Name));
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
    assert_eq!(w.form.fields.focus, FieldId::CaFile);
    assert_eq!(w.step, Step::Form);
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
        m.wizard().unwrap().form.fields.errors.is_empty(),
        "{:?}",
        m.wizard().unwrap().form.fields.errors
    );
    assert!(m.status.is_none(), "{:?}", m.status);
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
    assert_eq!(m.wizard().unwrap().form.fields.focus, FieldId::Host);
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

#[test]
fn debug_of_the_form_and_the_wizard_never_shows_a_secret() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    let shown = format!("{:?} {:?}", m.wizard().unwrap().form, m.wizard().unwrap());
    assert!(!shown.contains(testing::SECRET), "{shown}");
    assert!(shown.contains("SecretField { len: "), "{shown}");
    // A setup code half typed into step 1's field, a rotation's new secret.
    let mut m = testing::model(testing::empty());
    act(&mut m, Action::New);
    act(&mut m, Action::Open);
    act(&mut m, Action::NextField);
    typed(&mut m, "inbound-setup:1:c2VjcmV0LXZhbHVl");
    let shown = format!("{:?}", m.wizard().unwrap());
    assert!(!shown.contains("c2VjcmV0LXZhbHVl"), "{shown}");
    let mut r = inbound::tui::state::rotate::Rotation::new("Contoso mail", Vec::new());
    r.fields.paste(testing::SECRET);
    let shown = format!("{r:?}");
    assert!(!shown.contains(testing::SECRET), "{shown}");
}

#[test]
fn sign_in_as_and_cloud_reach_the_request() {
    let mut m = testing::model(testing::empty());
    filled(&mut m);
    // Tenant → (Secret expires) → Cloud: US Government sets Server Name and Authority together.
    act(&mut m, Action::NextField);
    act(&mut m, Action::NextField);
    assert_eq!(m.wizard().unwrap().form.fields.focus, FieldId::Cloud);
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
    assert_eq!(m.wizard().unwrap().form.fields.focus, FieldId::SignInAs);
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
        if m.wizard().unwrap().form.fields.focus == FieldId::Host {
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
        if m.wizard().unwrap().form.fields.focus == FieldId::Cloud {
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
