//! The left pane: servers, two lines each: the name with the health level glyph at the right
//! (✔ OK, ⚠ WARNING, ✖ CRITICAL), then the state badge (glyph and word, green only when the
//! server is Confirmed *and* healthy) and the token health glyph.

use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::ui::theme::{Theme, level_glyph, state_glyph};
use crate::tui::ui::widgets::text::truncate;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

pub fn render(model: &Model, theme: &Theme, area: Rect, focused: bool, buf: &mut Buffer) {
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(" Servers ");
    let inner = block.inner(area);
    block.render(area, buf);
    let servers = model.servers();
    if servers.is_empty() {
        let lines = vec![
            Line::from(Span::styled(" No servers yet.", theme.dim())),
            Line::default(),
            Line::from(vec![
                Span::raw(" Press "),
                Span::styled(model.key(Action::New).unwrap_or_default(), theme.key()),
                Span::raw(" to set up"),
            ]),
            Line::from(" your first mailbox."),
        ];
        Paragraph::new(lines).render(inner, buf);
        return;
    }
    let per_page = (inner.height as usize / 2).max(1);
    let offset = (model.selected + 1).saturating_sub(per_page);
    let width = inner.width as usize;
    let mut lines = Vec::new();
    for (i, s) in servers.iter().enumerate().skip(offset).take(per_page) {
        let health = model.health(s);
        let selected = i == model.selected;
        let marker = if selected { "▶ " } else { "  " };
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
