//! Step 5's one listening session, shared by the sign-in ([`super::connect`]) and the admin
//! consent ([`super::admin`]): the link a listener waits on, what the browser did with it,
//! and the paste-back field for the address the browser ended on. Each flow keeps only what
//! is its own (how it starts, and what its answer means).

use super::{Effect, StepCtx, StepEvent};
use crate::secret::Secret;
use crate::tui::state::Tone;
use crate::tui::state::cmd::Cmd;
use crate::tui::state::field::SecretField;
use crate::tui::state::keymap::{self, Action};
use crate::tui::state::msg::RunId;

#[derive(Debug, Clone, PartialEq)]
pub enum BrowserNote {
    /// Asked the system to open it.
    Opening,
    Opened,
    Failed(String),
    /// Not opened: the reason (no display, SSH).
    NotHere(&'static str),
}

impl BrowserNote {
    /// What the launch said (Ok says nothing about whether a window appeared).
    pub fn after(result: Result<(), crate::services::browser::BrowserError>) -> Self {
        match result {
            Ok(()) => BrowserNote::Opened,
            Err(e) => BrowserNote::Failed(e.to_string()),
        }
    }
}

/// The note a new listening session starts with: opening, or why no browser can open here.
pub(super) fn first_note(ctx: &StepCtx) -> BrowserNote {
    match ctx.no_browser {
        None => BrowserNote::Opening,
        Some(reason) => BrowserNote::NotHere(reason),
    }
}

/// The paste-back field: the address the browser ended on.
#[derive(Clone, Default)]
pub struct PasteField {
    pub input: SecretField,
    /// Typed keys go into the field (Tab toggles).
    pub focused: bool,
    /// The core is checking the last submitted address.
    pub checking: bool,
    /// Why the last address could not be used (shown under the field; the wait goes on).
    pub error: Option<String>,
}

impl PasteField {
    /// The core could not use the pasted address: say why under the field, keep it focused.
    pub fn rejected(&mut self, note: String) {
        self.checking = false;
        self.error = Some(note);
        self.focused = true;
    }

    /// A paste replaces the field and waits for Enter: used at once, the Enter people press
    /// after a paste out of habit would act on the next screen.
    pub fn pasted(&mut self, text: &str) -> Vec<Effect> {
        self.input.set_pasted(text);
        self.focused = true;
        self.error = None;
        let enter = keymap::key_or_mark(&[keymap::Ctx::ConnectPaste], Action::Submit);
        vec![Effect::Say(
            Tone::Info,
            format!("Address pasted: {enter} uses it."),
        )]
    }

    /// The field's text for the core, kept out of logs.
    pub fn secret(&self) -> Secret {
        self.input.secret()
    }

    /// Hands the field's address to the session `run`; what is wrong with it comes back as
    /// `ConsentEvent::PasteRejected` and shows under the field.
    fn submit(&mut self, run: Option<RunId>) -> Vec<Effect> {
        let Some(run) = run else {
            self.error = Some("no sign-in is waiting: start one first".into());
            return Vec::new();
        };
        if self.input.value().trim().is_empty() {
            self.error = Some(
                "paste the whole address from the browser's address bar (it starts with http://localhost)"
                    .into(),
            );
            return Vec::new();
        }
        self.error = None;
        self.checking = true;
        vec![Effect::Cmd(Cmd::PasteAddress {
            run,
            text: self.secret(),
        })]
    }
}

impl std::fmt::Debug for PasteField {
    /// The address carries an authorization code: never in Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasteField")
            .field("input", &self.input)
            .field("focused", &self.focused)
            .field("checking", &self.checking)
            .field("error", &self.error)
            .finish()
    }
}

/// A session that waits: its run, its link and what the browser did with it (borrowed from
/// the flow's own state).
pub(super) struct Waiting<'a> {
    pub run: RunId,
    pub url: &'a str,
    pub browser: &'a mut BrowserNote,
}

/// The paste-back field's part of a key or a paste (`run`: the session waiting, if one
/// is); `Err` gives the flow the actions that are not the field's.
pub(super) fn paste_input(
    paste: &mut PasteField,
    run: Option<RunId>,
    event: StepEvent,
) -> Result<Vec<Effect>, Action> {
    match event {
        StepEvent::Text(key) if paste.focused => {
            paste.input.key(key);
            Ok(Vec::new())
        }
        StepEvent::Paste(text) if run.is_some() => Ok(paste.pasted(text)),
        // The paste-back field has the keys while focused.
        StepEvent::Action(action) if paste.focused => {
            match action {
                Action::Submit => return Ok(paste.submit(run)),
                Action::NextField | Action::Back => paste.focused = false,
                _ => {}
            }
            Ok(Vec::new())
        }
        StepEvent::Action(action) => Err(action),
        _ => Ok(Vec::new()),
    }
}

/// The waiting session's own keys: the paste field, copy the link (`what` names it), open
/// the browser; `Err` gives the flow the other actions.
pub(super) fn waiting_action(
    paste: &mut PasteField,
    waiting: Option<Waiting>,
    what: &'static str,
    action: Action,
) -> Result<Vec<Effect>, Action> {
    let Some(w) = waiting else {
        return Err(action);
    };
    match action {
        Action::NextField => {
            paste.focused = true;
            Ok(Vec::new())
        }
        Action::Copy => Ok(vec![Effect::Copy {
            text: w.url.to_string(),
            what,
        }]),
        Action::OpenBrowser => {
            let mut effects = Vec::new();
            if matches!(w.browser, BrowserNote::NotHere(_)) {
                effects.push(Effect::Say(
                    Tone::Warn,
                    "Trying to open a browser although no display was detected…".into(),
                ));
            }
            *w.browser = BrowserNote::Opening;
            effects.push(Effect::Cmd(Cmd::OpenBrowser {
                run: w.run,
                url: w.url.to_string(),
            }));
            Ok(effects)
        }
        other => Err(other),
    }
}

/// A listener is ready at `url`: the note the session starts with, and the browser to open
/// when one can open here.
pub(super) fn ready(ctx: &StepCtx, run: RunId, url: &str) -> (BrowserNote, Vec<Effect>) {
    let browser = first_note(ctx);
    let effects = if browser == BrowserNote::Opening {
        vec![Effect::Cmd(Cmd::OpenBrowser {
            run,
            url: url.to_string(),
        })]
    } else {
        Vec::new()
    };
    (browser, effects)
}

/// What the browser launch said, kept on the session while it waits.
pub(super) fn browser_answered(
    waiting: Option<Waiting>,
    result: Result<(), crate::services::browser::BrowserError>,
) {
    if let Some(w) = waiting {
        *w.browser = BrowserNote::after(result);
    }
}
