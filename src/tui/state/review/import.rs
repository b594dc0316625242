//! Import from the app: a file path, a dry run first (what would be added, or every bad row
//! named by its line and column), then the import itself, through the same core as
//! `inbound import FILE` (`ops::import`).

use crate::tui::state::cmd::Cmd;
use crate::tui::state::field::TextField;
use crate::tui::state::keymap::Action;
pub use crate::tui::state::msg::ImportFailure;
use crate::tui::state::msg::RunId;
use crate::tui::state::{Model, Popup, Tone};
use ratatui::crossterm::event::KeyEvent;

/// Where the import popup is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// The path is typed.
    Editing,
    /// The dry run is under way.
    Checking(RunId),
    /// The dry run passed: these servers would be added (Enter adds them).
    Checked(Vec<String>),
    /// The import itself is under way.
    Importing(RunId),
    /// The dry run or the import refused the file.
    Failed(ImportFailure),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportForm {
    pub path: TextField,
    pub stage: Stage,
}

impl ImportForm {
    fn running(&self) -> Option<RunId> {
        match self.stage {
            Stage::Checking(r) | Stage::Importing(r) => Some(r),
            _ => None,
        }
    }

    /// A key typed into the path: a changed path is checked again before it is imported.
    pub(crate) fn key(&mut self, key: KeyEvent) {
        if self.running().is_none() && self.path.key(key) {
            self.stage = Stage::Editing;
        }
    }

    pub(crate) fn paste(&mut self, text: &str) {
        if self.running().is_none() {
            self.path.paste(text);
            self.stage = Stage::Editing;
        }
    }
}

impl Model {
    pub(crate) fn open_import(&mut self) {
        self.popup = Some(Popup::Import(Box::new(ImportForm {
            path: TextField::default(),
            stage: Stage::Editing,
        })));
    }

    /// The import popup's path and stage, while it is open (or under the quit question).
    pub fn import_form(&self) -> Option<&ImportForm> {
        [&self.popup, &self.covered].into_iter().find_map(|p| match p {
            Some(Popup::Import(f)) => Some(&**f),
            _ => None,
        })
    }

    fn import_form_mut(&mut self) -> Option<&mut ImportForm> {
        [&mut self.popup, &mut self.covered]
            .into_iter()
            .find_map(|p| match p {
                Some(Popup::Import(f)) => Some(&mut **f),
                _ => None,
            })
    }

    /// True while the import popup's work runs (quitting asks first).
    pub fn import_running(&self) -> bool {
        self.import_form().is_some_and(|f| f.running().is_some())
    }

    pub(crate) fn import_action(&mut self, action: Action) -> Vec<Cmd> {
        let run = self.next_run;
        let Some(Popup::Import(form)) = &mut self.popup else {
            self.popup = None;
            return Vec::new();
        };
        match action {
            // Esc stops waiting for a check (the core's check writes nothing); an import
            // under way is one store transaction and finishes.
            Action::Back if matches!(form.stage, Stage::Importing(_)) => Vec::new(),
            Action::Back => {
                self.popup = None;
                Vec::new()
            }
            Action::Submit if form.running().is_some() => Vec::new(),
            Action::Submit => {
                let path = form.path.value().trim().to_string();
                if path.is_empty() {
                    form.stage = Stage::Failed(ImportFailure {
                        message: "Type the path of a CSV or JSON file first.".into(),
                        rows: Vec::new(),
                    });
                    return Vec::new();
                }
                let dry_run = !matches!(form.stage, Stage::Checked(_));
                form.stage = if dry_run {
                    Stage::Checking(run)
                } else {
                    Stage::Importing(run)
                };
                self.next_run += 1;
                vec![Cmd::Import { run, path, dry_run }]
            }
            _ => Vec::new(),
        }
    }

    /// The answer of a dry run or an import.
    pub(crate) fn on_imported(
        &mut self,
        run: RunId,
        dry_run: bool,
        result: Result<Vec<String>, ImportFailure>,
    ) -> Vec<Cmd> {
        let Some(form) = self.import_form_mut() else {
            return Vec::new();
        };
        if form.running() != Some(run) {
            return Vec::new();
        }
        match result {
            Ok(names) if dry_run => {
                form.stage = Stage::Checked(names);
                Vec::new()
            }
            Ok(names) => {
                self.popup = None;
                if matches!(self.covered, Some(Popup::Import(_))) {
                    self.covered = None;
                }
                let n = names.len();
                let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                let text = match n {
                    0 => "The file has no rows: nothing was added.".to_string(),
                    1 => format!("Added 1 server as Draft: {}.", quoted.join(", ")),
                    n => format!("Added {n} servers as Draft: {}.", quoted.join(", ")),
                };
                self.say(Tone::Ok, text);
                vec![Cmd::Reload]
            }
            Err(failure) => {
                // The whole refusal, every row, also goes to the message log.
                let mut text = failure.message.clone();
                for r in &failure.rows {
                    text.push_str("; ");
                    text.push_str(r);
                }
                form.stage = Stage::Failed(failure);
                self.log_status(Tone::Error, &format!("Import: {text}"));
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::msg::Msg;
    use crate::tui::testing;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    fn typed(m: &mut Model, text: &str) {
        for c in text.chars() {
            m.update(Msg::Text(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
    }

    fn stage(m: &Model) -> Stage {
        m.import_form().expect("the import popup").stage.clone()
    }

    #[test]
    fn a_dry_run_first_then_the_import() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Action(Action::Import));
        assert!(matches!(m.popup, Some(Popup::Import(_))));
        assert!(m.text_focused(), "the path is typed");
        typed(&mut m, "/tmp/desks.csv");
        let cmds = m.update(Msg::Action(Action::Submit));
        let [
            Cmd::Import {
                run,
                path,
                dry_run: true,
            },
        ] = cmds.as_slice()
        else {
            panic!("a dry run first: {cmds:?}");
        };
        assert_eq!(path, "/tmp/desks.csv");
        let run = *run;
        m.update(Msg::Imported {
            run,
            dry_run: true,
            result: Ok(vec!["Desk 1".into(), "Desk 2".into()]),
        });
        assert_eq!(stage(&m), Stage::Checked(vec!["Desk 1".into(), "Desk 2".into()]));
        let cmds = m.update(Msg::Action(Action::Submit));
        let [
            Cmd::Import {
                run, dry_run: false, ..
            },
        ] = cmds.as_slice()
        else {
            panic!("then the import: {cmds:?}");
        };
        let run = *run;
        assert!(m.work_running(), "quitting now asks first");
        let cmds = m.update(Msg::Imported {
            run,
            dry_run: false,
            result: Ok(vec!["Desk 1".into(), "Desk 2".into()]),
        });
        assert!(matches!(cmds.as_slice(), [Cmd::Reload]));
        assert_eq!(m.popup, None);
        let status = m.status.as_ref().map(|s| s.text.as_str()).unwrap_or_default();
        assert_eq!(status, "Added 2 servers as Draft: \"Desk 1\", \"Desk 2\".");
    }

    #[test]
    fn bad_rows_are_all_named_and_a_changed_path_is_checked_again() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Action(Action::Import));
        typed(&mut m, "desks.csv");
        let cmds = m.update(Msg::Action(Action::Submit));
        let [Cmd::Import { run, .. }] = cmds.as_slice() else {
            panic!("{cmds:?}");
        };
        let failure = ImportFailure {
            message: "desks.csv: 2 bad fields; nothing was imported".into(),
            rows: vec![
                "line 3, app: no Azure app named \"Nope\"".into(),
                "line 5, username: empty".into(),
            ],
        };
        m.update(Msg::Imported {
            run: *run,
            dry_run: true,
            result: Err(failure.clone()),
        });
        assert_eq!(stage(&m), Stage::Failed(failure));
        let logged = m.log.last().map(|l| l.text.clone()).unwrap_or_default();
        assert!(
            logged.contains("line 3, app") && logged.contains("line 5, username"),
            "{logged}"
        );
        // Enter on a failure checks again (the file may be fixed); typing starts over.
        typed(&mut m, "x");
        assert_eq!(stage(&m), Stage::Editing);
        let cmds = m.update(Msg::Action(Action::Submit));
        assert!(matches!(cmds.as_slice(), [Cmd::Import { dry_run: true, .. }]));
        m.update(Msg::Action(Action::Back));
        assert_eq!(m.popup, None);
    }

    #[test]
    fn an_empty_path_is_asked_for_and_old_answers_are_ignored() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Action(Action::Import));
        assert!(m.update(Msg::Action(Action::Submit)).is_empty());
        assert!(matches!(stage(&m), Stage::Failed(f) if f.message.contains("Type the path")));
        m.update(Msg::Imported {
            run: 999,
            dry_run: true,
            result: Ok(vec!["Ghost".into()]),
        });
        assert!(matches!(stage(&m), Stage::Failed(_)));
    }
}
