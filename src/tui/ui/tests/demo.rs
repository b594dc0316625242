//! `inbound demo`: DEMO in the header of every screen, the wizard prefilled so that Enter
//! walks it, and the sign-in key on the Connect step.

use super::*;
use crate::tui::state::cmd::{Cmd, StandInVisit};
use crate::tui::state::demo::Demo;
use crate::tui::state::keymap::{Ctx, resolve};
use crate::tui::state::wizard::form::FieldId;

const AUTHORITY: &str = "http://127.0.0.1:41234";

fn demo() -> Demo {
    Demo {
        secret_expires: "2027-12-01".into(),
        fields: vec![
            (FieldId::Name, "Demo inbox".into()),
            (FieldId::Host, "127.0.0.1".into()),
            (FieldId::Port, "40993".into()),
            (FieldId::Username, "support@contoso.com".into()),
            (FieldId::Secret, testing::SECRET.into()),
            (FieldId::ClientId, testing::CLIENT_ID.into()),
            (FieldId::Tenant, "contoso.onmicrosoft.com".into()),
            (FieldId::Authority, AUTHORITY.into()),
            (FieldId::CaFile, "/tmp/inbound-demo-x/demo-ca.pem".into()),
        ],
        setup_code: Some(stand_in_code()),
    }
}

/// What the demo's stand-in prints as the setup script's last line.
fn stand_in_code() -> crate::secret::Secret {
    crate::ops::setup::SetupCode {
        tenant: "contoso.onmicrosoft.com".into(),
        client_id: testing::CLIENT_ID.into(),
        secret: Some(crate::secret::Secret::new(testing::SECRET)),
        secret_expires: "2027-12-01".parse().ok(),
        redirect_uri: Some(crate::model::registered_redirect_uri(&Default::default())),
        public_client: false,
        admin_consent: false,
        app_only: false,
        mailboxes: Vec::new(),
    }
    .encode()
}

fn demo_model() -> Model {
    let mut m = testing::model(testing::populated());
    m.env.demo = Some(demo());
    m
}

/// The portal path chosen, then Enter on every guide page: the prefilled form.
fn demo_form() -> Model {
    let mut m = demo_model();
    act(
        &mut m,
        &[
            Action::New,
            Action::Right,
            Action::Open,
            Action::Open,
            Action::Open,
            Action::Open,
        ],
    );
    m
}

/// The prefilled form saved: the sign-in waits, with no display.
fn demo_connecting() -> Model {
    let mut m = demo_form();
    let cmds = m.update(Msg::Action(Action::Submit));
    // The stand-in's app is new to the store: pre-flight first, answered "passed".
    let [Cmd::Preflight { run, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let cmds = m.update(Msg::Preflight {
        run: *run,
        event: crate::tui::state::msg::PreflightEvent::Done(Ok(Some(testing::checklist_passed()))),
    });
    assert!(matches!(cmds.as_slice(), [Cmd::Save { .. }]), "{cmds:?}");
    let save_run = run_of(&cmds);
    let run = run_of(&m.update(Msg::Saved {
        run: save_run,
        result: Ok("Support inbox".into()),
    }));
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Ready {
            auth_url: AUTH_URL.into(),
            port: 8400,
            deadline: now() + SignedDuration::from_secs(252),
        },
    });
    m
}

#[test]
fn demo_header_on_the_review() {
    let m = demo_model();
    snap("demo_review", &m, 80, 24);
    snap("demo_review_narrow", &m, 60, 20);
}

#[test]
fn demo_wizard_starts_prefilled() {
    let mut m = demo_model();
    act(&mut m, &[Action::New, Action::Right, Action::Open, Action::Open]);
    snap("demo_wizard_2_secret_prefilled", &m, 80, 24);
    let m = demo_form();
    snap("demo_wizard_4_form_prefilled", &m, 80, 24);
    // Without the demo nothing is prefilled.
    let mut plain = testing::model(testing::populated());
    act(
        &mut plain,
        &[Action::New, Action::Open, Action::Open, Action::Open],
    );
    assert_eq!(
        plain.wizard().map(|w| w.form.value(FieldId::Authority)),
        Some(crate::model::DEFAULT_AUTHORITY)
    );
    assert_eq!(
        m.wizard().map(|w| w.form.value(FieldId::Authority)),
        Some(AUTHORITY)
    );
}

#[test]
fn demo_sign_in_key_on_connect() {
    let mut m = demo_connecting();
    snap("demo_wizard_5_connect", &m, 80, 24);
    let s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE);
    assert_eq!(resolve(&m.contexts(), &s), Some(Action::DemoSignIn));
    let run = sign_in_run(&m);
    let cmds = m.update(Msg::Action(Action::DemoSignIn));
    match cmds.as_slice() {
        [Cmd::StandInSignIn { run: r, visit }] => {
            assert_eq!(*r, run);
            assert_eq!(visit, &StandInVisit::Link(AUTH_URL.into()));
        }
        other => panic!("{other:?}"),
    }
    // In the paste field `s` is typed, not a key.
    act(&mut m, &[Action::NextField]);
    assert!(!m.contexts().contains(&Ctx::DemoConnect));
    // Outside the demo the key does not exist.
    let plain = connecting(Situation {
        ssh: false,
        display: false,
        ssh_target: None,
    });
    assert_eq!(resolve(&plain.contexts(), &s), None);
}

#[test]
fn demo_sign_in_key_enters_the_device_code() {
    let mut m = demo_connecting();
    let run = start(&mut m, Action::DeviceCode);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::DeviceCode {
            user_code: "FQKT-WXNL".into(),
            uri: format!("{AUTHORITY}/devicelogin"),
            deadline: now() + SignedDuration::from_secs(14 * 60 + 32),
            interval: 2,
        },
    });
    snap("demo_wizard_5_device_code", &m, 80, 24);
    let cmds = m.update(Msg::Action(Action::DemoSignIn));
    match cmds.as_slice() {
        [Cmd::StandInSignIn { run: r, visit }] => {
            assert_eq!(*r, run);
            assert_eq!(
                visit,
                &StandInVisit::DeviceCode {
                    uri: format!("{AUTHORITY}/devicelogin"),
                    user_code: "FQKT-WXNL".into(),
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn demo_secret_stays_out_of_debug() {
    let text = format!("{:?}", demo_model().env);
    assert!(!text.contains(testing::SECRET), "{text}");
}

/// `n` in the demo asks how to register the app, as outside it (it used to skip the choice).
#[test]
fn demo_wizard_opens_on_the_choice() {
    let mut m = demo_model();
    act(&mut m, &[Action::New]);
    let w = m.wizard().expect("the wizard");
    assert_eq!(w.guide.page, crate::tui::state::wizard::guide::Page::Choose);
    snap("demo_wizard_1_choose", &m, 80, 24);
}

/// The demo plays Cloud Shell: the stand-in's setup code waits in the field, Enter uses it,
/// and the form has the stand-in's app with the demo's other fields.
#[test]
fn demo_cloud_shell_path_uses_the_stand_ins_setup_code() {
    let mut m = demo_model();
    act(&mut m, &[Action::New, Action::Open]);
    assert_eq!(
        m.wizard().map(|w| w.guide.page),
        Some(crate::tui::state::wizard::guide::Page::Script)
    );
    snap("demo_wizard_1_cloud_shell", &m, 80, 24);
    let cmds = m.update(Msg::Action(Action::Submit));
    assert!(cmds.is_empty(), "{cmds:?}");
    let w = m.wizard().expect("the wizard");
    assert_eq!(w.step, crate::tui::state::wizard::Step::Form);
    assert_eq!(w.form.value(FieldId::ClientId), testing::CLIENT_ID);
    assert_eq!(w.form.value(FieldId::Tenant), "contoso.onmicrosoft.com");
    assert_eq!(w.form.value(FieldId::Secret), testing::SECRET);
    assert_eq!(w.form.value(FieldId::Authority), AUTHORITY);
    assert_eq!(w.form.value(FieldId::Username), "support@contoso.com");
    assert!(w.form.just_created);
    // Outside the demo the field is empty: the code comes from the user's own Cloud Shell.
    let mut plain = testing::model(testing::populated());
    act(&mut plain, &[Action::New, Action::Open]);
    assert_eq!(
        plain.wizard().map(|w| w.script.code.value().is_empty()),
        Some(true)
    );
}

/// On the admin consent page the demo key has the stand-in's admin accept it, as a browser
/// would; outside the demo that key does not exist there.
#[test]
fn demo_key_approves_on_the_admin_consent_page() {
    let mut m = demo_connecting();
    let run = m.next_run - 1;
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::NeedsAdminConsent(Box::new(crate::ops::consent::AdminConsentNeeded {
            server: "Support inbox".into(),
            app: "Support inbox".into(),
            admin_link: format!("{AUTHORITY}/contoso.onmicrosoft.com/adminconsent?client_id=x"),
            microsoft: "AADSTS65004: User declined to consent to access the app.".into(),
            declined: true,
        })),
    });
    let cmds = m.update(Msg::Action(Action::GrantAdmin));
    let [Cmd::AdminConsent { run, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let run = *run;
    let admin_url = format!("{AUTHORITY}/contoso.onmicrosoft.com/v2.0/adminconsent?client_id=x&state=s");
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Ready {
            auth_url: admin_url.clone(),
            port: 8400,
            deadline: now() + SignedDuration::from_secs(252),
        },
    });
    assert_eq!(m.screen_ctx(), Ctx::AdminWaiting);
    let s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE);
    assert_eq!(resolve(&m.contexts(), &s), Some(Action::DemoSignIn));
    let cmds = m.update(Msg::Action(Action::DemoSignIn));
    match cmds.as_slice() {
        [Cmd::StandInSignIn { run: r, visit }] => {
            assert_eq!(*r, run);
            assert_eq!(visit, &StandInVisit::Link(admin_url));
        }
        other => panic!("{other:?}"),
    }
    let mut plain = m.clone();
    plain.env.demo = None;
    assert_eq!(resolve(&plain.contexts(), &s), None);
}
