//! The one key table: dispatch, the hint bar and the help popup all read it.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Open the settings popup.
    Settings,
    Help,
    CloseHelp,
    Up,
    Down,
    /// Enter on a list or a guide page.
    Open,
    /// Esc: one step back, cancel, close.
    Back,
    New,
    Edit,
    Connect,
    Test,
    Refresh,
    Copy,
    /// Copy the selected server's mail program settings for `inbound proxy`.
    CopyProxy,
    Delete,
    Reveal,
    NextField,
    PrevField,
    /// ← on a choice field (moves the cursor in a text field).
    Left,
    /// → on a choice field.
    Right,
    Submit,
    OpenBrowser,
    /// Start device-code sign-in.
    DeviceCode,
    /// Admin consent screen: "I am an admin: grant for the organization".
    GrantAdmin,
    /// Demo only: sign in at the stand-in as the demo user, the way a browser would.
    DemoSignIn,
    /// Scroll the details pane.
    ScrollUp,
    ScrollDown,
    /// Record a new client secret for the selected server's app.
    Rotate,
    /// App-only: show the Exchange Online commands (the wizard's Exchange step).
    Exchange,
    Yes,
    No,
    /// Open the list's find field.
    Find,
    /// Show only the servers that need attention (toggle).
    Attention,
    /// The list's next order.
    Sort,
    /// The first / last row of the list.
    First,
    Last,
    /// A page of the list up / down.
    PageUp,
    PageDown,
    /// Mark the selected server (for work on many).
    Mark,
    /// Mark every server shown (again: unmark them).
    MarkAll,
    /// Test every server, as `test --all`.
    TestAll,
    /// The message log popup (every status line of the session).
    Messages,
    /// Import servers from a file (the import popup).
    Import,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Global,
    Review,
    /// Wizard step 3 (a reading page).
    Guide,
    /// Wizard step 1's first page: how to register the app, with a secret or without.
    GuideChoose,
    /// Wizard step 1: the stored apps, for another mailbox of one of them.
    GuideApps,
    /// Wizard step 1 in the portal: client ID and tenant fields (printable keys are typed).
    GuideRegister,
    /// Wizard step 2: the secret Value and its expiry (printable keys are typed).
    GuideText,
    /// Wizard step 1 with the Cloud Shell setup script shown.
    Script,
    /// Step 1's setup-code field focused (printable keys are typed).
    ScriptCode,
    Form,
    Connect,
    /// Step 5 when no sign-in waits (not started, failed, cancelled): no link to copy, no
    /// paste field, so no keys for them.
    ConnectIdle,
    /// Step 5 with the paste-back field focused (printable keys are typed).
    ConnectPaste,
    /// Step 5 showing the device code.
    Device,
    /// Step 5's admin consent screen, both routes offered.
    AdminConsent,
    /// Step 5's admin consent page open, waiting for the admin's answer.
    AdminWaiting,
    /// Step 5 in `inbound demo` (before Connect or Device).
    DemoConnect,
    /// The new-client-secret form (a popup with text fields).
    Rotate,
    /// The settings popup (text fields).
    Settings,
    Token,
    /// The Exchange step of an app-only server (commands to copy).
    Exchange,
    Test,
    /// Test & Confirm of an app-only server: no sign-in, the Exchange step instead.
    TestAppOnly,
    Help,
    Confirm,
    /// The server list's find field (printable keys are typed).
    Filter,
    /// The batch popup while a test or refresh of many servers runs.
    Bulk,
    /// The batch popup once every server is done: the summary.
    BulkDone,
    /// The message log popup.
    Log,
    /// The import popup (the file path is typed).
    Import,
}

impl Ctx {
    /// True where printable keys go into a text field (so `?` and `q` stay typeable).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Ctx::GuideRegister
                | Ctx::GuideText
                | Ctx::ScriptCode
                | Ctx::Form
                | Ctx::ConnectPaste
                | Ctx::Rotate
                | Ctx::Settings
                | Ctx::Filter
                | Ctx::Import
        )
    }
}

/// A key with modifiers; for characters, Shift is ignored (it is part of the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn ch(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            mods: KeyModifiers::NONE,
        }
    }
    pub const fn ctrl(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }
    pub const fn code(code: KeyCode) -> Self {
        Self {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let mods = match ev.code {
            KeyCode::Char(_) | KeyCode::BackTab => ev.modifiers - KeyModifiers::SHIFT,
            _ => ev.modifiers,
        };
        self.code == ev.code && self.mods == mods
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{}", base.to_uppercase())
        } else {
            base
        }
    }
}

pub struct KeyBinding {
    pub ctx: Ctx,
    pub keys: &'static [Key],
    pub action: Action,
    pub desc: &'static str,
    /// Shown in the hint bar (everything is in the help popup).
    pub hint: bool,
    /// Overrides the key label in the hint bar (e.g. "↑↓" for a pair).
    pub hint_label: Option<&'static str>,
}

impl KeyBinding {
    pub fn label(&self) -> String {
        self.keys.iter().map(Key::label).collect::<Vec<_>>().join("/")
    }
    pub fn short_label(&self) -> String {
        match self.hint_label {
            Some(l) => l.to_string(),
            None => self.keys.first().map(Key::label).unwrap_or_default(),
        }
    }
}

const fn b(ctx: Ctx, keys: &'static [Key], action: Action, desc: &'static str, hint: bool) -> KeyBinding {
    KeyBinding {
        ctx,
        keys,
        action,
        desc,
        hint,
        hint_label: None,
    }
}

const fn pair(
    ctx: Ctx,
    keys: &'static [Key],
    action: Action,
    desc: &'static str,
    label: &'static str,
) -> KeyBinding {
    KeyBinding {
        ctx,
        keys,
        action,
        desc,
        hint: true,
        hint_label: Some(label),
    }
}

use Action as A;
use Ctx as C;

const UP: &[Key] = &[Key::code(KeyCode::Up), Key::ch('k')];
const DOWN: &[Key] = &[Key::code(KeyCode::Down), Key::ch('j')];
const ENTER: &[Key] = &[Key::code(KeyCode::Enter)];
const ESC: &[Key] = &[Key::code(KeyCode::Esc)];
const QUIT: &[Key] = &[Key::ch('q')];
const HELP: &[Key] = &[Key::ch('?')];

/// Every binding. Resolution walks the contexts of the moment in order (popup first, then the
/// screen, then Global) and takes the first match.
pub static KEYMAP: &[KeyBinding] = &[
    // Popups consume keys first.
    b(
        C::Help,
        &[
            Key::code(KeyCode::Esc),
            Key::ch('?'),
            Key::ch('q'),
            Key::code(KeyCode::F(1)),
        ],
        A::CloseHelp,
        "close help",
        true,
    ),
    b(C::Help, UP, A::Up, "scroll up", false),
    b(C::Help, DOWN, A::Down, "scroll down", false),
    b(
        C::Help,
        &[Key::code(KeyCode::PageUp)],
        A::PageUp,
        "page up",
        false,
    ),
    b(
        C::Help,
        &[Key::code(KeyCode::PageDown)],
        A::PageDown,
        "page down",
        false,
    ),
    // The new-client-secret form.
    b(
        C::Rotate,
        &[Key::code(KeyCode::Tab), Key::code(KeyCode::Down)],
        A::NextField,
        "next field",
        true,
    ),
    b(
        C::Rotate,
        &[Key::code(KeyCode::BackTab), Key::code(KeyCode::Up)],
        A::PrevField,
        "previous field",
        false,
    ),
    b(
        C::Rotate,
        &[Key::ctrl('r')],
        A::Reveal,
        "show secret (toggle)",
        true,
    ),
    b(
        C::Rotate,
        ENTER,
        A::Submit,
        "save (then refreshes every server of the app)",
        true,
    ),
    b(C::Rotate, ESC, A::Back, "cancel (nothing is saved)", true),
    b(C::Rotate, &[Key::code(KeyCode::F(1))], A::Help, "help", true),
    // The settings form.
    b(
        C::Settings,
        &[Key::code(KeyCode::Tab), Key::code(KeyCode::Down)],
        A::NextField,
        "next field",
        true,
    ),
    b(
        C::Settings,
        &[Key::code(KeyCode::BackTab), Key::code(KeyCode::Up)],
        A::PrevField,
        "previous field",
        false,
    ),
    b(C::Settings, ENTER, A::Submit, "save", true),
    b(C::Settings, ESC, A::Back, "cancel (nothing is saved)", true),
    b(C::Settings, &[Key::code(KeyCode::F(1))], A::Help, "help", true),
    b(C::Confirm, &[Key::ch('y')], A::Yes, "yes", true),
    b(
        C::Confirm,
        &[Key::ch('n'), Key::code(KeyCode::Esc)],
        A::No,
        "no",
        true,
    ),
    // The server list and details.
    b(C::Review, UP, A::Up, "previous server", false),
    b(C::Review, DOWN, A::Down, "next server", false),
    b(C::Review, ENTER, A::Open, "show details (narrow terminal)", false),
    b(
        C::Review,
        ESC,
        A::Back,
        "back to the list (narrow terminal)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('n')],
        A::New,
        "new (wizard for a new server)",
        true,
    ),
    b(C::Review, &[Key::ch('e')], A::Edit, "edit", true),
    b(
        C::Review,
        &[Key::ch('c')],
        A::Connect,
        "connect (sign in; also re-connect)",
        true,
    ),
    b(C::Review, &[Key::ch('t')], A::Test, "test (Test & Confirm)", true),
    b(
        C::Review,
        &[Key::ch('r')],
        A::Refresh,
        "refresh (the token, now)",
        true,
    ),
    b(
        C::Review,
        &[Key::ch('y')],
        A::Copy,
        "copy URL (the redirect URL, to the clipboard)",
        true,
    ),
    b(
        C::Review,
        &[Key::ch('p')],
        A::CopyProxy,
        "copy proxy settings (for a mail program)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('g')],
        A::Settings,
        "settings (listener, public URL, sign-in wait, proxy)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('s')],
        A::Rotate,
        "secret (new client secret + expiry for the app)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('v')],
        A::Reveal,
        "view secret (toggle; hidden on leaving)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch(']')],
        A::ScrollDown,
        "scroll the details down (PgDn too, in the details of a narrow terminal)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('[')],
        A::ScrollUp,
        "scroll the details up (PgUp too, in the details of a narrow terminal)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('x')],
        A::Exchange,
        "Exchange commands (app-only)",
        false,
    ),
    b(C::Review, &[Key::ch('d')], A::Delete, "delete (asks first)", true),
    b(
        C::Review,
        &[Key::ch('/')],
        A::Find,
        "find (type to narrow the list: name, mailbox, host, app; 'word matches exactly)",
        true,
    ),
    b(
        C::Review,
        &[Key::ch('o')],
        A::Sort,
        "order (health, name, token expiry, secret expiry, last test, as added)",
        true,
    ),
    b(
        C::Review,
        &[Key::ch('a')],
        A::Attention,
        "attention only (toggle: WARNING and CRITICAL)",
        true,
    ),
    b(
        C::Review,
        &[Key::code(KeyCode::Home)],
        A::First,
        "first server",
        false,
    ),
    b(
        C::Review,
        &[Key::code(KeyCode::End)],
        A::Last,
        "last server",
        false,
    ),
    b(
        C::Review,
        &[Key::code(KeyCode::PageUp), Key::ctrl('u')],
        A::PageUp,
        "a page of servers up",
        false,
    ),
    b(
        C::Review,
        &[Key::code(KeyCode::PageDown), Key::ctrl('d')],
        A::PageDown,
        "a page of servers down",
        false,
    ),
    b(
        C::Review,
        &[Key::ch(' ')],
        A::Mark,
        "mark (t / r then test or refresh every marked server)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('*')],
        A::MarkAll,
        "mark all shown (again: unmark them)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('T')],
        A::TestAll,
        "test all (every server, as test --all)",
        false,
    ),
    // The batch popup.
    b(
        C::Bulk,
        ESC,
        A::Back,
        "stop (what has not started; what runs finishes)",
        true,
    ),
    b(C::Bulk, UP, A::Up, "scroll up", false),
    b(C::Bulk, DOWN, A::Down, "scroll down", false),
    b(
        C::BulkDone,
        &[Key::code(KeyCode::Enter), Key::code(KeyCode::Esc)],
        A::Open,
        "close",
        true,
    ),
    b(
        C::BulkDone,
        &[Key::ch('c')],
        A::Connect,
        "sign in (the ones that need it, one by one)",
        true,
    ),
    b(C::BulkDone, UP, A::Up, "scroll up", false),
    b(C::BulkDone, DOWN, A::Down, "scroll down", false),
    // The list's find field.
    b(
        C::Filter,
        ENTER,
        A::Submit,
        "keep (the list stays narrowed; keys go back to the list)",
        true,
    ),
    b(C::Filter, ESC, A::Back, "clear (the whole list again)", true),
    pair(
        C::Filter,
        &[Key::code(KeyCode::Up)],
        A::Up,
        "move (through the matches)",
        "↑↓",
    ),
    b(
        C::Filter,
        &[Key::code(KeyCode::Down)],
        A::Down,
        "next server",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('m')],
        A::Messages,
        "messages (every status line of this session, whole)",
        false,
    ),
    b(
        C::Review,
        &[Key::ch('i')],
        A::Import,
        "import servers from a file (CSV or JSON, as inbound import; checked first)",
        false,
    ),
    // The import popup.
    b(
        C::Import,
        ENTER,
        A::Submit,
        "check, then import (the first Enter checks every row and writes nothing; the next imports)",
        true,
    ),
    b(C::Import, ESC, A::Back, "close (nothing is imported)", true),
    // The message log popup.
    b(
        C::Log,
        &[Key::code(KeyCode::Esc), Key::ch('m'), Key::ch('q')],
        A::Back,
        "close",
        true,
    ),
    pair(C::Log, UP, A::Up, "scroll", "↑↓"),
    b(C::Log, DOWN, A::Down, "scroll down", false),
    b(
        C::Log,
        &[Key::code(KeyCode::PageUp)],
        A::PageUp,
        "a page up",
        false,
    ),
    b(
        C::Log,
        &[Key::code(KeyCode::PageDown)],
        A::PageDown,
        "a page down",
        false,
    ),
    b(C::Log, &[Key::code(KeyCode::Home)], A::First, "oldest", false),
    b(C::Log, &[Key::code(KeyCode::End)], A::Last, "newest", false),
    b(C::Review, HELP, A::Help, "help", true),
    b(C::Review, QUIT, A::Quit, "quit", false),
    // Wizard step 1: the two questions.
    pair(
        C::GuideChoose,
        &[Key::code(KeyCode::Up), Key::code(KeyCode::Down)],
        A::Down,
        "other question",
        "↑↓",
    ),
    pair(
        C::GuideChoose,
        &[Key::code(KeyCode::Left), Key::code(KeyCode::Right)],
        A::Right,
        "change the answer",
        "←→",
    ),
    b(
        C::GuideChoose,
        ENTER,
        A::Open,
        "continue (with these answers)",
        true,
    ),
    b(C::GuideChoose, ESC, A::Back, "back (to the list)", true),
    b(C::GuideChoose, HELP, A::Help, "help", true),
    b(C::GuideChoose, QUIT, A::Quit, "quit", false),
    // Wizard step 1: an app I already have.
    pair(C::GuideApps, UP, A::Up, "choose an app", "↑↓"),
    b(C::GuideApps, DOWN, A::Down, "next app", false),
    b(
        C::GuideApps,
        ENTER,
        A::Open,
        "use this app (the server form next)",
        true,
    ),
    b(C::GuideApps, ESC, A::Back, "back (to the questions)", true),
    b(C::GuideApps, HELP, A::Help, "help", true),
    b(C::GuideApps, QUIT, A::Quit, "quit", false),
    // Wizard step 1 with the setup script.
    b(
        C::Script,
        &[Key::ch('y')],
        A::Copy,
        "copy (the whole script, to the clipboard)",
        true,
    ),
    b(
        C::Script,
        &[Key::code(KeyCode::Tab)],
        A::NextField,
        "setup code (type or paste the script's last line)",
        true,
    ),
    b(C::Script, ENTER, A::Submit, "use the setup code", false),
    pair(
        C::Script,
        &[Key::code(KeyCode::Left), Key::code(KeyCode::Right)],
        A::Right,
        "bash / PowerShell (switch the script)",
        "←→",
    ),
    b(C::Script, UP, A::Up, "scroll the script up", false),
    b(C::Script, DOWN, A::Down, "scroll the script down", false),
    b(
        C::Script,
        &[Key::code(KeyCode::PageUp)],
        A::ScrollUp,
        "scroll the script up a page",
        false,
    ),
    b(
        C::Script,
        &[Key::code(KeyCode::PageDown)],
        A::ScrollDown,
        "scroll the script down a page",
        false,
    ),
    b(C::Script, ESC, A::Back, "back (to the choice)", true),
    b(C::Script, HELP, A::Help, "help", true),
    b(C::Script, QUIT, A::Quit, "quit", false),
    // Step 1's setup-code field focused.
    b(C::ScriptCode, ENTER, A::Submit, "use the setup code", true),
    b(
        C::ScriptCode,
        &[Key::code(KeyCode::Tab), Key::code(KeyCode::Esc)],
        A::NextField,
        "leave the field",
        true,
    ),
    // Wizard step 1 in the portal: the client ID and tenant fields.
    b(
        C::GuideRegister,
        &[Key::code(KeyCode::Tab), Key::code(KeyCode::Down)],
        A::NextField,
        "next field",
        true,
    ),
    b(
        C::GuideRegister,
        &[Key::code(KeyCode::BackTab), Key::code(KeyCode::Up)],
        A::PrevField,
        "previous field",
        false,
    ),
    b(
        C::GuideRegister,
        &[Key::ctrl('y')],
        A::Copy,
        "copy (the redirect URL, to the clipboard)",
        true,
    ),
    b(C::GuideRegister, ENTER, A::Open, "next (step)", true),
    b(C::GuideRegister, ESC, A::Back, "back (to the choice)", true),
    // Wizard step 3.
    b(C::Guide, ENTER, A::Open, "next (step)", true),
    b(C::Guide, ESC, A::Back, "back (previous step)", true),
    b(
        C::Guide,
        &[Key::ch('y')],
        A::Copy,
        "copy (the URL shown, to the clipboard)",
        true,
    ),
    b(C::Guide, HELP, A::Help, "help", true),
    b(C::Guide, QUIT, A::Quit, "quit", false),
    // Wizard step 2: the secret Value and its expiry.
    b(
        C::GuideText,
        &[Key::code(KeyCode::Tab), Key::code(KeyCode::Down)],
        A::NextField,
        "next field",
        true,
    ),
    b(
        C::GuideText,
        &[Key::code(KeyCode::BackTab), Key::code(KeyCode::Up)],
        A::PrevField,
        "previous field",
        false,
    ),
    b(
        C::GuideText,
        &[Key::ctrl('r')],
        A::Reveal,
        "show secret (toggle)",
        true,
    ),
    b(C::GuideText, ENTER, A::Open, "next (step)", true),
    b(C::GuideText, ESC, A::Back, "back (previous step)", true),
    // The server form.
    b(
        C::Form,
        &[Key::code(KeyCode::Tab), Key::code(KeyCode::Down)],
        A::NextField,
        "next field",
        true,
    ),
    b(
        C::Form,
        &[Key::code(KeyCode::BackTab), Key::code(KeyCode::Up)],
        A::PrevField,
        "previous field",
        false,
    ),
    pair(
        C::Form,
        &[Key::code(KeyCode::Left)],
        A::Left,
        "choice (previous; on Authentication, Azure app)",
        "←→",
    ),
    b(
        C::Form,
        &[Key::code(KeyCode::Right)],
        A::Right,
        "next choice",
        false,
    ),
    b(
        C::Form,
        &[Key::ctrl('r')],
        A::Reveal,
        "show secret (toggle)",
        true,
    ),
    b(C::Form, ENTER, A::Submit, "save (validates first)", true),
    b(C::Form, ESC, A::Back, "back (previous step)", true),
    // Connect (sign-in).
    b(
        C::Connect,
        &[Key::ch('y')],
        A::Copy,
        "copy link (the sign-in link, to the clipboard)",
        true,
    ),
    b(
        C::Connect,
        &[Key::code(KeyCode::Tab)],
        A::NextField,
        "paste (type or paste the address your browser ended on)",
        true,
    ),
    b(
        C::Connect,
        &[Key::ch('d')],
        A::DeviceCode,
        "device code (sign in on any device; needs public client flows)",
        true,
    ),
    b(
        C::Connect,
        ESC,
        A::Back,
        "cancel (stops the listener, frees the port)",
        true,
    ),
    b(C::Connect, &[Key::ch('o')], A::OpenBrowser, "open browser", true),
    b(
        C::Connect,
        &[Key::code(KeyCode::PageDown)],
        A::ScrollDown,
        "scroll down (a short terminal)",
        false,
    ),
    b(
        C::Connect,
        &[Key::code(KeyCode::PageUp)],
        A::ScrollUp,
        "scroll up (a short terminal)",
        false,
    ),
    b(
        C::Connect,
        &[Key::code(KeyCode::Enter), Key::ch('c')],
        A::Connect,
        "connect (or try again)",
        true,
    ),
    b(C::Connect, HELP, A::Help, "help", true),
    b(C::Connect, QUIT, A::Quit, "quit", false),
    // Connect with nothing waiting.
    b(
        C::ConnectIdle,
        &[Key::code(KeyCode::Enter), Key::ch('c')],
        A::Connect,
        "try again",
        true,
    ),
    b(
        C::ConnectIdle,
        &[Key::ch('d')],
        A::DeviceCode,
        "device code (sign in on any device; needs public client flows)",
        true,
    ),
    b(C::ConnectIdle, ESC, A::Back, "back", true),
    b(C::ConnectIdle, HELP, A::Help, "help", true),
    b(C::ConnectIdle, QUIT, A::Quit, "quit", false),
    // Step 5 in the demo.
    b(
        C::DemoConnect,
        &[Key::ch('s')],
        A::DemoSignIn,
        "sign in as the demo user (a real request, as a browser would)",
        true,
    ),
    // Step 5, the paste-back field focused.
    b(
        C::ConnectPaste,
        ENTER,
        A::Submit,
        "use the address (the wait goes on if it is wrong)",
        true,
    ),
    b(
        C::ConnectPaste,
        &[Key::code(KeyCode::Tab), Key::code(KeyCode::Esc)],
        A::NextField,
        "leave the field (the sign-in goes on)",
        true,
    ),
    // Step 5, device code shown.
    b(
        C::Device,
        &[Key::ch('y')],
        A::Copy,
        "copy code (the user code, to the clipboard)",
        true,
    ),
    b(
        C::Device,
        &[Key::ch('d')],
        A::DeviceCode,
        "device code again (after a failure)",
        false,
    ),
    b(
        C::Device,
        ESC,
        A::Back,
        "back (stops device code; the link still works)",
        true,
    ),
    b(C::Device, HELP, A::Help, "help", true),
    b(C::Device, QUIT, A::Quit, "quit", false),
    // Step 5, admin consent needed.
    b(
        C::AdminConsent,
        &[Key::ch('a')],
        A::GrantAdmin,
        "admin (I am an admin: grant for the organization)",
        true,
    ),
    b(
        C::AdminConsent,
        &[Key::ch('y')],
        A::Copy,
        "copy link (to send to your admin)",
        true,
    ),
    b(
        C::AdminConsent,
        &[Key::code(KeyCode::Enter), Key::ch('c')],
        A::Connect,
        "sign in again (once an admin granted it)",
        true,
    ),
    b(C::AdminConsent, ESC, A::Back, "back", true),
    b(C::AdminConsent, HELP, A::Help, "help", true),
    b(C::AdminConsent, QUIT, A::Quit, "quit", false),
    // Step 5, the admin consent page waiting.
    b(
        C::AdminWaiting,
        &[Key::ch('y')],
        A::Copy,
        "copy link (the admin consent page, to the clipboard)",
        true,
    ),
    b(
        C::AdminWaiting,
        &[Key::ch('o')],
        A::OpenBrowser,
        "open browser",
        true,
    ),
    b(
        C::AdminWaiting,
        &[Key::code(KeyCode::Tab)],
        A::NextField,
        "paste (the address the admin's browser ended on)",
        true,
    ),
    b(
        C::AdminWaiting,
        ESC,
        A::Back,
        "cancel (stops the listener; both ways stay open)",
        true,
    ),
    b(C::AdminWaiting, HELP, A::Help, "help", true),
    b(C::AdminWaiting, QUIT, A::Quit, "quit", false),
    // Token valid.
    b(
        C::Token,
        &[Key::code(KeyCode::Enter), Key::ch('t')],
        A::Test,
        "test (Test & Confirm)",
        true,
    ),
    b(C::Token, &[Key::ch('c')], A::Connect, "re-connect", true),
    b(C::Token, ESC, A::Back, "back to the list", true),
    b(C::Token, HELP, A::Help, "help", true),
    b(C::Token, QUIT, A::Quit, "quit", false),
    // The Exchange step (app-only).
    b(
        C::Exchange,
        &[Key::ch('y')],
        A::Copy,
        "copy all (one block to paste into PowerShell)",
        true,
    ),
    b(C::Exchange, ENTER, A::Open, "next (Test & Confirm)", true),
    b(
        C::Exchange,
        &[Key::code(KeyCode::PageDown)],
        A::ScrollDown,
        "scroll down (a short terminal)",
        false,
    ),
    b(
        C::Exchange,
        &[Key::code(KeyCode::PageUp)],
        A::ScrollUp,
        "scroll up (a short terminal)",
        false,
    ),
    b(C::Exchange, ESC, A::Back, "back", true),
    b(C::Exchange, HELP, A::Help, "help", true),
    b(C::Exchange, QUIT, A::Quit, "quit", false),
    // Test & Confirm.
    b(C::Test, ENTER, A::Open, "done", true),
    b(C::Test, &[Key::ch('t'), Key::ch('r')], A::Test, "retry", true),
    b(C::Test, &[Key::ch('e')], A::Edit, "edit", true),
    b(C::Test, &[Key::ch('c')], A::Connect, "re-connect", true),
    b(C::Test, ESC, A::Back, "back (cancels a running test)", true),
    b(
        C::Test,
        &[Key::code(KeyCode::PageDown)],
        A::ScrollDown,
        "scroll down (a short terminal)",
        false,
    ),
    b(
        C::Test,
        &[Key::code(KeyCode::PageUp)],
        A::ScrollUp,
        "scroll up (a short terminal)",
        false,
    ),
    b(C::Test, HELP, A::Help, "help", true),
    b(C::Test, QUIT, A::Quit, "quit", false),
    // Test & Confirm of an app-only server.
    b(C::TestAppOnly, ENTER, A::Open, "done", true),
    b(
        C::TestAppOnly,
        &[Key::ch('t'), Key::ch('r')],
        A::Test,
        "retry",
        true,
    ),
    b(C::TestAppOnly, &[Key::ch('e')], A::Edit, "edit", true),
    b(
        C::TestAppOnly,
        &[Key::ch('x')],
        A::Exchange,
        "Exchange commands",
        true,
    ),
    b(
        C::TestAppOnly,
        ESC,
        A::Back,
        "back (cancels a running test)",
        true,
    ),
    b(
        C::TestAppOnly,
        &[Key::code(KeyCode::PageDown)],
        A::ScrollDown,
        "scroll down (a short terminal)",
        false,
    ),
    b(
        C::TestAppOnly,
        &[Key::code(KeyCode::PageUp)],
        A::ScrollUp,
        "scroll up (a short terminal)",
        false,
    ),
    b(C::TestAppOnly, HELP, A::Help, "help", true),
    b(C::TestAppOnly, QUIT, A::Quit, "quit", false),
    // Everywhere.
    b(
        C::Global,
        &[Key::code(KeyCode::F(1))],
        A::Help,
        "help (works in text fields too)",
        // In the hint bar wherever the screen's own `?` is not (text fields type it).
        true,
    ),
    b(C::Global, &[Key::ctrl('c')], A::Quit, "quit", false),
    b(
        C::Global,
        &[Key::code(KeyCode::F(2))],
        A::Messages,
        "messages (the log of status lines; works in text fields too)",
        false,
    ),
];

/// The action for `key` in `ctxs` (first context first).
pub fn resolve(ctxs: &[Ctx], key: &KeyEvent) -> Option<Action> {
    ctxs.iter().find_map(|ctx| {
        KEYMAP
            .iter()
            .filter(|b| b.ctx == *ctx)
            .find(|b| b.keys.iter().any(|k| k.matches(key)))
            .map(|b| b.action)
    })
}

/// Every binding of `ctxs`, in table order per context.
pub fn bindings(ctxs: &[Ctx]) -> Vec<&'static KeyBinding> {
    ctxs.iter()
        .flat_map(|ctx| KEYMAP.iter().filter(move |b| b.ctx == *ctx))
        .collect()
}

/// The key that does `action` in `ctxs` (first context first), as the hint bar writes it
/// ("Enter", "y"); `None` where nothing binds it. Every sentence that names a key is built
/// from this (gitui's `get_hint`), so prose cannot drift from dispatch.
pub fn key_for(ctxs: &[Ctx], action: Action) -> Option<String> {
    ctxs.iter().find_map(|ctx| {
        KEYMAP
            .iter()
            .find(|b| b.ctx == *ctx && b.action == action)
            .map(KeyBinding::short_label)
    })
}

/// Marks, in a sentence, a key that its context does not bind (a test looks for it).
pub const UNBOUND: &str = "‹unbound›";

/// [`key_for`], or the [`UNBOUND`] mark: for sentences that must name a key.
pub fn key_or_mark(ctxs: &[Ctx], action: Action) -> String {
    key_for(ctxs, action).unwrap_or_else(|| format!("{UNBOUND}{action:?}"))
}

/// "Enter starts the sign-in · d device code": the items whose action `ctxs` binds.
pub fn keys_line(ctxs: &[Ctx], items: &[(Action, &str)]) -> String {
    items
        .iter()
        .filter_map(|(a, what)| key_for(ctxs, *a).map(|k| format!("{k} {what}")))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The hint bar's bindings.
/// The hint bar's bindings: one per action, the first context's (so help shows once, as `?`
/// where the screen binds it and as F1 in text fields).
pub fn hints(ctxs: &[Ctx]) -> Vec<&'static KeyBinding> {
    // A popup takes every key but its own: the global F1 does not open help over it.
    let popup = ctxs.iter().any(|c| {
        matches!(
            c,
            Ctx::Help
                | Ctx::Confirm
                | Ctx::Rotate
                | Ctx::Settings
                | Ctx::Bulk
                | Ctx::BulkDone
                | Ctx::Log
                | Ctx::Import
        )
    });
    let mut seen = Vec::new();
    bindings(ctxs)
        .into_iter()
        .filter(|b| b.hint && !(popup && b.ctx == Ctx::Global && b.action == Action::Help))
        .filter(|b| {
            let first = !seen.contains(&b.action);
            seen.push(b.action);
            first
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_mark_is_typeable_in_forms() {
        let q = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(resolve(&[Ctx::Form, Ctx::Global], &q), None);
        assert_eq!(resolve(&[Ctx::Review, Ctx::Global], &q), Some(Action::Help));
        let f1 = KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE);
        assert_eq!(resolve(&[Ctx::Form, Ctx::Global], &f1), Some(Action::Help));
    }

    #[test]
    fn text_contexts_bind_no_printable_key() {
        for b in KEYMAP.iter().filter(|b| b.ctx.is_text()) {
            for k in b.keys {
                let printable = matches!(k.code, KeyCode::Char(_)) && k.mods.is_empty();
                assert!(!printable, "{} binds a printable key", b.desc);
            }
        }
    }
}
