//! Step 5: sign-in. Three paths run at once and the first to finish wins: the embedded
//! listener (browser here, or a tunnel from the user's own computer), an address pasted back
//! into the field, and — on `d` — device-code sign-in.

use crate::tui::state::msg::{Failure, RunId};
use crate::secret::Secret;
use jiff::Timestamp;
use tui_input::Input;

#[derive(Debug, Clone, PartialEq)]
pub enum BrowserNote {
    /// Asked the system to open it.
    Opening,
    Opened,
    Failed(String),
    /// Not opened: the reason (no display, SSH).
    NotHere(&'static str),
}

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
}

/// What the last device-code poll said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// No answer yet (before the first poll).
    Waiting,
    /// `authorization_pending`: the user has not finished yet.
    Pending,
    /// `slow_down`: Microsoft asked for polls every `secs` seconds.
    SlowDown { secs: u64 },
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
        poll: Poll,
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

/// The paste-back field: the address the browser ended on.
#[derive(Clone, Default)]
pub struct PasteField {
    pub input: Input,
    /// Typed keys go into the field (Tab toggles).
    pub focused: bool,
    /// The core is checking the last submitted address.
    pub checking: bool,
    /// Why the last address could not be used (shown under the field; the wait goes on).
    pub error: Option<String>,
}

impl PasteField {
    /// The field's text for the core, kept out of logs.
    pub fn secret(&self) -> Secret {
        Secret::new(self.input.value().trim())
    }
}

impl std::fmt::Debug for PasteField {
    /// The address carries an authorization code: never in Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasteField")
            .field("len", &self.input.value().len())
            .field("focused", &self.focused)
            .field("checking", &self.checking)
            .field("error", &self.error)
            .finish()
    }
}
