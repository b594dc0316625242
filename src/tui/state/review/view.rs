//! What the server list shows: the servers in the chosen order, narrowed by the find field and
//! the "needs attention" toggle, and where the selection is among them.

use super::filter;
use super::sort::{self, Facts, SortKey};
use crate::model::health::Level;
use crate::tui::state::Model;
use crate::tui::state::field::TextField;
use ratatui::crossterm::event::KeyEvent;

/// How far Ctrl-D / Ctrl-U move the selection.
pub const PAGE: usize = 10;

#[derive(Debug, Clone, Default)]
pub struct ListView {
    /// The find field's text.
    pub query: TextField,
    /// The find field has the keys.
    pub typing: bool,
    /// Only servers at WARNING or CRITICAL.
    pub attention_only: bool,
    pub sort: SortKey,
    /// The user chose the sort (else it follows the default as attention comes and goes).
    pub sort_chosen: bool,
    /// Per server (same index as the store's list): its sort facts.
    pub facts: Vec<Facts>,
    /// Per server: the text the find field matches.
    haystacks: Vec<String>,
    /// Every server's index in sort order.
    order: Vec<usize>,
    /// Per server: its place in `order`.
    rank: Vec<usize>,
    /// The find's answers while a query is typed.
    trail: filter::Trail,
    /// `order` narrowed by the find field and the toggle: the rows of the list.
    pub shown: Vec<usize>,
}

impl ListView {
    /// A find or the toggle narrows the list.
    pub fn narrowed(&self) -> bool {
        self.attention_only || !self.query.value().trim().is_empty()
    }
}

impl Model {
    /// The match texts, after the store was read.
    pub(crate) fn reindex(&mut self) {
        self.view.haystacks = self.servers().iter().map(filter::haystack).collect();
        self.view.trail.clear();
    }

    /// The sort facts come from the health pass (`rederive`); this orders and narrows again.
    pub fn resort(&mut self) {
        if !self.view.sort_chosen {
            self.view.sort = SortKey::default_for(self.derived.attention);
        }
        self.view.order = sort::order(&self.view.facts, self.view.sort);
        self.view.rank = vec![0; self.view.order.len()];
        for (place, i) in self.view.order.iter().enumerate() {
            if let Some(r) = self.view.rank.get_mut(*i) {
                *r = place;
            }
        }
        self.refilter();
    }

    /// Narrows `order` by the find field and the toggle; the selection stays on its server
    /// while it is shown, else goes to the first row.
    pub(crate) fn refilter(&mut self) {
        let facts = &self.view.facts;
        let attention_only = self.view.attention_only;
        self.view.shown = filter::matching(
            &mut self.view.trail,
            self.view.query.value(),
            &self.view.haystacks,
            &self.view.order,
            &self.view.rank,
            |i| {
                !attention_only
                    || facts
                        .get(i)
                        .and_then(|f| f.level)
                        .is_some_and(|l| l >= Level::Warning)
            },
        );
        if !self.view.shown.contains(&self.selected)
            && let Some(first) = self.view.shown.first()
        {
            self.select(*first);
        }
    }

    /// The selection's row in the list (0-based), if it is shown.
    pub fn position(&self) -> Option<usize> {
        self.view.shown.iter().position(|i| *i == self.selected)
    }

    /// Moves the selection to row `row` of the list (clamped).
    pub fn select_row(&mut self, row: usize) {
        let last = self.view.shown.len().saturating_sub(1);
        if let Some(i) = self.view.shown.get(row.min(last)) {
            self.select(*i);
        }
    }

    /// Moves the selection `delta` rows.
    pub(crate) fn move_rows(&mut self, delta: isize) {
        let row = self.position().unwrap_or(0);
        self.select_row(row.saturating_add_signed(delta));
    }

    pub(crate) fn cycle_sort(&mut self) {
        self.view.sort = self.view.sort.next();
        self.view.sort_chosen = true;
        self.resort();
    }

    /// Sorts by `key` as if the user chose it.
    pub fn set_sort(&mut self, key: SortKey) {
        self.view.sort = key;
        self.view.sort_chosen = true;
        self.resort();
    }

    pub(crate) fn toggle_attention(&mut self) {
        self.view.attention_only = !self.view.attention_only;
        self.refilter();
    }

    pub(crate) fn start_find(&mut self) {
        self.view.typing = true;
    }

    /// Esc in the find field: the find is cleared and the whole list comes back.
    pub(crate) fn clear_find(&mut self) {
        self.view.typing = false;
        self.view.query.clear();
        self.refilter();
    }

    /// Enter in the find field: the list stays narrowed, the keys go back to the list.
    pub(crate) fn keep_find(&mut self) {
        self.view.typing = false;
    }

    /// A key typed into the find field (the editing keys of every text field).
    pub(crate) fn find_key(&mut self, key: KeyEvent) {
        if self.view.query.key(key) {
            self.refilter();
        }
    }

    /// Pasted text goes into the find field as one line.
    pub(crate) fn find_paste(&mut self, text: &str) {
        self.view.query.paste(text);
        self.refilter();
    }
}

#[cfg(test)]
mod tests {
    use crate::tui::state::keymap::Action;
    use crate::tui::state::msg::Msg;
    use crate::tui::state::review::sort::SortKey;
    use crate::tui::testing;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn names(m: &crate::tui::state::Model) -> Vec<&str> {
        m.view
            .shown
            .iter()
            .map(|i| m.servers()[*i].name.as_str())
            .collect()
    }

    fn typed(m: &mut crate::tui::state::Model, text: &str) {
        for c in text.chars() {
            m.update(Msg::Text(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
    }

    #[test]
    fn typing_narrows_and_the_selection_follows_the_matches() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Action(Action::Find));
        assert!(m.text_focused(), "printable keys go to the find field");
        typed(&mut m, "contoso mail");
        assert_eq!(names(&m), ["Support inbox", "Sales", "Helpdesk"]);
        m.update(Msg::Action(Action::Down));
        assert_eq!(m.selected_server().map(|s| s.name.as_str()), Some("Sales"));
        // Backspace widens again; the selection stays on its server while it is shown.
        m.update(Msg::Text(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
        assert_eq!(m.selected_server().map(|s| s.name.as_str()), Some("Sales"));
        // Enter keeps the find and gives the keys back to the list.
        m.update(Msg::Action(Action::Submit));
        assert!(!m.view.typing && m.view.narrowed());
        assert!(!m.text_focused());
        // Esc on the list drops it.
        m.update(Msg::Action(Action::Back));
        assert_eq!(m.view.shown.len(), 5);
        assert!(!m.view.narrowed());
    }

    #[test]
    fn attention_toggle_and_sort_keep_the_selected_server() {
        let mut m = testing::model(testing::populated());
        m.select_name("Legacy");
        m.update(Msg::Action(Action::Attention));
        assert_eq!(names(&m), ["Sales", "Billing", "Legacy"]);
        assert_eq!(m.position(), Some(2));
        m.update(Msg::Action(Action::Sort));
        assert_eq!(m.view.sort, SortKey::Health);
        assert_eq!(names(&m), ["Billing", "Legacy", "Sales"]);
        assert_eq!(m.selected_server().map(|s| s.name.as_str()), Some("Legacy"));
        m.update(Msg::Action(Action::Attention));
        assert_eq!(m.view.shown.len(), 5);
    }

    #[test]
    fn the_default_order_follows_attention_until_one_is_chosen() {
        let m = testing::model_default_order(testing::populated());
        assert_eq!(m.view.sort, SortKey::Health);
        let m = testing::model_default_order(testing::app_only());
        assert_eq!(m.view.sort, SortKey::default_for(m.attention()));
        let mut m = testing::model_default_order(testing::populated());
        let _ = m.update(Msg::Loaded(Ok(testing::empty())));
        assert_eq!(
            m.view.sort,
            SortKey::Stored,
            "nothing needs attention in an empty store"
        );
    }

    #[test]
    fn pgup_pgdn_page_the_list_and_scroll_the_details_when_they_are_shown() {
        use crate::tui::state::Pane;
        use crate::tui::state::keymap::{Ctx, resolve};
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let ctxs = [Ctx::Review, Ctx::Global];
        assert_eq!(resolve(&ctxs, &key(KeyCode::PageDown)), Some(Action::PageDown));
        assert_eq!(resolve(&ctxs, &key(KeyCode::PageUp)), Some(Action::PageUp));
        let mut data = testing::populated();
        let template = data.config.servers[1].clone();
        for i in 0..30 {
            let mut s = template.clone();
            s.name = format!("Mailbox {i:02}");
            s.id = crate::store::token_file_stem(&s.name);
            data.config.servers.push(s);
        }
        let mut m = testing::model(data);
        m.update(Msg::Action(Action::PageDown));
        assert_eq!(m.position(), Some(super::PAGE));
        m.update(Msg::Action(Action::PageDown));
        m.update(Msg::Action(Action::PageUp));
        assert_eq!(m.position(), Some(super::PAGE));
        // In the details of a narrow terminal the same keys scroll what is shown.
        m.update(Msg::Action(Action::Open));
        assert_eq!(m.pane, Pane::Main);
        m.update(Msg::Action(Action::PageDown));
        assert_eq!(m.position(), Some(super::PAGE), "the selection stays");
        assert_eq!(m.details_scroll, 5);
        m.update(Msg::Action(Action::PageUp));
        m.update(Msg::Action(Action::PageUp));
        assert_eq!(m.details_scroll, 0, "never above the top");
    }

    #[test]
    fn the_details_scroll_starts_at_the_top_for_each_server() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Action(Action::ScrollDown));
        m.update(Msg::Action(Action::ScrollDown));
        assert_eq!(m.details_scroll, 10);
        m.update(Msg::Action(Action::Down));
        assert_eq!(m.details_scroll, 0, "the next server's details start at the top");
        m.update(Msg::Action(Action::ScrollDown));
        m.update(Msg::Action(Action::Up));
        assert_eq!(m.details_scroll, 0, "and so do the previous one's");
        // A new order keeps the server, and its place in its details.
        m.update(Msg::Action(Action::ScrollDown));
        m.update(Msg::Action(Action::Sort));
        assert_eq!(m.details_scroll, 5);
    }

    #[test]
    fn a_hidden_server_chosen_by_name_brings_the_whole_list_back() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Action(Action::Find));
        typed(&mut m, "legacy");
        m.select_name("Sales");
        assert!(!m.view.narrowed());
        assert_eq!(m.selected_server().map(|s| s.name.as_str()), Some("Sales"));
    }
}
