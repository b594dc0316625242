//! The wizard: seven steps for a new server; the later steps (form, connect, token, test)
//! also serve the actions on a stored server. Each step's module owns its data and its
//! transitions (`update` → effects as data, atuin's fsm shape); this module only dispatches
//! and carries out navigation between steps.

pub mod admin;
pub mod connect;
pub mod exchange;
pub mod existing;
pub mod form;
pub mod guide;
pub mod listening;
pub mod page;
pub mod preflight;
pub mod script;
pub mod test;
pub mod token;

use crate::model::{AuthKind, Config, TokenFile};
use crate::ops::consent::Connected;
use crate::tui::state::Tone;
use crate::tui::state::cmd::{Cmd, SaveRequest};
use crate::tui::state::keymap::Action;
use crate::tui::state::msg::{ConsentEvent, PreflightEvent, RunId, SaveError, TestEvent};
use connect::{Connect, Device, PasteField};
use form::Form;
use guide::Guide;
use ratatui::crossterm::event::KeyEvent;
use script::ScriptPane;
use std::collections::{BTreeMap, VecDeque};
use test::TestRun;

/// What a step asks of the model once its own data is updated.
#[derive(Debug)]
pub enum Effect {
    Cmd(Cmd),
    Say(Tone, String),
    /// "Some fields need attention": goes once no field is marked.
    FieldsNeedAttention,
    Copy {
        text: String,
        what: &'static str,
    },
    /// Show this step and do what entering it does (connect starts a sign-in, test a test).
    Enter(Step),
    /// Save the form's request (pre-flight allowed it); true: say "Saving…".
    Save(SaveRequest, bool),
    /// Back to the review screen (the list).
    Leave,
    /// Select this server in the list.
    Select(String),
    /// Ask "save unchecked?" (Microsoft could not check a secret that would replace a stored
    /// one); the answer comes back as [`StepEvent::SaveUnchecked`].
    AskUnchecked,
}

/// What a step may read and use besides its own data.
pub struct StepCtx<'a> {
    pub config: &'a Config,
    /// Token files by server name, as last read (the Exchange step reads the Object ID).
    pub tokens: &'a BTreeMap<String, TokenFile>,
    pub next_run: &'a mut RunId,
    /// Why no browser can open here (SSH, no display), if so.
    pub no_browser: Option<&'static str>,
    /// Today's local date (a secret's expiry is checked against it).
    pub today: jiff::civil::Date,
    /// The clock (when a stage started, to show how long it runs).
    pub now: jiff::Timestamp,
}

impl StepCtx<'_> {
    pub fn run_id(&mut self) -> RunId {
        let r = *self.next_run;
        *self.next_run += 1;
        r
    }
}

/// What reaches a wizard.
#[derive(Debug)]
pub enum StepEvent<'a> {
    /// The wizard was opened on its current step (entering it).
    Entered,
    Action(Action),
    /// An unbound key while a field has focus.
    Text(KeyEvent),
    Paste(&'a str),
    Saved(RunId, Result<String, SaveError>),
    Preflight(RunId, PreflightEvent),
    /// The answer to "save unchecked?" after Microsoft could not check a renewal's secret:
    /// true saves it unchecked, false keeps the stored one.
    SaveUnchecked(bool),
    Consent(RunId, ConsentEvent),
    Test(RunId, TestEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Register,
    Secret,
    Permissions,
    Form,
    /// App-only: the Exchange Online commands (instead of Connect and Token).
    Exchange,
    Connect,
    Token,
    Test,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::Register,
        Step::Secret,
        Step::Permissions,
        Step::Form,
        Step::Connect,
        Step::Token,
        Step::Test,
    ];

    /// The steps of an app-only server: nobody signs in, the Exchange side is set up instead.
    pub const APP_ONLY: [Step; 6] = [
        Step::Register,
        Step::Secret,
        Step::Permissions,
        Step::Form,
        Step::Exchange,
        Step::Test,
    ];

    /// The steps of a server of this kind of authentication.
    pub fn flow(auth: AuthKind) -> &'static [Step] {
        match auth {
            AuthKind::OAuth2App => &Step::APP_ONLY,
            AuthKind::OAuth2 | AuthKind::Basic => &Step::ALL,
        }
    }

    /// The step's number in the delegated flow (steps 1–4 are the same in every flow).
    pub fn number(self) -> usize {
        self.number_in(&Step::ALL)
    }

    pub fn number_in(self, flow: &[Step]) -> usize {
        flow.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    /// Short name for the step bar.
    pub fn short(self) -> &'static str {
        match self {
            Step::Register => "Register",
            Step::Secret => "Secret",
            Step::Permissions => "Permissions",
            Step::Form => "Server",
            Step::Exchange => "Exchange",
            Step::Connect => "Connect",
            Step::Token => "Token",
            Step::Test => "Test",
        }
    }

    /// The step's heading.
    pub fn title(self) -> &'static str {
        match self {
            Step::Register => "Register the application in the Azure portal",
            Step::Secret => "Create a client secret",
            Step::Permissions => "Grant the IMAP permission",
            Step::Form => "The incoming mail server",
            Step::Exchange => "Give the app the mailbox in Exchange Online",
            Step::Connect => "Connect your Outlook account",
            Step::Token => "Outlook token is valid",
            Step::Test => "Test & Confirm",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Wizard {
    pub step: Step,
    /// The full new-server wizard (with the step bar); false for an action on a stored server.
    pub new: bool,
    /// The stored server this wizard works on (set once saved).
    pub server: Option<String>,
    /// Steps 1–3: the choice and which field is focused (the values live in `form`).
    pub guide: Guide,
    /// Step 1 on the script path.
    pub script: ScriptPane,
    pub form: Form,
    pub save_run: Option<RunId>,
    /// The save in flight renews this stored app (same registration, new secret), used also
    /// by these servers: said with the result.
    pub renewing: Option<(String, Vec<String>)>,
    pub connect: Connect,
    /// Device-code sign-in, alongside `connect`.
    pub device: Device,
    /// The paste-back field of step 5.
    pub paste: PasteField,
    /// Step 5's admin consent screen, when the sign-in needs an admin's approval.
    pub admin: Option<admin::Admin>,
    pub token: Option<Connected>,
    pub check: TestRun,
    /// The Exchange step's commands (app-only), read when the step is entered.
    pub exchange: Option<Result<crate::ops::exchange::ExchangeSetup, std::sync::Arc<crate::ops::Error>>>,
    /// Step 5 on a short terminal: how far the lower part (the ways to finish) is scrolled.
    pub scroll: u16,
}

impl Wizard {
    /// A fresh new-server wizard.
    pub fn new(config: &Config) -> Self {
        Self {
            step: Step::Register,
            new: true,
            server: None,
            guide: Guide::default(),
            script: ScriptPane::default(),
            form: Form::new(config),
            save_run: None,
            renewing: None,
            connect: Connect::Idle,
            device: Device::Off,
            paste: PasteField::default(),
            admin: None,
            token: None,
            check: TestRun::default(),
            exchange: None,
            scroll: 0,
        }
    }

    /// A wizard opened on a stored server at `step`.
    pub fn for_server(config: &Config, name: &str, step: Step) -> Self {
        let mut w = Self::new(config);
        w.new = false;
        w.step = step;
        w.server = Some(name.to_string());
        if let Some(f) = Form::edit(config, name) {
            w.form = f;
        }
        w
    }

    /// The steps this wizard walks through (its step bar).
    pub fn flow(&self) -> &'static [Step] {
        Step::flow(self.form.auth)
    }

    /// The current step's number in [`Self::flow`].
    pub fn number(&self) -> usize {
        self.step.number_in(self.flow())
    }

    /// True while something of this wizard runs in the background.
    pub fn busy(&self) -> bool {
        !self.runs().is_empty()
    }

    /// Every run of this wizard still going (to cancel when leaving).
    pub fn runs(&self) -> Vec<RunId> {
        [
            self.save_run,
            self.form.preflight.run(),
            self.connect.run(),
            self.device.run(),
            self.admin.as_ref().and_then(|a| a.route.run()),
            self.check.run,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The sign-in runs (listener and device code).
    pub fn sign_in_runs(&self) -> Vec<RunId> {
        [self.connect.run(), self.device.run()]
            .into_iter()
            .flatten()
            .collect()
    }
}

impl Wizard {
    /// Routes an event to the step it belongs to: keys to the step on screen, results to the
    /// step that started the work. Then carries out `Effect::Enter`.
    pub fn update(&mut self, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
        let first = match event {
            StepEvent::Entered => self.enter(ctx),
            StepEvent::Saved(run, result) => form::on_saved(self, ctx, run, result),
            StepEvent::Preflight(run, e) => preflight::on_event(self, ctx, run, e),
            StepEvent::SaveUnchecked(yes) => preflight::unchecked_answer(self, yes),
            StepEvent::Consent(run, e) => self.on_consent(ctx, run, e),
            StepEvent::Test(run, e) => test::on_event(self, run, e, ctx.now),
            event => match self.step {
                Step::Register | Step::Secret | Step::Permissions => guide::update(self, ctx, event),
                Step::Form => form::update(self, ctx, event),
                Step::Connect if self.admin.is_some() => admin::update(self, ctx, event),
                Step::Connect => connect::update(self, ctx, event),
                Step::Exchange => exchange::update(self, ctx, event),
                Step::Token => token::update(self, ctx, event),
                Step::Test => test::update(self, ctx, event),
            },
        };
        let mut pending: VecDeque<Effect> = first.into();
        let mut out = Vec::new();
        while let Some(effect) = pending.pop_front() {
            match effect {
                Effect::Enter(step) => {
                    self.step = step;
                    pending.extend(self.enter(ctx));
                }
                Effect::Save(request, say) => pending.extend(form::save(self, ctx, request, say)),
                other => out.push(other),
            }
        }
        out
    }

    /// Step 5's events go to the flow whose run they answer: the admin consent screen's, or
    /// the sign-in's, whose "needs admin approval" opens that screen.
    fn on_consent(&mut self, ctx: &mut StepCtx, run: RunId, event: ConsentEvent) -> Vec<Effect> {
        if self.admin.as_ref().and_then(|a| a.route.run()) == Some(run) {
            return admin::on_event(self, ctx, run, event);
        }
        match event {
            ConsentEvent::NeedsAdminConsent(need) if self.sign_in_runs().contains(&run) => {
                admin::open(self, *need)
            }
            event => connect::on_consent(self, ctx, run, event),
        }
    }

    /// What showing the current step starts.
    fn enter(&mut self, ctx: &mut StepCtx) -> Vec<Effect> {
        match self.step {
            Step::Connect => connect::start(self, ctx),
            Step::Test => test::start(self, ctx),
            Step::Exchange => exchange::start(self, ctx),
            _ => Vec::new(),
        }
    }
}
