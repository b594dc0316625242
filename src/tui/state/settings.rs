//! The settings popup (`g` on the review): listener port and address, public URL, sign-in
//! timeout, the proxy's and serve's. The core checks and saves (`ops::settings`, the same path as `inbound
//! settings`); this holds the typed text and the errors.

use super::cmd::Cmd;
use super::field::{Fields, TextField};
use super::keymap::Action;
use super::msg::{RunId, SaveError};
use super::{Model, Popup, Tone};
use crate::ops::settings::SettingsText;

/// The fields in order, with the core's field names (errors come back by these).
pub const FIELDS: [crate::model::validate::Field; 12] = [
    crate::model::validate::Field::ListenPort,
    crate::model::validate::Field::PublicUrl,
    crate::model::validate::Field::ListenAddress,
    crate::model::validate::Field::Timeout,
    crate::model::validate::Field::ProxyListen,
    crate::model::validate::Field::ProxyTls,
    crate::model::validate::Field::ProxyMaxConnections,
    crate::model::validate::Field::ServeProxy,
    crate::model::validate::Field::Metrics,
    crate::model::validate::Field::TestEvery,
    crate::model::validate::Field::NotifyCommand,
    crate::model::validate::Field::NotifyUrl,
];

/// The fields' places, in [`FIELDS`] order: the focus ring.
const ORDER: [usize; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsForm {
    /// The typed text of each field by its place in [`FIELDS`], the errors, the focus.
    pub fields: Fields<usize>,
    /// A store error that belongs to no field.
    pub general: Option<String>,
    pub save_run: Option<RunId>,
}

impl SettingsForm {
    pub fn new(current: &SettingsText) -> Self {
        let values = [
            &current.listen_port,
            &current.public_url,
            &current.listen_address,
            &current.consent_timeout_secs,
            &current.proxy_listen,
            &current.proxy_tls,
            &current.proxy_max_connections,
            &current.serve_proxy,
            &current.metrics,
            &current.test_every_secs,
            &current.notify_command,
            &current.notify_url,
        ];
        Self {
            fields: Fields::new(
                0,
                values
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (i, TextField::new(v.as_str()))),
            ),
            general: None,
            save_run: None,
        }
    }

    pub fn text(&self) -> SettingsText {
        let v = |i: usize| self.fields.value(i).to_string();
        SettingsText {
            listen_port: v(0),
            public_url: v(1),
            listen_address: v(2),
            consent_timeout_secs: v(3),
            proxy_listen: v(4),
            proxy_tls: v(5),
            proxy_max_connections: v(6),
            serve_proxy: v(7),
            metrics: v(8),
            test_every_secs: v(9),
            notify_command: v(10),
            notify_url: v(11),
        }
    }

    /// Puts each error under its field (by the core's field name).
    pub fn show_errors(&mut self, errors: Vec<crate::model::validate::FieldError>) {
        self.general = None;
        let mut marked = Vec::new();
        for e in errors {
            match FIELDS.iter().position(|f| *f == e.field) {
                Some(i) => marked.push((i, e.message)),
                None => self.general = Some(e.to_string()),
            }
        }
        self.fields.show_errors(marked, &ORDER);
    }
}

impl Model {
    /// `g`: the settings popup, filled with what is stored.
    pub(crate) fn open_settings(&mut self) -> Vec<Cmd> {
        let current = SettingsText::of(&self.data.config.settings);
        self.popup = Some(Popup::Settings(Box::new(SettingsForm::new(&current))));
        Vec::new()
    }

    /// The settings form: its popup, or under help or the quit question over it.
    pub fn settings(&self) -> Option<&SettingsForm> {
        [&self.popup, &self.covered].into_iter().find_map(|p| match p {
            Some(Popup::Settings(s)) => Some(&**s),
            _ => None,
        })
    }

    fn settings_mut(&mut self) -> Option<&mut SettingsForm> {
        [&mut self.popup, &mut self.covered]
            .into_iter()
            .find_map(|p| match p {
                Some(Popup::Settings(s)) => Some(&mut **s),
                _ => None,
            })
    }

    pub(crate) fn settings_action(&mut self, action: Action) -> Vec<Cmd> {
        let run = self.run_id();
        let Some(Popup::Settings(form)) = &mut self.popup else {
            self.popup = None;
            return Vec::new();
        };
        match action {
            Action::NextField | Action::Down => form.fields.step(&ORDER, 1),
            Action::PrevField | Action::Up => form.fields.step(&ORDER, -1),
            Action::Back => self.popup = None,
            Action::Submit if form.save_run.is_none() => match form.text().parse() {
                Ok(patch) => {
                    form.save_run = Some(run);
                    return vec![Cmd::SaveSettings {
                        run,
                        patch: Box::new(patch),
                    }];
                }
                Err(errors) => {
                    form.show_errors(errors);
                    self.say_fields_need_attention();
                }
            },
            _ => {}
        }
        Vec::new()
    }

    pub(crate) fn on_settings_saved(&mut self, run: RunId, result: Result<(), SaveError>) -> Vec<Cmd> {
        let Some(form) = self.settings_mut().filter(|f| f.save_run == Some(run)) else {
            return Vec::new();
        };
        form.save_run = None;
        match result {
            Ok(()) => {
                self.popup = None;
                if matches!(self.covered, Some(Popup::Settings(_))) {
                    self.covered = None;
                }
                self.say(
                    Tone::Ok,
                    "Settings saved; the next sign-in uses them, a running inbound serve takes them up.",
                );
            }
            Err(SaveError::Fields(errors)) => {
                form.show_errors(errors);
                self.say_fields_need_attention();
            }
            Err(e) => form.general = Some(e.to_string()),
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validate::Field;
    use crate::tui::state::msg::Msg;
    use crate::tui::testing;

    fn focus_and_type(m: &mut Model, field: Field, text: &str) {
        let form = m.settings_mut().unwrap();
        form.fields.focus = FIELDS.iter().position(|f| *f == field).unwrap();
        form.fields.paste(text);
    }

    #[test]
    fn serve_fields_are_saved_through_the_core_and_refused_by_its_check() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Action(Action::Settings));
        focus_and_type(&mut m, Field::NotifyUrl, "ftp://hooks.example.com/x");
        assert!(m.update(Msg::Action(Action::Submit)).is_empty());
        let form = m.settings().unwrap();
        assert_eq!(
            FIELDS[form.fields.focus],
            Field::NotifyUrl,
            "the error's field has focus"
        );
        assert!(
            form.fields
                .errors
                .get(&form.fields.focus)
                .is_some_and(|e| e.contains("http:// or https://")),
            "{form:?}"
        );
        let form = m.settings_mut().unwrap();
        let focus = form.fields.focus;
        form.fields.set(focus, "https://hooks.example.com/x");
        focus_and_type(&mut m, Field::ServeProxy, "yes");
        focus_and_type(&mut m, Field::Metrics, "127.0.0.1:9464");
        focus_and_type(&mut m, Field::TestEvery, "600");
        focus_and_type(&mut m, Field::NotifyCommand, "logger -t inbound");
        let cmds = m.update(Msg::Action(Action::Submit));
        let [Cmd::SaveSettings { patch, .. }] = cmds.as_slice() else {
            panic!("{cmds:?}");
        };
        let s = &patch.serve;
        assert_eq!(s.proxy, Some(Some(true)));
        assert_eq!(s.metrics, Some(Some("127.0.0.1:9464".parse().unwrap())));
        assert_eq!(s.test_every_secs, Some(Some(600)));
        assert_eq!(s.notify_command, Some(Some("logger -t inbound".into())));
        assert_eq!(s.notify_url, Some(Some("https://hooks.example.com/x".into())));
        // Not in the form: left as stored.
        assert_eq!(s.retry_secs, None);
    }
}
