//! Effects as data: what `update` asks the runtime to do.

use super::msg::RunId;
use crate::core::servers::{AppPatch, ServerInput, ServerPatch};

#[derive(Debug, Clone)]
pub enum Cmd {
    /// Re-read the store; answers with `Msg::Loaded`.
    Reload,
    Save {
        run: RunId,
        request: SaveRequest,
    },
    Delete {
        run: RunId,
        name: String,
    },
    /// Browser sign-in for a server through the embedded listener.
    Connect {
        run: RunId,
        server: String,
    },
    /// An address pasted by the user for the sign-in `run` (paste-back).
    PasteAddress {
        run: RunId,
        text: String,
    },
    OpenBrowser {
        run: RunId,
        url: String,
    },
    /// Stop the work of `run` (frees the listener's port).
    Cancel(RunId),
    Test {
        run: RunId,
        server: String,
    },
    Refresh {
        run: RunId,
        server: String,
        force: bool,
    },
    /// Put text on the clipboard through the terminal (OSC 52).
    Copy {
        text: String,
    },
}

#[derive(Debug, Clone)]
pub enum SaveRequest {
    Add(Box<ServerInput>),
    Edit {
        name: String,
        patch: Box<ServerPatch>,
        /// Changes to the server's Azure app (by name).
        app: Option<(String, Box<AppPatch>)>,
    },
}
