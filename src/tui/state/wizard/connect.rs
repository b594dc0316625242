//! Step 5: sign-in. Three paths run at once and the first to finish wins: the embedded
//! listener (browser here, or a tunnel from the user's own computer), an address pasted back
//! into the field, and — on `d` — device-code sign-in. The listener's side is the step's one
//! listening session ([`super::listening`]), which the admin consent uses too.

use super::listening::{self, Waiting};
pub use super::listening::{BrowserNote, PasteField};
use super::{Effect, Step, StepCtx, StepEvent, Wizard};
use crate::services::oauth::device::PollEvent;
use crate::tui::state::Tone;
use crate::tui::state::cmd::{Cmd, StandInVisit};
use crate::tui::state::keymap::Action;
use crate::tui::state::msg::{ConsentEvent, Failure, RunId};
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub enum Connect {
    Idle,
    /// Cancelled by the user (the listener is gone).
    Cancelled,
    /// Binding the listener.
    Starting {
        run: RunId,
    },
    Waiting {
        run: RunId,
        url: String,
        port: u16,
        deadline: Timestamp,
        browser: BrowserNote,
    },
    Failed(Failure),
}

impl Connect {
    /// The run of a sign-in in progress.
    pub fn run(&self) -> Option<RunId> {
        match self {
            Connect::Starting { run } | Connect::Waiting { run, .. } => Some(*run),
            _ => None,
        }
    }

    /// The listening session, while it waits.
    fn waiting(&mut self) -> Option<Waiting<'_>> {
        match self {
            Connect::Waiting {
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

/// Device-code sign-in (`d`), alongside the listener.
#[derive(Debug, Clone, PartialEq)]
pub enum Device {
    Off,
    /// Asking Microsoft for a user code.
    Starting {
        run: RunId,
    },
    /// The code to type at `uri`; polling.
    Code {
        run: RunId,
        user_code: String,
        uri: String,
        deadline: Timestamp,
        interval: u64,
        /// When the code came (shown as how long the wait has run).
        since: Timestamp,
        /// What the last poll said; `None` before the first.
        poll: Option<PollEvent>,
    },
    Failed(Failure),
}

impl Device {
    pub fn run(&self) -> Option<RunId> {
        match self {
            Device::Starting { run } | Device::Code { run, .. } => Some(*run),
            _ => None,
        }
    }

    /// The device-code screen is shown (instead of the three paths).
    pub fn shown(&self) -> bool {
        !matches!(self, Device::Off)
    }
}

pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    if let StepEvent::Action(Action::DemoSignIn) = event {
        return demo_sign_in(w);
    }
    let waiting = match w.connect {
        Connect::Waiting { run, .. } => Some(run),
        _ => None,
    };
    match listening::paste_input(&mut w.paste, waiting, event) {
        Ok(effects) => effects,
        Err(action) => action_of(w, ctx, action),
    }
}

fn action_of(w: &mut Wizard, ctx: &mut StepCtx, action: Action) -> Vec<Effect> {
    match action {
        Action::ScrollDown => {
            w.scroll = w.scroll.saturating_add(3).min(40);
            return Vec::new();
        }
        Action::ScrollUp => {
            w.scroll = w.scroll.saturating_sub(3);
            return Vec::new();
        }
        _ => {}
    }
    if w.device.shown() {
        return match action {
            Action::Back => {
                let run = w.device.run();
                w.device = Device::Off;
                let mut effects: Vec<Effect> = run.map(|r| Effect::Cmd(Cmd::Cancel(r))).into_iter().collect();
                if run.is_some() {
                    effects.push(Effect::Say(
                        Tone::Info,
                        "Device-code sign-in stopped; the link and the paste field still work.".into(),
                    ));
                }
                effects
            }
            Action::DeviceCode if w.device.run().is_none() => start_device(w, ctx),
            Action::Copy => match &w.device {
                Device::Code { user_code, .. } => vec![Effect::Copy {
                    text: user_code.clone(),
                    what: "Device code",
                }],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
    }
    let action = match listening::waiting_action(&mut w.paste, w.connect.waiting(), "Sign-in link", action) {
        Ok(effects) => return effects,
        Err(action) => action,
    };
    match (action, &mut w.connect) {
        (Action::Connect, c) if c.run().is_none() => start(w, ctx),
        (Action::NextField, _) => vec![Effect::Say(
            Tone::Info,
            "The paste field works while a sign-in waits: start one first.".into(),
        )],
        (Action::DeviceCode, _) => start_device(w, ctx),
        (Action::Back, c) if c.run().is_some() => {
            let runs = w.sign_in_runs();
            w.connect = Connect::Cancelled;
            w.device = Device::Off;
            w.paste = PasteField::default();
            let mut effects: Vec<Effect> = runs.into_iter().map(|r| Effect::Cmd(Cmd::Cancel(r))).collect();
            effects.push(Effect::Say(
                Tone::Info,
                "Sign-in cancelled; the listener's port is free again.".into(),
            ));
            effects
        }
        (Action::Back, _) if w.new => {
            // Back to the form, on the field Microsoft said is wrong when it said one.
            if let Connect::Failed(Failure { field: Some(f), .. }) = &w.connect {
                w.form.fields.focus = *f;
            }
            w.connect = Connect::Idle;
            vec![Effect::Enter(Step::Form)]
        }
        (Action::Back, _) => vec![Effect::Leave],
        _ => Vec::new(),
    }
}

/// The demo's sign-in key: the device code, or else the sign-in link, is used at the
/// stand-in.
fn demo_sign_in(w: &mut Wizard) -> Vec<Effect> {
    let cmd = match (&w.device, &w.connect) {
        (
            Device::Code {
                run, uri, user_code, ..
            },
            _,
        ) => Cmd::StandInSignIn {
            run: *run,
            visit: StandInVisit::DeviceCode {
                uri: uri.clone(),
                user_code: user_code.clone(),
            },
        },
        (_, Connect::Waiting { run, url, .. }) => Cmd::StandInSignIn {
            run: *run,
            visit: StandInVisit::Link(url.clone()),
        },
        _ => {
            return vec![Effect::Say(
                Tone::Info,
                "Nothing to sign in to yet: start the sign-in first.".into(),
            )];
        }
    };
    vec![
        Effect::Say(Tone::Info, "Signing in as the demo user…".into()),
        Effect::Cmd(cmd),
    ]
}

/// Device-code sign-in, alongside the listener (the first to finish wins).
fn start_device(w: &mut Wizard, ctx: &mut StepCtx) -> Vec<Effect> {
    let Some(server) = w.server.clone() else {
        return Vec::new();
    };
    let run = ctx.run_id();
    let mut effects: Vec<Effect> = w
        .device
        .run()
        .map(|r| Effect::Cmd(Cmd::Cancel(r)))
        .into_iter()
        .collect();
    w.device = Device::Starting { run };
    w.paste.focused = false;
    effects.push(Effect::Cmd(Cmd::DeviceSignIn { run, server }));
    effects
}

/// Entering the step starts a sign-in (the listener; the browser opens when it is ready).
pub(super) fn start(w: &mut Wizard, ctx: &mut StepCtx) -> Vec<Effect> {
    let Some(server) = w.server.clone() else {
        return Vec::new();
    };
    let run = ctx.run_id();
    let mut effects: Vec<Effect> = w
        .check
        .run
        .take()
        .map(|r| Effect::Cmd(Cmd::Cancel(r)))
        .into_iter()
        .collect();
    w.connect = Connect::Starting { run };
    w.paste = PasteField::default();
    w.token = None;
    effects.push(Effect::Cmd(Cmd::Connect { run, server }));
    effects
}

/// Progress of the sign-in runs of this step.
pub(super) fn on_consent(w: &mut Wizard, ctx: &mut StepCtx, run: RunId, event: ConsentEvent) -> Vec<Effect> {
    let from_device = w.device.run() == Some(run);
    if !from_device && w.connect.run() != Some(run) {
        return Vec::new();
    }
    match event {
        ConsentEvent::Browser(result) => listening::browser_answered(w.connect.waiting(), result),
        ConsentEvent::PasteRejected(note) => w.paste.rejected(note),
        ConsentEvent::Ready {
            auth_url,
            port,
            deadline,
        } => {
            let (browser, effects) = listening::ready(ctx, run, &auth_url);
            w.connect = Connect::Waiting {
                run,
                url: auth_url,
                port,
                deadline,
                browser,
            };
            return effects;
        }
        ConsentEvent::DeviceCode {
            user_code,
            uri,
            deadline,
            interval,
        } => {
            w.device = Device::Code {
                run,
                user_code,
                uri,
                deadline,
                interval,
                since: ctx.now,
                poll: None,
            };
        }
        ConsentEvent::DevicePoll(p) => {
            if let Device::Code { poll, interval, .. } = &mut w.device {
                if let PollEvent::SlowDown { interval: every } = p {
                    *interval = every.as_secs();
                }
                *poll = Some(p);
            }
        }
        ConsentEvent::Connected(done) => {
            // The first path to finish wins: stop the others (frees the port).
            let mut effects: Vec<Effect> = w
                .sign_in_runs()
                .into_iter()
                .filter(|r| *r != run)
                .map(|r| Effect::Cmd(Cmd::Cancel(r)))
                .collect();
            effects.push(if done.mismatch.is_some() {
                Effect::Say(
                    Tone::Warn,
                    "Signed in, but not as the mailbox in Username (see the warning).".into(),
                )
            } else {
                Effect::Say(Tone::Ok, "Outlook token is valid.".into())
            });
            w.connect = Connect::Idle;
            w.device = Device::Off;
            w.paste = PasteField::default();
            w.token = Some(done);
            effects.push(Effect::Enter(Step::Token));
            effects.push(Effect::Cmd(Cmd::Reload));
            return effects;
        }
        ConsentEvent::Failed(f) if from_device => {
            w.device = Device::Failed(f);
            return vec![Effect::Say(
                Tone::Error,
                "Device-code sign-in failed (details above).".into(),
            )];
        }
        ConsentEvent::Failed(f) => {
            w.connect = Connect::Failed(f);
            w.paste = PasteField::default();
            if w.device.run().is_none() {
                w.device = Device::Off;
            }
            return vec![
                Effect::Say(Tone::Error, "Sign-in failed (details above).".into()),
                Effect::Cmd(Cmd::Reload),
            ];
        }
        // The wizard opens the admin consent screen for this one ([`super::admin::open`]).
        ConsentEvent::NeedsAdminConsent(_) => {}
        // The answer to the admin consent link (sent to an admin) pasted here: recorded, and
        // the sign-in goes on.
        ConsentEvent::AdminGranted(granted) => {
            w.paste = PasteField::default();
            let said = match granted.warning {
                Some(warning) => (
                    Tone::Warn,
                    format!(
                        "Admin consent recorded, but {}; now sign in with the link above.",
                        crate::sanitize::peer_text(&warning)
                    ),
                ),
                None => (
                    Tone::Ok,
                    "Admin consent recorded for the organization; now sign in with the link above.".into(),
                ),
            };
            return vec![Effect::Say(said.0, said.1), Effect::Cmd(Cmd::Reload)];
        }
        ConsentEvent::Cancelled if from_device => w.device = Device::Off,
        ConsentEvent::Cancelled => w.connect = Connect::Cancelled,
    }
    Vec::new()
}
