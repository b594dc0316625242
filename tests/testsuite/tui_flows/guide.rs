//! The guide's paths into the form: a setup code from the script (bad, then good; public
//! client), values typed by hand, step 2's checks, and the public client without a secret.

use super::drive::{act, form_value, new_portal, step, submit, typed};
use inbound::tui::state::Model;
use inbound::tui::state::cmd::{Cmd, SaveRequest};
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::Msg;
use inbound::tui::state::wizard::Step;
use inbound::tui::state::wizard::form::FieldId;
use inbound::tui::state::wizard::guide::Page;
use inbound::tui::testing::{self};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
    let errors = |m: &Model| {
        m.wizard()
            .map(|w| w.form.fields.errors.clone())
            .unwrap_or_default()
    };
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
