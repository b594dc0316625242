//! The app follows the store: a change written by another process (the CLI, `inbound serve`
//! with its state in `serve.json`, a second app) arrives as [`Msg::StoreChanged`] from the
//! store watcher, and the app reads the store again without a key press. Changes that come
//! while a read is under way make one more read after it, not one each.

use super::Model;
use super::cmd::Cmd;

/// The reads started for store changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Follow {
    /// A read for a change is under way.
    pub reading: bool,
    /// Another change came meanwhile: read once more when it is done.
    pub again: bool,
}

impl Model {
    /// The store changed under the app.
    pub(crate) fn on_store_changed(&mut self) -> Vec<Cmd> {
        if self.follow.reading {
            self.follow.again = true;
            return Vec::new();
        }
        self.follow.reading = true;
        vec![Cmd::Reload]
    }

    /// A read finished (whoever asked for it): one more when changes came meanwhile.
    pub(crate) fn on_store_read(&mut self) -> Vec<Cmd> {
        let again = std::mem::take(&mut self.follow.again);
        self.follow.reading = again;
        if again { vec![Cmd::Reload] } else { Vec::new() }
    }

    /// After a read: the server that was selected stays selected (another process may have
    /// added or removed servers before it).
    pub(crate) fn keep_selected(&mut self, name: Option<String>) {
        if let Some(i) = name.and_then(|n| self.servers().iter().position(|s| s.name == n)) {
            self.selected = i;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::serve::status::{ServeState, ServeStatus};
    use crate::tui::state::cmd::Cmd;
    use crate::tui::state::msg::Msg;
    use crate::tui::testing;

    #[test]
    fn a_change_reads_the_store_once_and_changes_meanwhile_once_more() {
        let mut m = testing::model(testing::populated());
        assert!(matches!(m.update(Msg::StoreChanged).as_slice(), [Cmd::Reload]));
        assert!(m.update(Msg::StoreChanged).is_empty(), "a read is under way");
        assert!(m.update(Msg::StoreChanged).is_empty());
        let data = m.data.clone();
        let cmds = m.update(Msg::Loaded(Ok(data.clone())));
        assert_eq!(
            cmds.iter().filter(|c| matches!(c, Cmd::Reload)).count(),
            1,
            "one more read for the changes that came meanwhile: {cmds:?}"
        );
        let cmds = m.update(Msg::Loaded(Ok(data)));
        assert!(!cmds.iter().any(|c| matches!(c, Cmd::Reload)), "{cmds:?}");
        assert!(matches!(m.update(Msg::StoreChanged).as_slice(), [Cmd::Reload]));
    }

    #[test]
    fn a_read_shows_serve_starting_and_keeps_the_selected_server() {
        let mut m = testing::model(testing::populated());
        let second = m.servers()[1].name.clone();
        m.select_name(&second);
        assert_eq!(m.data.serve, ServeState::NotRunning);
        let mut data = m.data.clone();
        // Another process added a server at the top, and a serve started.
        let mut added = data.config.servers[0].clone();
        added.name = "Added elsewhere".into();
        added.id = "f".repeat(32);
        data.config.servers.insert(0, added);
        let now = m.now;
        data.serve = ServeState::Running(Box::new(ServeStatus {
            pid: 4242,
            started_at: now,
            updated_at: now,
            proxy: false,
            metrics: None,
            next: Default::default(),
        }));
        m.update(Msg::StoreChanged);
        m.update(Msg::Loaded(Ok(data)));
        assert_eq!(
            m.selected_server().map(|s| s.name.as_str()),
            Some(second.as_str())
        );
        assert!(m.data.serve.running().is_some_and(|s| s.pid == 4242));
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
        t.draw(|f| crate::tui::ui::render(&m, f)).unwrap();
        let screen = format!("{}", t.backend());
        assert!(screen.contains("serve ✔ since"), "{screen}");
    }
}
