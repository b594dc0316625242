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

/// Where a binding applies: a screen, a screen's mode, or a popup.
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
    /// Step 5. `waiting`: a sign-in waits (a link to copy, a paste field); when none waits
    /// (not started, failed, cancelled) the keys for them are not offered.
    Connect {
        waiting: bool,
    },
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
    /// Test & Confirm. `app_only`: no sign-in, the Exchange step instead.
    Test {
        app_only: bool,
    },
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

/// Step 5, whatever its state: the place its bindings are written for (`when` says the state).
const CONNECT: Ctx = Ctx::Connect { waiting: true };
/// Test & Confirm, whatever the server's kind.
const TEST: Ctx = Ctx::Test { app_only: false };

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

    /// True for a popup: it takes every key but its own.
    pub fn is_popup(self) -> bool {
        matches!(
            self,
            Ctx::Help
                | Ctx::Confirm
                | Ctx::Rotate
                | Ctx::Settings
                | Ctx::Bulk
                | Ctx::BulkDone
                | Ctx::Log
                | Ctx::Import
        )
    }

    /// The place, without its state: what a binding is written for.
    fn place(self) -> Ctx {
        match self {
            Ctx::Connect { .. } => CONNECT,
            Ctx::Test { .. } => TEST,
            c => c,
        }
    }
}

/// A state of the place that a binding needs (atuin's `KeyRule::when`): one place, keys whose
/// meaning depends on its state, instead of a copy of the place per state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Step 5 with a sign-in waiting.
    Waiting,
    /// Step 5 with none waiting.
    NotWaiting,
    /// Test & Confirm of an app-only server.
    AppOnly,
    /// Test & Confirm of a server someone signs in to.
    SignsIn,
}

impl When {
    fn holds(self, ctx: Ctx) -> bool {
        match (self, ctx) {
            (When::Waiting, Ctx::Connect { waiting }) => waiting,
            (When::NotWaiting, Ctx::Connect { waiting }) => !waiting,
            (When::AppOnly, Ctx::Test { app_only }) => app_only,
            (When::SignsIn, Ctx::Test { app_only }) => !app_only,
            _ => false,
        }
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

#[derive(Debug, Clone)]
pub struct KeyBinding {
    pub ctx: Ctx,
    /// The state of `ctx` the binding needs; `None`: every state.
    pub when: Option<When>,
    pub keys: Vec<Key>,
    pub action: Action,
    /// The help popup's words.
    pub desc: &'static str,
    /// The hint bar's words; `None`: shown in the help popup only.
    pub short: Option<&'static str>,
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

    /// True where `ctx` (with its state) is the place of this binding.
    fn applies(&self, ctx: Ctx) -> bool {
        self.ctx == ctx.place() && self.when.is_none_or(|w| w.holds(ctx))
    }

    /// Only in this state of its place.
    fn when(mut self, when: When) -> Self {
        self.when = Some(when);
        self
    }

    /// The hint bar writes the keys as `label` ("↑↓" for a pair).
    fn shown_as(mut self, label: &'static str) -> Self {
        self.hint_label = Some(label);
        self
    }
}

/// A binding in the hint bar (`short`) and the help popup (`desc`).
fn bar(ctx: Ctx, keys: &[Key], action: Action, short: &'static str, desc: &'static str) -> KeyBinding {
    KeyBinding {
        ctx,
        when: None,
        keys: keys.to_vec(),
        action,
        desc,
        short: Some(short),
        hint_label: None,
    }
}

/// A binding in the help popup only.
fn more(ctx: Ctx, keys: &[Key], action: Action, desc: &'static str) -> KeyBinding {
    KeyBinding {
        short: None,
        ..bar(ctx, keys, action, "", desc)
    }
}

use Action as A;
use Ctx as C;

const fn ch(c: char) -> Key {
    Key::ch(c)
}
const fn ctrl(c: char) -> Key {
    Key::ctrl(c)
}
const ENTER: Key = Key::code(KeyCode::Enter);
const ESC: Key = Key::code(KeyCode::Esc);
const TAB: Key = Key::code(KeyCode::Tab);
const BACKTAB: Key = Key::code(KeyCode::BackTab);
const UP: Key = Key::code(KeyCode::Up);
const DOWN: Key = Key::code(KeyCode::Down);
const LEFT: Key = Key::code(KeyCode::Left);
const RIGHT: Key = Key::code(KeyCode::Right);
const PGUP: Key = Key::code(KeyCode::PageUp);
const PGDN: Key = Key::code(KeyCode::PageDown);
const HOME: Key = Key::code(KeyCode::Home);
const END: Key = Key::code(KeyCode::End);
const F1: Key = Key::code(KeyCode::F(1));
const F2: Key = Key::code(KeyCode::F(2));

/// `?` help and `q` quit, on every screen without a text field focused.
#[rustfmt::skip]
fn help_and_quit(ctx: Ctx) -> [KeyBinding; 2] {
    [
        bar (ctx, &[ch('?')], A::Help, "help", "help"),
        more(ctx, &[ch('q')], A::Quit,         "quit"),
    ]
}

/// Moving between the fields of a form.
#[rustfmt::skip]
fn field_ring(ctx: Ctx) -> [KeyBinding; 2] {
    [
        bar (ctx, &[TAB, DOWN],    A::NextField, "next field", "next field"),
        more(ctx, &[BACKTAB, UP],  A::PrevField,               "previous field"),
    ]
}

/// A popup's text that scrolls by lines.
#[rustfmt::skip]
fn scroll_lines(ctx: Ctx) -> [KeyBinding; 2] {
    [
        more(ctx, &[UP, ch('k')],   A::Up,   "scroll up"),
        more(ctx, &[DOWN, ch('j')], A::Down, "scroll down"),
    ]
}

/// A wizard step whose lower part scrolls on a short terminal.
#[rustfmt::skip]
fn scroll_short(ctx: Ctx) -> [KeyBinding; 2] {
    [
        more(ctx, &[PGDN], A::ScrollDown, "scroll down (a short terminal)"),
        more(ctx, &[PGUP], A::ScrollUp,   "scroll up (a short terminal)"),
    ]
}

/// Every binding, one a line: place, keys, action, the hint bar's words (`bar`; `more` is in
/// the help popup only) and the help popup's. Resolution walks the contexts of the moment in
/// order (popup first, then the screen, then Global) and takes the first match; within a
/// place, the first line that matches.
#[rustfmt::skip]
fn table() -> Vec<KeyBinding> {
    let mut t = Vec::new();
    // The help popup.
    t.push(bar (C::Help, &[ESC, ch('?'), ch('q'), F1], A::CloseHelp, "close help", "close help"));
    t.extend(scroll_lines(C::Help));
    t.push(more(C::Help, &[PGUP], A::PageUp,   "page up"));
    t.push(more(C::Help, &[PGDN], A::PageDown, "page down"));
    // The new-client-secret form.
    t.extend(field_ring(C::Rotate));
    t.push(bar (C::Rotate, &[ctrl('r')], A::Reveal, "show secret", "show secret (toggle)"));
    t.push(bar (C::Rotate, &[ENTER],     A::Submit, "save",        "save (then refreshes every server of the app)"));
    t.push(bar (C::Rotate, &[ESC],       A::Back,   "cancel",      "cancel (nothing is saved)"));
    t.push(bar (C::Rotate, &[F1],        A::Help,   "help",        "help"));
    // The settings form.
    t.extend(field_ring(C::Settings));
    t.push(bar (C::Settings, &[ENTER], A::Submit, "save",   "save"));
    t.push(bar (C::Settings, &[ESC],   A::Back,   "cancel", "cancel (nothing is saved)"));
    t.push(bar (C::Settings, &[F1],    A::Help,   "help",   "help"));
    // Yes/no questions.
    t.push(bar (C::Confirm, &[ch('y')],      A::Yes, "yes", "yes"));
    t.push(bar (C::Confirm, &[ch('n'), ESC], A::No,  "no",  "no"));
    // The server list and details.
    t.push(more(C::Review, &[UP, ch('k')],     A::Up,         "previous server"));
    t.push(more(C::Review, &[DOWN, ch('j')],   A::Down,       "next server"));
    t.push(more(C::Review, &[ENTER],           A::Open,       "show details (narrow terminal)"));
    t.push(more(C::Review, &[ESC],             A::Back,       "back to the list (narrow terminal)"));
    t.push(bar (C::Review, &[ch('n')],         A::New,        "new",            "new (wizard for a new server)"));
    t.push(bar (C::Review, &[ch('e')],         A::Edit,       "edit",           "edit"));
    t.push(bar (C::Review, &[ch('c')],         A::Connect,    "connect",        "connect (sign in; also re-connect)"));
    t.push(bar (C::Review, &[ch('t')],         A::Test,       "test",           "test (Test & Confirm)"));
    t.push(bar (C::Review, &[ch('r')],         A::Refresh,    "refresh",        "refresh (the token, now)"));
    t.push(bar (C::Review, &[ch('y')],         A::Copy,       "copy URL",       "copy URL (the redirect URL, to the clipboard)"));
    t.push(more(C::Review, &[ch('p')],         A::CopyProxy,  "copy proxy settings (for a mail program)"));
    t.push(more(C::Review, &[ch('g')],         A::Settings,   "settings (listener, public URL, sign-in wait, proxy)"));
    t.push(more(C::Review, &[ch('s')],         A::Rotate,     "secret (new client secret + expiry for the app)"));
    t.push(more(C::Review, &[ch('v')],         A::Reveal,     "view secret (toggle; hidden on leaving)"));
    t.push(more(C::Review, &[ch(']')],         A::ScrollDown, "scroll the details down (PgDn too, in the details of a narrow terminal)"));
    t.push(more(C::Review, &[ch('[')],         A::ScrollUp,   "scroll the details up (PgUp too, in the details of a narrow terminal)"));
    t.push(more(C::Review, &[ch('x')],         A::Exchange,   "Exchange commands (app-only)"));
    t.push(bar (C::Review, &[ch('d')],         A::Delete,     "delete",         "delete (asks first)"));
    t.push(bar (C::Review, &[ch('/')],         A::Find,       "find",           "find (type to narrow the list: name, mailbox, host, app; 'word matches exactly)"));
    t.push(bar (C::Review, &[ch('o')],         A::Sort,       "order",          "order (health, name, token expiry, secret expiry, last test, as added)"));
    t.push(bar (C::Review, &[ch('a')],         A::Attention,  "attention only", "attention only (toggle: WARNING and CRITICAL)"));
    t.push(more(C::Review, &[HOME],            A::First,      "first server"));
    t.push(more(C::Review, &[END],             A::Last,       "last server"));
    t.push(more(C::Review, &[PGUP, ctrl('u')], A::PageUp,     "a page of servers up"));
    t.push(more(C::Review, &[PGDN, ctrl('d')], A::PageDown,   "a page of servers down"));
    t.push(more(C::Review, &[ch(' ')],         A::Mark,       "mark (t / r then test or refresh every marked server)"));
    t.push(more(C::Review, &[ch('*')],         A::MarkAll,    "mark all shown (again: unmark them)"));
    t.push(more(C::Review, &[ch('T')],         A::TestAll,    "test all (every server, as test --all)"));
    t.push(more(C::Review, &[ch('m')],         A::Messages,   "messages (every status line of this session, whole)"));
    t.push(more(C::Review, &[ch('i')],         A::Import,     "import servers from a file (CSV or JSON, as inbound import; checked first)"));
    t.extend(help_and_quit(C::Review));
    // The batch popup, running and done.
    t.push(bar (C::Bulk, &[ESC], A::Back, "stop", "stop (what has not started; what runs finishes)"));
    t.extend(scroll_lines(C::Bulk));
    t.push(bar (C::BulkDone, &[ENTER, ESC], A::Open,    "close",   "close"));
    t.push(bar (C::BulkDone, &[ch('c')],    A::Connect, "sign in", "sign in (the ones that need it, one by one)"));
    t.extend(scroll_lines(C::BulkDone));
    // The list's find field.
    t.push(bar (C::Filter, &[ENTER], A::Submit, "keep",  "keep (the list stays narrowed; keys go back to the list)"));
    t.push(bar (C::Filter, &[ESC],   A::Back,   "clear", "clear (the whole list again)"));
    t.push(bar (C::Filter, &[UP],    A::Up,     "move",  "move (through the matches)").shown_as("↑↓"));
    t.push(more(C::Filter, &[DOWN],  A::Down,            "next server"));
    // The import popup.
    t.push(bar (C::Import, &[ENTER], A::Submit, "check, then import", "check, then import (the first Enter checks every row and writes nothing; the next imports)"));
    t.push(bar (C::Import, &[ESC],   A::Back,   "close",              "close (nothing is imported)"));
    // The message log popup.
    t.push(bar (C::Log, &[ESC, ch('m'), ch('q')], A::Back, "close",  "close"));
    t.push(bar (C::Log, &[UP, ch('k')],           A::Up,   "scroll", "scroll").shown_as("↑↓"));
    t.push(more(C::Log, &[DOWN, ch('j')],         A::Down,     "scroll down"));
    t.push(more(C::Log, &[PGUP],                  A::PageUp,   "a page up"));
    t.push(more(C::Log, &[PGDN],                  A::PageDown, "a page down"));
    t.push(more(C::Log, &[HOME],                  A::First,    "oldest"));
    t.push(more(C::Log, &[END],                   A::Last,     "newest"));
    // Wizard step 1: the two questions.
    t.push(bar (C::GuideChoose, &[UP, DOWN],    A::Down,  "other question",    "other question").shown_as("↑↓"));
    t.push(bar (C::GuideChoose, &[LEFT, RIGHT], A::Right, "change the answer", "change the answer").shown_as("←→"));
    t.push(bar (C::GuideChoose, &[ENTER],       A::Open,  "continue",          "continue (with these answers)"));
    t.push(bar (C::GuideChoose, &[ESC],         A::Back,  "back",              "back (to the list)"));
    t.extend(help_and_quit(C::GuideChoose));
    // Wizard step 1: an app I already have.
    t.push(bar (C::GuideApps, &[UP, ch('k')],   A::Up,   "choose an app", "choose an app").shown_as("↑↓"));
    t.push(more(C::GuideApps, &[DOWN, ch('j')], A::Down,                  "next app"));
    t.push(bar (C::GuideApps, &[ENTER],         A::Open, "use this app",  "use this app (the server form next)"));
    t.push(bar (C::GuideApps, &[ESC],           A::Back, "back",          "back (to the questions)"));
    t.extend(help_and_quit(C::GuideApps));
    // Wizard step 1 with the setup script.
    t.push(bar (C::Script, &[ch('y')],     A::Copy,       "copy",              "copy (the whole script, to the clipboard)"));
    t.push(bar (C::Script, &[TAB],         A::NextField,  "setup code",        "setup code (type or paste the script's last line)"));
    t.push(more(C::Script, &[ENTER],       A::Submit,                          "use the setup code"));
    t.push(bar (C::Script, &[LEFT, RIGHT], A::Right,      "bash / PowerShell", "bash / PowerShell (switch the script)").shown_as("←→"));
    t.push(more(C::Script, &[UP, ch('k')],   A::Up,         "scroll the script up"));
    t.push(more(C::Script, &[DOWN, ch('j')], A::Down,       "scroll the script down"));
    t.push(more(C::Script, &[PGUP],          A::ScrollUp,   "scroll the script up a page"));
    t.push(more(C::Script, &[PGDN],          A::ScrollDown, "scroll the script down a page"));
    t.push(bar (C::Script, &[ESC],         A::Back,       "back",              "back (to the choice)"));
    t.extend(help_and_quit(C::Script));
    // Step 1's setup-code field focused.
    t.push(bar (C::ScriptCode, &[ENTER],    A::Submit,    "use the setup code", "use the setup code"));
    t.push(bar (C::ScriptCode, &[TAB, ESC], A::NextField, "leave the field",    "leave the field"));
    // Wizard step 1 in the portal: the client ID and tenant fields.
    t.extend(field_ring(C::GuideRegister));
    t.push(bar (C::GuideRegister, &[ctrl('y')], A::Copy, "copy", "copy (the redirect URL, to the clipboard)"));
    t.push(bar (C::GuideRegister, &[ENTER],     A::Open, "next", "next (step)"));
    t.push(bar (C::GuideRegister, &[ESC],       A::Back, "back", "back (to the choice)"));
    // Wizard step 3.
    t.push(bar (C::Guide, &[ENTER],   A::Open, "next", "next (step)"));
    t.push(bar (C::Guide, &[ESC],     A::Back, "back", "back (previous step)"));
    t.push(bar (C::Guide, &[ch('y')], A::Copy, "copy", "copy (the URL shown, to the clipboard)"));
    t.extend(help_and_quit(C::Guide));
    // Wizard step 2: the secret Value and its expiry.
    t.extend(field_ring(C::GuideText));
    t.push(bar (C::GuideText, &[ctrl('r')], A::Reveal, "show secret", "show secret (toggle)"));
    t.push(bar (C::GuideText, &[ENTER],     A::Open,   "next",        "next (step)"));
    t.push(bar (C::GuideText, &[ESC],       A::Back,   "back",        "back (previous step)"));
    // The server form.
    t.extend(field_ring(C::Form));
    t.push(bar (C::Form, &[LEFT],      A::Left,   "choice",      "choice (previous; on Authentication, Azure app)").shown_as("←→"));
    t.push(more(C::Form, &[RIGHT],     A::Right,                 "next choice"));
    t.push(bar (C::Form, &[ctrl('r')], A::Reveal, "show secret", "show secret (toggle)"));
    t.push(bar (C::Form, &[ENTER],     A::Submit, "save",        "save (validates first)"));
    t.push(bar (C::Form, &[ESC],       A::Back,   "back",        "back (previous step)"));
    // Step 5, the sign-in: with a sign-in waiting, and with none (not started, failed,
    // cancelled: no link to copy, no paste field).
    t.push(bar (CONNECT, &[ENTER, ch('c')], A::Connect,     "try again",    "try again").when(When::NotWaiting));
    t.push(bar (CONNECT, &[ch('y')],        A::Copy,        "copy link",    "copy link (the sign-in link, to the clipboard)").when(When::Waiting));
    t.push(bar (CONNECT, &[TAB],            A::NextField,   "paste",        "paste (type or paste the address your browser ended on)").when(When::Waiting));
    t.push(bar (CONNECT, &[ch('d')],        A::DeviceCode,  "device code",  "device code (sign in on any device; needs public client flows)"));
    t.push(bar (CONNECT, &[ESC],            A::Back,        "cancel",       "cancel (stops the listener, frees the port)").when(When::Waiting));
    t.push(bar (CONNECT, &[ESC],            A::Back,        "back",         "back").when(When::NotWaiting));
    t.push(bar (CONNECT, &[ch('o')],        A::OpenBrowser, "open browser", "open browser").when(When::Waiting));
    t.extend(scroll_short(CONNECT).map(|b| b.when(When::Waiting)));
    t.push(bar (CONNECT, &[ENTER, ch('c')], A::Connect,     "connect",      "connect (or try again)").when(When::Waiting));
    t.extend(help_and_quit(CONNECT));
    // Step 5 in the demo.
    t.push(bar (C::DemoConnect, &[ch('s')], A::DemoSignIn, "sign in as the demo user", "sign in as the demo user (a real request, as a browser would)"));
    // Step 5, the paste-back field focused.
    t.push(bar (C::ConnectPaste, &[ENTER],    A::Submit,    "use the address", "use the address (the wait goes on if it is wrong)"));
    t.push(bar (C::ConnectPaste, &[TAB, ESC], A::NextField, "leave the field", "leave the field (the sign-in goes on)"));
    // Step 5, device code shown.
    t.push(bar (C::Device, &[ch('y')], A::Copy,       "copy code", "copy code (the user code, to the clipboard)"));
    t.push(more(C::Device, &[ch('d')], A::DeviceCode,              "device code again (after a failure)"));
    t.push(bar (C::Device, &[ESC],     A::Back,       "back",      "back (stops device code; the link still works)"));
    t.extend(help_and_quit(C::Device));
    // Step 5, admin consent needed.
    t.push(bar (C::AdminConsent, &[ch('a')],        A::GrantAdmin, "admin",         "admin (I am an admin: grant for the organization)"));
    t.push(bar (C::AdminConsent, &[ch('y')],        A::Copy,       "copy link",     "copy link (to send to your admin)"));
    t.push(bar (C::AdminConsent, &[ENTER, ch('c')], A::Connect,    "sign in again", "sign in again (once an admin granted it)"));
    t.push(bar (C::AdminConsent, &[ESC],            A::Back,       "back",          "back"));
    t.extend(help_and_quit(C::AdminConsent));
    // Step 5, the admin consent page waiting.
    t.push(bar (C::AdminWaiting, &[ch('y')], A::Copy,        "copy link",    "copy link (the admin consent page, to the clipboard)"));
    t.push(bar (C::AdminWaiting, &[ch('o')], A::OpenBrowser, "open browser", "open browser"));
    t.push(bar (C::AdminWaiting, &[TAB],     A::NextField,   "paste",        "paste (the address the admin's browser ended on)"));
    t.push(bar (C::AdminWaiting, &[ESC],     A::Back,        "cancel",       "cancel (stops the listener; both ways stay open)"));
    t.extend(help_and_quit(C::AdminWaiting));
    // Token valid.
    t.push(bar (C::Token, &[ENTER, ch('t')], A::Test,    "test",             "test (Test & Confirm)"));
    t.push(bar (C::Token, &[ch('c')],        A::Connect, "re-connect",       "re-connect"));
    t.push(bar (C::Token, &[ch('e')],        A::Edit,    "edit",             "edit the server (Sign in as, after a sign-in as another account)"));
    t.push(bar (C::Token, &[ESC],            A::Back,    "back to the list", "back to the list"));
    t.extend(help_and_quit(C::Token));
    // The Exchange step (app-only).
    t.push(bar (C::Exchange, &[ch('y')], A::Copy, "copy all", "copy all (one block to paste into PowerShell)"));
    t.push(bar (C::Exchange, &[ENTER],   A::Open, "next",     "next (Test & Confirm)"));
    t.extend(scroll_short(C::Exchange));
    t.push(bar (C::Exchange, &[ESC],     A::Back, "back",     "back"));
    t.extend(help_and_quit(C::Exchange));
    // Test & Confirm: re-connect where someone signs in, the Exchange step for app-only.
    t.push(bar (TEST, &[ENTER],            A::Open,     "done",              "done"));
    t.push(bar (TEST, &[ch('t'), ch('r')], A::Test,     "retry",             "retry"));
    t.push(bar (TEST, &[ch('e')],          A::Edit,     "edit",              "edit"));
    t.push(bar (TEST, &[ch('c')],          A::Connect,  "re-connect",        "re-connect").when(When::SignsIn));
    t.push(bar (TEST, &[ch('x')],          A::Exchange, "Exchange commands", "Exchange commands").when(When::AppOnly));
    t.push(bar (TEST, &[ESC],              A::Back,     "back",              "back (cancels a running test)"));
    t.extend(scroll_short(TEST));
    t.extend(help_and_quit(TEST));
    // Everywhere (in the hint bar wherever the screen's own `?` is not: text fields type it).
    t.push(bar (C::Global, &[F1],        A::Help,     "help", "help (works in text fields too)"));
    t.push(more(C::Global, &[ctrl('c')], A::Quit,             "quit"));
    t.push(more(C::Global, &[F2],        A::Messages,         "messages (the log of status lines; works in text fields too)"));
    t
}

/// Every binding (built once from [`table`]).
pub static KEYMAP: std::sync::LazyLock<Vec<KeyBinding>> = std::sync::LazyLock::new(table);

/// The action for `key` in `ctxs` (first context first).
pub fn resolve(ctxs: &[Ctx], key: &KeyEvent) -> Option<Action> {
    ctxs.iter().find_map(|ctx| {
        KEYMAP
            .iter()
            .filter(|b| b.applies(*ctx))
            .find(|b| b.keys.iter().any(|k| k.matches(key)))
            .map(|b| b.action)
    })
}

/// Every binding of `ctxs`, in table order per context.
pub fn bindings(ctxs: &[Ctx]) -> Vec<&'static KeyBinding> {
    ctxs.iter()
        .flat_map(|ctx| KEYMAP.iter().filter(move |b| b.applies(*ctx)))
        .collect()
}

/// The key that does `action` in `ctxs` (first context first), as the hint bar writes it
/// ("Enter", "y"); `None` where nothing binds it. Every sentence that names a key is built
/// from this (gitui's `get_hint`), so prose cannot drift from dispatch.
pub fn key_for(ctxs: &[Ctx], action: Action) -> Option<String> {
    ctxs.iter().find_map(|ctx| {
        KEYMAP
            .iter()
            .find(|b| b.applies(*ctx) && b.action == action)
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

/// The hint bar's bindings: one per action, the first context's (so help shows once, as `?`
/// where the screen binds it and as F1 in text fields).
pub fn hints(ctxs: &[Ctx]) -> Vec<&'static KeyBinding> {
    // A popup takes every key but its own: the global F1 does not open help over it.
    let popup = ctxs.iter().any(|c| c.is_popup());
    let mut seen = Vec::new();
    bindings(ctxs)
        .into_iter()
        .filter(|b| b.short.is_some() && !(popup && b.ctx == Ctx::Global && b.action == Action::Help))
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
            for k in &b.keys {
                let printable = matches!(k.code, KeyCode::Char(_)) && k.mods.is_empty();
                assert!(!printable, "{} binds a printable key", b.desc);
            }
        }
    }
}
