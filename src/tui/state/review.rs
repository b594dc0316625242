//! The server list and the details pane: selection and the actions on a stored server.

use super::cmd::Cmd;
use super::keymap::{self, Action, Ctx};
use super::wizard::{Step, Wizard};
use super::{Model, Pane, Popup, Screen, Tone};
use crate::model::{AuthKind, registered_redirect_uri};

pub mod bulk;
pub mod filter;
pub mod import;
pub mod mouse;
pub mod sort;
pub mod view;

/// Lines the details move per scroll key.
const DETAILS_STEP: i32 = 5;
/// The details are never longer than this many lines: scrolling stops there.
const DETAILS_MAX_SCROLL: u16 = 60;

impl Model {
    /// Scrolls the details `delta` lines (the render keeps the last line at the bottom).
    pub(crate) fn scroll_details(&mut self, delta: i32) {
        let to = i32::from(self.details_scroll).saturating_add(delta);
        self.details_scroll = u16::try_from(to.max(0)).unwrap_or(0).min(DETAILS_MAX_SCROLL);
    }

    pub(crate) fn review_action(&mut self, action: Action) -> Vec<Cmd> {
        if self.view.typing {
            return self.find_action(action);
        }
        let selected = self.selected_server().map(|s| (s.name.clone(), s.auth));
        match action {
            Action::Up => {
                self.move_rows(-1);
                Vec::new()
            }
            Action::Down => {
                self.move_rows(1);
                Vec::new()
            }
            // PgUp/PgDn page the list; in the details (Enter on a narrow terminal) they
            // scroll the details, the pane on screen.
            Action::PageUp if self.pane == Pane::Main => {
                self.scroll_details(-DETAILS_STEP);
                Vec::new()
            }
            Action::PageDown if self.pane == Pane::Main => {
                self.scroll_details(DETAILS_STEP);
                Vec::new()
            }
            Action::PageUp => {
                self.move_rows(-(view::PAGE as isize));
                Vec::new()
            }
            Action::PageDown => {
                self.move_rows(view::PAGE as isize);
                Vec::new()
            }
            Action::First => {
                self.select_row(0);
                Vec::new()
            }
            Action::Last => {
                self.select_row(usize::MAX);
                Vec::new()
            }
            Action::Find => {
                self.start_find();
                Vec::new()
            }
            Action::Sort => {
                self.cycle_sort();
                Vec::new()
            }
            Action::Attention => {
                self.toggle_attention();
                Vec::new()
            }
            Action::Mark => {
                self.toggle_mark();
                Vec::new()
            }
            Action::MarkAll => {
                self.mark_all_shown();
                Vec::new()
            }
            Action::TestAll => {
                let all = self.servers().iter().map(|s| s.name.clone()).collect();
                self.start_bulk(bulk::BulkKind::Test, all)
            }
            Action::Test if !self.marks.is_empty() => {
                let marked = self.marked();
                self.start_bulk(bulk::BulkKind::Test, marked)
            }
            Action::Refresh if !self.marks.is_empty() => {
                let marked = self.marked();
                self.start_bulk(bulk::BulkKind::Refresh, marked)
            }
            Action::ScrollDown => {
                self.scroll_details(DETAILS_STEP);
                Vec::new()
            }
            Action::ScrollUp => {
                self.scroll_details(-DETAILS_STEP);
                Vec::new()
            }
            Action::Open if selected.is_some() => {
                self.pane = Pane::Main;
                Vec::new()
            }
            // Esc on the list (not in the details of a narrow terminal) drops a kept find.
            Action::Back if self.pane == Pane::List && self.view.narrowed() => {
                self.clear_find();
                self.view.attention_only = false;
                self.refilter();
                Vec::new()
            }
            Action::Back => {
                self.pane = Pane::List;
                self.reveal = false;
                Vec::new()
            }
            Action::New => {
                let wizard = self.draft.take().unwrap_or_else(|| {
                    let mut w = Wizard::new(&self.data.config);
                    if let Some(d) = &self.env.demo {
                        d.prefill(&mut w);
                    }
                    Box::new(w)
                });
                self.open(*wizard);
                Vec::new()
            }
            Action::Copy => {
                let url = registered_redirect_uri(&self.data.config.settings);
                self.copy(url, "Redirect URL")
            }
            Action::Settings => self.open_settings(),
            Action::Import => {
                self.open_import();
                Vec::new()
            }
            Action::CopyProxy => match selected {
                Some((name, _)) => {
                    let c = crate::ops::proxy::client_settings(&self.data.config.settings, &name);
                    let text = format!(
                        "host {} port {} encryption {} user \"{}\"",
                        c.host,
                        c.port,
                        c.security.client_setting(),
                        c.user
                    );
                    self.copy(text, "Proxy settings")
                }
                None => Vec::new(),
            },
            _ => match selected {
                Some((name, auth)) => self.server_action(action, name, auth),
                None => {
                    if matches!(
                        action,
                        Action::Edit
                            | Action::Connect
                            | Action::Test
                            | Action::Refresh
                            | Action::Delete
                            | Action::Rotate
                            | Action::Exchange
                    ) {
                        if self.servers().is_empty() {
                            let new = keymap::key_or_mark(&[Ctx::Review], Action::New);
                            self.say(Tone::Info, format!("No server yet: press {new} to add one."));
                        } else {
                            let back = keymap::key_or_mark(&[Ctx::Review], Action::Back);
                            self.say(
                                Tone::Info,
                                format!("No server matches the find: {back} shows the whole list."),
                            );
                        }
                    }
                    Vec::new()
                }
            },
        }
    }

    /// Keys while the find field is open: moving through the matches, keeping or clearing it.
    fn find_action(&mut self, action: Action) -> Vec<Cmd> {
        match action {
            Action::Up => self.move_rows(-1),
            Action::Down => self.move_rows(1),
            Action::Submit => self.keep_find(),
            Action::Back => self.clear_find(),
            _ => {}
        }
        Vec::new()
    }

    fn server_action(&mut self, action: Action, name: String, auth: AuthKind) -> Vec<Cmd> {
        match action {
            Action::Edit => {
                self.open(Wizard::for_server(&self.data.config, &name, Step::Form));
                Vec::new()
            }
            Action::Connect if auth == AuthKind::Basic => {
                self.say(
                    Tone::Info,
                    format!(
                        "\"{name}\" uses Basic authentication: there is no sign-in; {} tests the password.",
                        keymap::key_or_mark(&[Ctx::Review], Action::Test)
                    ),
                );
                Vec::new()
            }
            Action::Connect if auth == AuthKind::OAuth2App => {
                let keys = keymap::keys_line(
                    &[Ctx::Review],
                    &[
                        (Action::Exchange, "shows the Exchange commands"),
                        (Action::Test, "tests"),
                    ],
                );
                self.say(
                    Tone::Info,
                    format!("\"{name}\" uses app-only access: there is no sign-in; the app's own credentials get its token. {keys}."),
                );
                Vec::new()
            }
            Action::Exchange if auth == AuthKind::OAuth2App => {
                self.open_and_enter(Wizard::for_server(&self.data.config, &name, Step::Exchange))
            }
            Action::Exchange => {
                self.say(
                    Tone::Info,
                    format!(
                        "\"{name}\" uses {}, not app-only access: the Exchange commands are for app-only servers.",
                        auth.label()
                    ),
                );
                Vec::new()
            }
            Action::Connect => {
                self.open_and_enter(Wizard::for_server(&self.data.config, &name, Step::Connect))
            }
            Action::Test => self.open_and_enter(Wizard::for_server(&self.data.config, &name, Step::Test)),
            Action::Refresh if auth == AuthKind::Basic => {
                self.say(
                    Tone::Info,
                    format!("\"{name}\" uses Basic authentication: no token to refresh."),
                );
                Vec::new()
            }
            Action::Refresh => {
                let signed_in = self.data.tokens.get(&name).is_some_and(|f| f.tokens.is_some());
                // App-only needs nobody signed in: a refresh fetches a token from the app's
                // own credentials.
                if !signed_in && auth != AuthKind::OAuth2App {
                    self.say(
                        Tone::Warn,
                        format!(
                            "\"{name}\" is not signed in yet: press {} to connect.",
                            keymap::key_or_mark(&[Ctx::Review], Action::Connect)
                        ),
                    );
                    return Vec::new();
                }
                let run = self.run_id();
                self.refreshing.insert(name.clone(), run);
                self.manual_refresh = Some(run);
                self.say(Tone::Info, format!("Refreshing the token of \"{name}\"…"));
                vec![Cmd::Refresh {
                    run,
                    server: name,
                    force: true,
                }]
            }
            Action::Reveal => {
                self.reveal = !self.reveal;
                Vec::new()
            }
            Action::Delete => {
                self.popup = Some(Popup::ConfirmDelete(name));
                Vec::new()
            }
            Action::Rotate => self.open_rotation(&name, auth),
            _ => Vec::new(),
        }
    }

    pub fn select(&mut self, index: usize) {
        if index != self.selected {
            self.reveal = false;
            self.details_scroll = 0;
        }
        self.selected = index;
    }

    pub(crate) fn select_name(&mut self, name: &str) {
        if let Some(i) = self.servers().iter().position(|s| s.name == name) {
            // A server the find hides comes back into view with the whole list.
            if !self.view.shown.contains(&i) {
                self.view.query.clear();
                self.view.typing = false;
                self.view.attention_only = false;
                self.refilter();
            }
            self.select(i);
        }
    }

    /// `inbound NAME`: the app starts on that server, its details shown (on a narrow
    /// terminal too).
    pub fn open_on(&mut self, name: &str) {
        if self.data.config.server(name).is_some() {
            self.select_name(name);
            self.pane = Pane::Main;
        }
    }

    /// Shows a wizard in the main pane (the secret is re-masked when leaving the details).
    pub(crate) fn open(&mut self, wizard: Wizard) {
        self.reveal = false;
        self.pane = Pane::Main;
        self.screen = Screen::Wizard(Box::new(wizard));
    }

    /// Copies `text`; the answer ([`Self::on_copied`]) says honestly what happened. Whatever
    /// the route, the text is also printed to the scrollback when the app ends.
    pub(crate) fn copy(&mut self, text: String, what: &str) -> Vec<Cmd> {
        if !self.copied.iter().any(|(_, t)| *t == text) {
            self.copied.push((what.to_string(), text.clone()));
        }
        vec![Cmd::Copy {
            text,
            what: what.to_string(),
        }]
    }

    pub(crate) fn on_copied(
        &mut self,
        what: &str,
        result: Result<crate::tui::state::copied::Route, crate::tui::state::copied::CopyError>,
    ) -> Vec<Cmd> {
        use crate::tui::state::copied::Route;
        let later = "it is also printed when you quit";
        match result {
            Ok(Route::TmuxBuffer) => self.say(
                Tone::Ok,
                format!("{what} copied to tmux's paste buffer (prefix ] pastes it; tmux passes it on to your terminal's clipboard if allowed); {later}."),
            ),
            Ok(Route::Osc52) => self.say(
                Tone::Ok,
                format!("{what} sent to the terminal's clipboard (OSC 52), which some terminals ignore; {later}, or select it on screen."),
            ),
            Err(e) => self.say(Tone::Warn, format!("Could not copy the {what}: {e}; {later}, or select it on screen.")),
        }
        Vec::new()
    }

    pub(crate) fn delete(&mut self, name: String) -> Vec<Cmd> {
        let run = self.run_id();
        self.deleting = Some(run);
        self.say(Tone::Info, format!("Deleting \"{name}\"…"));
        vec![Cmd::Delete { run, name }]
    }

    pub(crate) fn on_deleted(
        &mut self,
        run: u64,
        name: &str,
        result: Result<crate::ops::servers::Removed, std::sync::Arc<crate::ops::Error>>,
    ) -> Vec<Cmd> {
        if self.deleting != Some(run) {
            return Vec::new();
        }
        self.deleting = None;
        match result {
            Ok(removed) => {
                self.refreshing.remove(name);
                let mut text = match &removed.tokens_left {
                    None => format!("Deleted \"{name}\" and its tokens."),
                    Some((path, why)) => format!(
                        "Deleted \"{name}\", but its token file {} could not be deleted ({why}); delete it by hand.",
                        path.display()
                    ),
                };
                if let Some(app) = removed.unused_app {
                    text.push_str(&format!(
                        " Azure app \"{app}\" is used by no server now; it stays stored with its secret."
                    ));
                }
                let tone = if removed.tokens_left.is_some() {
                    Tone::Error
                } else {
                    Tone::Ok
                };
                self.say(tone, text);
                self.pane = Pane::List;
            }
            Err(e) => self.say(Tone::Error, format!("Could not delete \"{name}\": {e}")),
        }
        vec![Cmd::Reload]
    }
}
