//! Secret rotation: the old secret is kept until Microsoft accepts the new one; validation,
//! saving and refreshing every server of the app.

use super::drive::{act, key_msg, started, typed};
use inbound::model::AuthKind;
use inbound::tui::state::cmd::Cmd;
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{Failure, Msg, SaveError};
use inbound::tui::state::rotate::RotateField;
use inbound::tui::state::{Model, Popup, Tone};
use inbound::tui::testing::{self};

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
    assert!(matches!(m.popup, Some(Popup::Rotate(_))));
    let r = m.rotation().unwrap();
    assert!(
        r.fields
            .errors
            .get(&RotateField::Secret)
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
    assert!(matches!(m.popup, Some(Popup::ConfirmUnchecked(Some(_)))));
    assert!(
        m.rotation()
            .and_then(|r| r.unverified.as_deref())
            .is_some_and(|w| w.contains("could not reach")),
    );
    assert!(matches!(key_msg(&m, 'n'), Some(Msg::Action(Action::No))));
    assert!(act(&mut m, Action::No).is_empty());
    assert!(
        matches!(m.popup, Some(Popup::Rotate(_))),
        "back to the form, nothing saved"
    );
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
    assert!(matches!(m.popup, Some(Popup::Rotate(_))));
    let r = m.rotation().unwrap();
    assert_eq!(r.app, "Contoso mail");
    assert_eq!(r.users, ["Support inbox", "Sales", "Helpdesk"]);
    // In the form, letters are typed.
    assert!(matches!(key_msg(&m, 'q'), Some(Msg::Text(_))));
    // A GUID is the Secret ID, not the Value; a past date is refused.
    typed(&mut m, "0f8fad5b-d9cb-469f-a165-70867728950e");
    act(&mut m, Action::NextField);
    typed(&mut m, "2026-01-01");
    assert!(act(&mut m, Action::Submit).is_empty());
    let r = m.rotation().unwrap();
    assert!(
        r.fields
            .errors
            .get(&RotateField::Secret)
            .is_some_and(|e| e.contains("looks like the Secret ID; paste the Value"))
    );
    assert!(
        r.fields
            .errors
            .get(&RotateField::Expires)
            .is_some_and(|e| e.contains("not in the future"))
    );
    assert!(
        !format!("{:?}", m.rotation()).contains("0f8fad5b"),
        "Debug hides the secret"
    );
    // Fix both (Submit put the focus on the first bad field, the secret).
    let Some(Popup::Rotate(r)) = &mut m.popup else {
        panic!("the form: {:?}", m.popup)
    };
    assert_eq!(r.fields.focus, RotateField::Secret);
    r.fields.set(RotateField::Secret, "");
    r.fields.set(RotateField::Expires, "");
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
    assert!(matches!(m.popup, Some(Popup::Rotate(_))));
    assert_eq!(
        m.rotation().unwrap().general.as_deref(),
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
    assert_eq!(m.rotation().unwrap().users, ["Billing"]);
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
