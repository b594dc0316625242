//! Messages: user intents (resolved through the key table) and results of background work,
//! each result tagged with the run it answers.

use super::keymap::Action;
use crate::model::validate::FieldError;
use crate::ops::consent::Connected;
use crate::services::imap::{ProbeEvent, Stage};
use crate::services::oauth::device::PollEvent;
use jiff::Timestamp;
use ratatui::crossterm::event::KeyEvent;
use std::sync::Arc;

pub use super::ids::RunId;

/// The store's read model lives in the core (both faces read through it).
pub use crate::ops::snapshot::Snapshot;

// A snapshot travels once per reload, so a message the size of one costs nothing worth a box
// (and boxing it would touch every producer and match of `Loaded`).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key resolved through the key table for the current context.
    Action(Action),
    /// An unbound key while a text field has focus.
    Text(KeyEvent),
    /// Bracketed paste.
    Paste(String),
    /// A click or the wheel on the review screen (where it landed, from `ui::hit`).
    Mouse(super::review::mouse::Pointer),
    Resize,
    /// The clock moved (sent by the runtime while something animates or a countdown runs).
    Tick(Timestamp),
    /// SIGTERM / SIGHUP / SIGINT: leave at once.
    Signal(&'static str),
    /// Another process wrote to the store (the store watcher says so).
    StoreChanged,
    /// The store as read, or the core's error (shared: a `Msg` is cloned).
    Loaded(Result<Snapshot, Arc<crate::ops::Error>>),
    Saved {
        run: RunId,
        result: Result<String, SaveError>,
    },
    /// How a copy went (the route says how sure we can be that it arrived).
    Copied {
        what: String,
        result: Result<super::copied::Route, super::copied::CopyError>,
    },
    Deleted {
        run: RunId,
        name: String,
        result: Result<crate::ops::servers::Removed, Arc<crate::ops::Error>>,
    },
    Consent {
        run: RunId,
        event: ConsentEvent,
    },
    /// Progress and result of the form's pre-flight.
    Preflight {
        run: RunId,
        event: PreflightEvent,
    },
    /// Progress of Test & Confirm.
    Test {
        run: RunId,
        event: TestEvent,
    },
    Refreshed {
        run: RunId,
        server: String,
        result: Result<(), Failure>,
    },
    /// One server's token file as read right after a refresh wrote it (patches the snapshot:
    /// the rest of the store is not read again), or why it could not be read.
    TokensRead {
        server: String,
        result: Result<Option<crate::model::TokenFile>, Arc<crate::ops::Error>>,
    },
    /// A new client secret for `app` was stored (or not).
    /// The settings popup's save finished.
    SettingsSaved {
        run: RunId,
        result: Result<(), SaveError>,
    },
    SecretSaved {
        run: RunId,
        result: Result<(), SaveError>,
    },
    /// Where one server of a batch is.
    Bulk {
        run: RunId,
        server: String,
        event: BulkEvent,
    },
    /// Every server of a batch is done (or was left out).
    BulkFinished {
        run: RunId,
    },
    /// A dry run or an import of a file: the names added (or that would be), or why not.
    Imported {
        run: RunId,
        dry_run: bool,
        result: Result<Vec<String>, ImportFailure>,
    },
}

/// Why a file could not be imported: the core's sentence, and each bad row's
/// "line N, column: why".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFailure {
    pub message: String,
    pub rows: Vec<String>,
}

/// One server's progress in a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkEvent {
    Started,
    Stage(Stage),
    Passed(String),
    Failed {
        message: String,
        needs_sign_in: bool,
    },
    /// Stopped before it started.
    Cancelled,
}

impl Msg {
    /// A name for the log that never carries typed or pasted text.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Action(_) => "action",
            Msg::Text(_) => "text",
            Msg::Paste(_) => "paste",
            Msg::Mouse(_) => "mouse",
            Msg::Resize => "resize",
            Msg::Tick(_) => "tick",
            Msg::Signal(_) => "signal",
            Msg::StoreChanged => "store changed",
            Msg::Loaded(_) => "loaded",
            Msg::Saved { .. } => "saved",
            Msg::Deleted { .. } => "deleted",
            Msg::Copied { .. } => "copied",
            Msg::Consent { .. } => "consent",
            Msg::Preflight { .. } => "preflight",
            Msg::Test { .. } => "test",
            Msg::Refreshed { .. } => "refreshed",
            Msg::TokensRead { .. } => "tokens read",
            Msg::SecretSaved { .. } => "secret saved",
            Msg::SettingsSaved { .. } => "settings saved",
            Msg::Bulk { .. } => "bulk",
            Msg::BulkFinished { .. } => "bulk finished",
            Msg::Imported { .. } => "imported",
        }
    }
}

#[derive(Debug, Clone)]
pub enum SaveError {
    /// Per-field problems (the form shows them inline).
    Fields(Vec<FieldError>),
    /// The core refused for another reason (its error kept whole, source and all).
    Core(Arc<crate::ops::Error>),
    /// No answer within this many seconds.
    TimedOut { secs: u64 },
}

impl SaveError {
    /// The core's error: field problems go under their fields, the rest is said whole.
    pub fn from_core(e: crate::ops::Error) -> Self {
        match e {
            crate::ops::Error::Invalid(fields) => SaveError::Fields(fields),
            e => SaveError::Core(Arc::new(e)),
        }
    }
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveError::Fields(fields) => {
                let all: Vec<String> = fields.iter().map(ToString::to_string).collect();
                f.write_str(&all.join("; "))
            }
            SaveError::Core(e) => write!(f, "{e}"),
            SaveError::TimedOut { secs } => write!(f, "Microsoft did not answer within {secs} s"),
        }
    }
}

/// Equal when they say the same (the core's errors are not comparable themselves).
impl PartialEq for SaveError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (SaveError::Fields(a), SaveError::Fields(b)) => a == b,
            (SaveError::TimedOut { secs: a }, SaveError::TimedOut { secs: b }) => a == b,
            (SaveError::Core(a), SaveError::Core(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

/// A failure with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
    /// The form field the failure is about (a wrong secret, client ID or tenant).
    pub field: Option<super::ids::FieldId>,
    /// What fixes it, when the core knows (the screen names the key that does it).
    pub fix: Option<crate::model::health::Fix>,
}

impl Failure {
    pub fn new(message: impl Into<String>, hint: Option<String>) -> Self {
        Self {
            message: message.into(),
            hint,
            field: None,
            fix: None,
        }
    }
}

/// Progress of a browser sign-in.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsentEvent {
    /// The listener is bound and the authorization URL exists.
    Ready {
        auth_url: String,
        port: u16,
        deadline: Timestamp,
    },
    /// The browser was asked to open the URL (Ok says nothing about whether one appeared).
    Browser(Result<(), crate::services::browser::BrowserError>),
    /// A pasted address could not be used; the sign-in goes on.
    PasteRejected(String),
    /// Device-code sign-in: the code to show and where to enter it.
    DeviceCode {
        user_code: String,
        uri: String,
        deadline: Timestamp,
        interval: u64,
    },
    /// Device-code sign-in: what the last poll said.
    DevicePoll(PollEvent),
    /// Signed in: the core's result (its tokens stay in `Secret`s).
    Connected(Connected),
    Failed(Failure),
    Cancelled,
    /// The sign-in stopped at "Need admin approval": the admin consent screen.
    NeedsAdminConsent(Box<crate::ops::consent::AdminConsentNeeded>),
    /// The admin consent run ended granted (the core recorded it on the app).
    AdminGranted(crate::ops::consent::AdminGranted),
}

/// Progress of the form's pre-flight.
#[derive(Debug, Clone, PartialEq)]
pub enum PreflightEvent {
    Checking(crate::ops::preflight::CheckItem),
    /// Replication lag: the sentence to show while waiting.
    Waiting(String),
    /// `Ok(None)`: nothing to prove (Basic). An error that is not about fields is a warning:
    /// pre-flight never blocks a save it could not answer.
    Done(Result<Option<crate::ops::preflight::Checklist>, SaveError>),
}

/// Progress of Test & Confirm: the core's stage events, then the outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum TestEvent {
    Progress(ProbeEvent),
    /// Ok: the INBOX message count.
    Finished(Result<u32, ProbeFailure>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFailure {
    /// The IMAP stage that failed; `None` when it failed before connecting (e.g. the token).
    pub stage: Option<Stage>,
    pub message: String,
    pub hint: Option<String>,
    /// What fixes it, when the core knows.
    pub fix: Option<crate::model::health::Fix>,
}
