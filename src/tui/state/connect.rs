//! Step 5: browser sign-in through the embedded listener.

use super::msg::{Failure, RunId};
use jiff::Timestamp;

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
        /// Feedback on a pasted address.
        paste_note: Option<String>,
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
