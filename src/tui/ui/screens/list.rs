//! The left pane: servers, two lines each: the name with the health level glyph at the right
//! (✔ OK, ⚠ WARNING, ✖ CRITICAL), then the state badge (glyph and word, green only when the
//! server is Confirmed *and* healthy) and the token health glyph.

use crate::tui::state::Model;
use crate::tui::state::keymap::{self, Action, Ctx};
use crate::tui::state::review::sort::SortKey;
use crate::tui::ui::theme::{Theme, level_glyph, state_glyph};
use crate::tui::ui::widgets::text::truncate;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

pub fn render(model: &Model, theme: &Theme, area: Rect, focused: bool, buf: &mut Buffer) {
    let servers = model.servers();
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(" Servers ");
    let mut inner = block.inner(area);
    let view = &model.view;
    // The order and the position are shown once they say something: a chosen order, a find,
    // or a list longer than the pane (the store's order of a list that fits needs no words).
    let per_page = (inner.height as usize / 2).max(1);
    let find_row = view.typing || view.narrowed();
    let rows = per_page - usize::from(find_row && per_page > 1);
    let overflow = view.shown.len() > rows;
    if !servers.is_empty()
        && (view.sort != SortKey::Stored || find_row || overflow || !model.marks.is_empty())
    {
        block = block
            .title(Line::from(format!(" by {} ", view.sort.label())).right_aligned())
            .title_bottom(Line::from(Span::styled(
                super::find::position_label(model, inner.width as usize),
                theme.dim(),
            )));
    }
    block.render(area, buf);
    if servers.is_empty() {
        // The key is the list's own: beside an open wizard the screen's keys are the wizard's.
        let new = keymap::key_for(&[Ctx::Review], Action::New).unwrap_or_default();
        let invite = if model.wizard().is_some() {
            vec![Line::from(" The first one is"), Line::from(" being set up →")]
        } else {
            vec![
                Line::from(vec![
                    Span::raw(" Press "),
                    Span::styled(new, theme.key()),
                    Span::raw(" to set up"),
                ]),
                Line::from(" your first mailbox."),
            ]
        };
        let mut lines = vec![
            Line::from(Span::styled(" No servers yet.", theme.dim())),
            Line::default(),
        ];
        lines.extend(invite);
        Paragraph::new(lines).render(inner, buf);
        return;
    }
    if find_row {
        let [row, rest] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
        super::find::find_row(model, theme, row, buf);
        inner = rest;
    }
    if view.shown.is_empty() {
        super::find::no_match(model, theme, inner, buf);
        return;
    }
    let (per_page, offset) = page(model, inner);
    let width = inner.width as usize;
    let mut lines = Vec::new();
    for &i in view.shown.iter().skip(offset).take(per_page) {
        let Some(s) = servers.get(i) else { continue };
        let health = model.health(s);
        let selected = i == model.selected;
        let marker = super::find::marker(model, selected, &s.name);
        let refreshing = model.refreshing.contains_key(&s.name);
        let glyph = if refreshing { "↻" } else { health.token.glyph() };
        let name_w = width.saturating_sub(4);
        let name = format!("{marker}{}", truncate(&s.name, name_w));
        let name_w = name_w + 2;
        let mut first = Line::from(vec![
            Span::raw(format!("{name:<name_w$} ")),
            Span::styled(level_glyph(health.level), theme.level(health.level)),
            Span::raw(" "),
        ]);
        let badge = format!("{} {}", state_glyph(s.state), s.state.label());
        let mut second = Line::from(vec![
            Span::raw("  "),
            Span::styled(format!("{badge:<12}"), theme.badge(s.state, health.level)),
            Span::styled(format!("token {glyph}"), theme.token(health.token)),
        ]);
        if selected && focused {
            first = first.style(theme.selected());
            second = second.style(theme.selected());
        }
        lines.push(first);
        lines.push(second);
    }
    Paragraph::new(lines).render(inner, buf);
}

/// How many servers (two lines each) fit in `inner`, and the first one shown (the selection
/// is on screen).
fn page(model: &Model, inner: Rect) -> (usize, usize) {
    let per_page = (inner.height as usize / 2).max(1);
    let row = model.position().unwrap_or(0);
    (per_page, (row + 1).saturating_sub(per_page))
}

/// The list row (an index into the rows shown) drawn at screen line `y` of a list in `area`.
pub fn row_at(model: &Model, area: Rect, y: u16) -> Option<usize> {
    if model.servers().is_empty() {
        return None;
    }
    let mut inner = Block::new().borders(Borders::ALL).inner(area);
    if model.view.typing || model.view.narrowed() {
        let [_, rest] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
        inner = rest;
    }
    if y < inner.y || y >= inner.bottom() {
        return None;
    }
    let (per_page, offset) = page(model, inner);
    let k = usize::from(y - inner.y) / 2;
    let row = offset + k;
    (k < per_page && row < model.view.shown.len()).then_some(row)
}
