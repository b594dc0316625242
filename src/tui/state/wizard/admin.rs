//! Step 5's admin consent screen: a sign-in that stopped at "Need admin approval" (most
//! tenants since late 2025: users cannot consent to IMAP themselves) shows two routes. An admin
//! grants it here (the v2 admin consent page through our listener, with its own state; paste-back
//! works as for the sign-in), and the user sign-in starts again at once; or the user sends the
//! simple link to an admin and signs in again afterwards.

use super::connect::{Connect, Device};
use super::listening::{self, BrowserNote, PasteField, Waiting};
use super::{Effect, Step, StepCtx, StepEvent, Wizard};
use crate::ops::consent::AdminConsentNeeded;
use crate::tui::state::Tone;
use crate::tui::state::cmd::{Cmd, StandInVisit};
use crate::tui::state::keymap::Action;
use crate::tui::state::msg::{ConsentEvent, Failure, RunId};
use jiff::Timestamp;

/// Where the "I am an admin" route is.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminRoute {
    /// Both routes offered.
    Choose,
    /// Binding the listener for the admin consent.
    Starting { run: RunId },
    /// The admin consent page waits for the admin's answer.
    Waiting {
        run: RunId,
        url: String,
        port: u16,
        deadline: Timestamp,
        browser: BrowserNote,
    },
}

impl AdminRoute {
    pub fn run(&self) -> Option<RunId> {
        match self {
            AdminRoute::Choose => None,
            AdminRoute::Starting { run } | AdminRoute::Waiting { run, .. } => Some(*run),
        }
    }

    /// The listening session, while it waits.
    fn waiting(&mut self) -> Option<Waiting<'_>> {
        match self {
            AdminRoute::Waiting {
                run, url, browser, ..
            } => Some(Waiting {
                run: *run,
                url,
                browser,
            }),
            _ => None,
        }
    }
}

/// The admin consent screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Admin {
    pub need: AdminConsentNeeded,
    pub route: AdminRoute,
    /// Why the last admin route ended without a grant (cancelled, not an admin, …).
    pub failure: Option<Failure>,
}

impl Admin {
    pub fn new(need: AdminConsentNeeded) -> Self {
        Self {
            need,
            route: AdminRoute::Choose,
            failure: None,
        }
    }
}

/// The sign-in said "needs admin approval": stop the other paths and show both routes.
pub(super) fn open(w: &mut Wizard, need: AdminConsentNeeded) -> Vec<Effect> {
    let mut effects: Vec<Effect> = w
        .sign_in_runs()
        .into_iter()
        .map(|r| Effect::Cmd(Cmd::Cancel(r)))
        .collect();
    w.connect = Connect::Idle;
    w.device = Device::Off;
    w.paste = PasteField::default();
    let said = if need.declined {
        "Consent was declined: sign in again and accept, or an admin approves the app (above)."
    } else {
        "An admin must approve this app first: two ways above."
    };
    w.admin = Some(Admin::new(need));
    effects.push(Effect::Say(Tone::Warn, said.into()));
    effects
}

pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    let waiting = match w.admin.as_ref().map(|a| &a.route) {
        Some(AdminRoute::Waiting { run, .. }) => Some(*run),
        _ => None,
    };
    match listening::paste_input(&mut w.paste, waiting, event) {
        Ok(effects) => effects,
        Err(action) => action_of(w, ctx, action),
    }
}

fn action_of(w: &mut Wizard, ctx: &mut StepCtx, action: Action) -> Vec<Effect> {
    let Some(admin) = w.admin.as_mut() else {
        return Vec::new();
    };
    let action =
        match listening::waiting_action(&mut w.paste, admin.route.waiting(), "Admin consent link", action) {
            Ok(effects) => return effects,
            Err(action) => action,
        };
    match (action, &mut admin.route) {
        (Action::GrantAdmin, AdminRoute::Choose) => {
            let run = ctx.run_id();
            admin.route = AdminRoute::Starting { run };
            admin.failure = None;
            let server = admin.need.server.clone();
            w.paste = PasteField::default();
            vec![Effect::Cmd(Cmd::AdminConsent { run, server })]
        }
        // The demo's stand-in admin accepts on the admin consent page, as a browser would.
        (Action::DemoSignIn, AdminRoute::Waiting { run, url, .. }) => vec![
            Effect::Say(Tone::Info, "Approving as the demo's admin…".into()),
            Effect::Cmd(Cmd::StandInSignIn {
                run: *run,
                visit: StandInVisit::Link(url.clone()),
            }),
        ],
        (Action::Copy, AdminRoute::Choose) => vec![Effect::Copy {
            text: admin.need.admin_link.clone(),
            what: "Admin consent link",
        }],
        (Action::Back, AdminRoute::Starting { run } | AdminRoute::Waiting { run, .. }) => {
            let run = *run;
            admin.route = AdminRoute::Choose;
            w.paste = PasteField::default();
            vec![
                Effect::Cmd(Cmd::Cancel(run)),
                Effect::Say(
                    Tone::Info,
                    "Admin consent stopped; both ways are still open.".into(),
                ),
            ]
        }
        // After the admin granted it elsewhere (the link sent), or to try once more: the
        // sign-in starts again (entering the step starts one).
        (Action::Connect, AdminRoute::Choose) => {
            w.admin = None;
            vec![Effect::Enter(Step::Connect)]
        }
        (Action::Back, AdminRoute::Choose) => {
            w.admin = None;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Progress of the admin consent run.
pub(super) fn on_event(w: &mut Wizard, ctx: &mut StepCtx, run: RunId, event: ConsentEvent) -> Vec<Effect> {
    let Some(admin) = w.admin.as_mut().filter(|a| a.route.run() == Some(run)) else {
        return Vec::new();
    };
    match event {
        ConsentEvent::Browser(result) => listening::browser_answered(admin.route.waiting(), result),
        ConsentEvent::PasteRejected(note) => w.paste.rejected(note),
        ConsentEvent::Ready {
            auth_url,
            port,
            deadline,
        } => {
            let (browser, effects) = listening::ready(ctx, run, &auth_url);
            admin.route = AdminRoute::Waiting {
                run,
                url: auth_url,
                port,
                deadline,
                browser,
            };
            return effects;
        }
        ConsentEvent::AdminGranted(granted) => {
            w.admin = None;
            w.paste = PasteField::default();
            let mut effects = vec![match granted.warning {
                Some(warning) => Effect::Say(
                    Tone::Warn,
                    format!(
                        "Admin consent recorded, but {}; signing in again…",
                        crate::sanitize::peer_text(&warning)
                    ),
                ),
                None => Effect::Say(
                    Tone::Ok,
                    "Admin consent granted for the organization; signing in again…".into(),
                ),
            }];
            effects.push(Effect::Cmd(Cmd::Reload));
            // Entering the step again starts the user sign-in.
            effects.push(Effect::Enter(Step::Connect));
            return effects;
        }
        ConsentEvent::Failed(f) => {
            admin.route = AdminRoute::Choose;
            admin.failure = Some(f);
            w.paste = PasteField::default();
            return vec![Effect::Say(
                Tone::Error,
                "Admin consent was not granted (details above); both ways are still open.".into(),
            )];
        }
        ConsentEvent::Cancelled => {
            admin.route = AdminRoute::Choose;
            w.paste = PasteField::default();
        }
        // A sign-in's events never come from this run.
        _ => {}
    }
    Vec::new()
}
