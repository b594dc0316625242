//! Admin consent: a sign-in that needs an admin opens the admin screen with both routes.

use super::drive::{act, filled, ready, save};
use inbound::tui::state::cmd::Cmd;
use inbound::tui::state::keymap::Action;
use inbound::tui::state::msg::{ConsentEvent, Failure, Msg};
use inbound::tui::state::{Model, Tone};
use inbound::tui::testing::{self, now};

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
