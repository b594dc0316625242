//! Effects as data: what `update` asks the runtime to do.

use super::ids::RunId;
use crate::ops::servers::{AppPatch, ServerInput, ServerPatch};
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub enum Cmd {
    /// Re-read the store; answers with `Msg::Loaded`.
    Reload,
    /// Pre-flight: prove the credentials `request` would store, before saving it (answers
    /// with `Msg::Preflight`). `just_created`: the app or secret was made moments ago (a
    /// setup code), so replication lag is waited out.
    Preflight {
        run: RunId,
        request: SaveRequest,
        just_created: bool,
    },
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
    /// An address pasted by the user for the sign-in `run` (paste-back). It carries an
    /// authorization code, so it is a [`Secret`] (never in Debug or the log).
    PasteAddress {
        run: RunId,
        text: Secret,
    },
    /// Admin consent for the app of a server through the embedded listener (its own `state`);
    /// answers with `Msg::Consent` (`Ready`, then `AdminGranted` or `Failed`). Pastes go
    /// through [`Cmd::PasteAddress`] with this run.
    AdminConsent {
        run: RunId,
        server: String,
    },
    /// Device-code sign-in for a server (runs alongside the listener of the same sign-in).
    DeviceSignIn {
        run: RunId,
        server: String,
    },
    /// A new client secret (and its expiry, `YYYY-MM-DD`) for the Azure app `app`, checked
    /// with Microsoft before it replaces the old one unless `unchecked` (the person chose to
    /// save it although Microsoft could not be asked).
    RotateSecret {
        run: RunId,
        app: String,
        secret: Secret,
        expires: String,
        unchecked: bool,
    },
    OpenBrowser {
        run: RunId,
        url: String,
    },
    /// Let the stand-in user the runtime was given (`inbound demo` gives one; the app on a
    /// real store has none) finish the sign-in `run` as a person in a browser would. Success
    /// shows through the sign-in itself; a failure comes back as `ConsentEvent::Browser`.
    StandInSignIn {
        run: RunId,
        visit: StandInVisit,
    },
    /// Stop the work of `run` (frees the listener's port).
    Cancel(RunId),
    /// `inbound import FILE` from the app (`dry_run`: check only); answers with
    /// `Msg::Imported`. `path` as typed (`~/` is the home directory).
    Import {
        run: RunId,
        path: String,
        dry_run: bool,
    },
    Test {
        run: RunId,
        server: String,
    },
    /// Test & Confirm of many servers, as `test --all` (answers `Msg::Bulk` per server, then
    /// `Msg::BulkFinished`); `Cancel(run)` stops what has not started.
    BulkTest {
        run: RunId,
        servers: Vec<String>,
    },
    /// A token refresh of many servers, the same way.
    BulkRefresh {
        run: RunId,
        servers: Vec<String>,
    },
    Refresh {
        run: RunId,
        server: String,
        force: bool,
    },
    /// Save the global settings (one store transaction, through the core).
    SaveSettings {
        run: RunId,
        patch: Box<crate::ops::settings::SettingsPatch>,
    },
    /// Put text on the clipboard: tmux's buffer inside tmux, else OSC 52 through the terminal.
    /// `what` names it in the answer ([`Msg::Copied`](super::msg::Msg::Copied)).
    Copy {
        text: String,
        what: String,
    },
}

/// What the stand-in user does for a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StandInVisit {
    /// Opens the sign-in link and accepts.
    Link(String),
    /// Enters the user code on the device-code page at `uri`.
    DeviceCode { uri: String, user_code: String },
}

#[derive(Debug, Clone)]
pub enum SaveRequest {
    Add {
        input: Box<ServerInput>,
        /// The app was created moments ago (setup script): pre-flight should retry through
        /// Entra's replication lag (`PreflightOptions { just_created: true }`).
        just_created: bool,
    },
    Edit {
        name: String,
        patch: Box<ServerPatch>,
        /// Changes to the server's Azure app (by name).
        app: Option<(String, Box<AppPatch>)>,
    },
}
