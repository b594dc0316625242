//! The wizard's data: seven steps for a new server; the later steps (form, connect, token,
//! test) also serve the actions on a stored server.

pub mod connect;
pub mod form;
pub mod test;

use test::Check;
use connect::{Connect, Device, PasteField};
use form::Form;
use crate::tui::state::msg::{RunId, TokenView};
use crate::model::Config;
use tui_input::Input;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Register,
    Secret,
    Permissions,
    Form,
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

    pub fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    /// Short name for the step bar.
    pub fn short(self) -> &'static str {
        match self {
            Step::Register => "Register",
            Step::Secret => "Secret",
            Step::Permissions => "Permissions",
            Step::Form => "Server",
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
            Step::Connect => "Connect your Outlook account",
            Step::Token => "Outlook token is valid",
            Step::Test => "Test & Confirm",
        }
    }

    pub fn prev(self) -> Option<Step> {
        let i = self.number() - 1;
        i.checked_sub(1).and_then(|p| Step::ALL.get(p).copied())
    }
}

#[derive(Debug, Clone)]
pub struct Wizard {
    pub step: Step,
    /// The full new-server wizard (with the step bar); false for an action on a stored server.
    pub new: bool,
    /// The stored server this wizard works on (set once saved).
    pub server: Option<String>,
    /// Step 2: when the client secret expires.
    pub expires: Input,
    pub expires_error: Option<String>,
    pub form: Form,
    pub save_run: Option<RunId>,
    pub connect: Connect,
    /// Device-code sign-in, alongside `connect`.
    pub device: Device,
    /// The paste-back field of step 5.
    pub paste: PasteField,
    pub token: Option<TokenView>,
    pub check: Check,
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
            expires: Input::default(),
            expires_error: None,
            form: Form::new(config),
            save_run: None,
            connect: Connect::Idle,
            device: Device::Off,
            paste: PasteField::default(),
            token: None,
            check: Check::default(),
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

    /// True while something of this wizard runs in the background.
    pub fn busy(&self) -> bool {
        !self.runs().is_empty()
    }

    /// Every run of this wizard still going (to cancel when leaving).
    pub fn runs(&self) -> Vec<RunId> {
        [
            self.save_run,
            self.connect.run(),
            self.device.run(),
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
