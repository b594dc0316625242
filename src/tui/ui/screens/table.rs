//! The server list as a table on wide terminals: one row per server with its state, health,
//! token and secret expiry, last test and app. Column widths are display widths; a cell that
//! does not fit ends in "…", never silently.

use crate::model::Server;
use crate::model::health::Health;
use crate::textwidth::{cols, pad, truncate};
use crate::tui::state::Model;
use crate::tui::state::review::sort::SortKey;
use crate::tui::ui::theme::{Theme, level_glyph, state_glyph};
use jiff::Timestamp;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

/// From this width the review shows the table.
pub const WIDE: u16 = 120;
/// From this width the details sit beside the table, else below it.
pub const BESIDE: u16 = 180;
/// Width of the details beside the table.
pub const DETAILS_WIDTH: u16 = 78;

/// The review on a wide terminal: the table, and the selected server's details beside or
/// below it.
pub fn render(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let [table, details] = split(area);
    render_table(model, theme, table, buf);
    super::details::render(model, theme, details, buf);
}

/// Where the table and the details go: side by side from [`BESIDE`], else one above the other.
pub fn split(area: Rect) -> [Rect; 2] {
    if area.width >= BESIDE {
        Layout::horizontal([Constraint::Min(60), Constraint::Length(DETAILS_WIDTH)]).areas(area)
    } else {
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area)
    }
}

/// Inside the table's frame: the find row (if shown) and the rest (header, then rows).
fn frame_inner(model: &Model, area: Rect) -> (Option<Rect>, Rect) {
    let inner = Block::new().borders(Borders::ALL).inner(area);
    if model.view.typing || model.view.narrowed() {
        let [row, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        (Some(row), rest)
    } else {
        (None, inner)
    }
}

/// How many server rows fit under the header, and the first one shown (the selection is on
/// screen).
fn page(model: &Model, inner: Rect) -> (usize, usize) {
    let visible = (inner.height as usize).saturating_sub(1).max(1);
    let row = model.position().unwrap_or(0);
    (visible, (row + 1).saturating_sub(visible))
}

/// The list row (an index into the rows shown) drawn at screen line `y` of a table in `area`.
pub fn row_at(model: &Model, area: Rect, y: u16) -> Option<usize> {
    let (_, inner) = frame_inner(model, area);
    let first = inner.y.checked_add(1)?;
    if y < first || y >= inner.bottom() {
        return None;
    }
    let (visible, offset) = page(model, inner);
    let k = usize::from(y - first);
    let row = offset + k;
    (k < visible && row < model.view.shown.len()).then_some(row)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    State,
    Health,
    TokenUntil,
    SecretUntil,
    LastTest,
    App,
}

impl Col {
    const ALL: [Col; 7] = [
        Col::Name,
        Col::State,
        Col::Health,
        Col::TokenUntil,
        Col::SecretUntil,
        Col::LastTest,
        Col::App,
    ];

    fn title(self) -> &'static str {
        match self {
            Col::Name => "Name",
            Col::State => "State",
            Col::Health => "Health",
            Col::TokenUntil => "Token until",
            Col::SecretUntil => "Secret until",
            Col::LastTest => "Last test",
            Col::App => "App",
        }
    }

    fn sorted_by(self, key: SortKey) -> bool {
        matches!(
            (self, key),
            (Col::Name, SortKey::Name)
                | (Col::Health, SortKey::Health)
                | (Col::TokenUntil, SortKey::TokenExpiry)
                | (Col::SecretUntil, SortKey::SecretExpiry)
                | (Col::LastTest, SortKey::LastTest)
        )
    }

    /// The width of a fixed column (its longest possible cell or its title).
    fn fixed(self) -> Option<usize> {
        let w = match self {
            Col::Name | Col::App => return None,
            Col::State => cols("● Confirmed"),
            Col::Health => cols("✖ CRITICAL"),
            // "✔ 11-28 12:41", "✖ 2026-11-28"
            Col::TokenUntil | Col::LastTest => 13,
            Col::SecretUntil => 12,
        };
        Some(w.max(cols(self.title()) + 2))
    }
}

/// One cell: its text and style.
type Cell = (String, Style);

fn when(model: &Model, t: Timestamp) -> String {
    let z = t.to_zoned(model.tz.clone());
    let today = model.now.to_zoned(model.tz.clone());
    if z.year() == today.year() {
        z.strftime("%m-%d %H:%M").to_string()
    } else {
        z.strftime("%Y-%m-%d").to_string()
    }
}

fn cell(model: &Model, theme: &Theme, col: Col, s: &Server, h: &Health) -> Cell {
    match col {
        Col::Name => (s.name.clone(), Style::default()),
        Col::State => (
            format!("{} {}", state_glyph(s.state), s.state.label()),
            theme.badge(s.state, h.level),
        ),
        Col::Health => (
            format!("{} {}", level_glyph(h.level), h.level.label()),
            theme.level(h.level),
        ),
        Col::TokenUntil => {
            let glyph = if model.refreshing.contains_key(&s.name) {
                "↻"
            } else {
                h.token.glyph()
            };
            let text = match h.access_valid_until {
                Some(t) => format!("{glyph} {}", when(model, t)),
                None => glyph.to_string(),
            };
            (text, theme.token(h.token))
        }
        Col::SecretUntil => match h.secret_expires {
            Some(d) => (d.to_string(), Style::default()),
            None => ("–".into(), theme.dim()),
        },
        Col::LastTest => match &s.last_test {
            Some(t) if t.ok => (format!("✔ {}", when(model, t.at)), Style::default()),
            Some(t) => (format!("✖ {}", when(model, t.at)), theme.err()),
            None => ("never".into(), theme.dim()),
        },
        Col::App => match s.app.as_deref() {
            Some(a) => (a.to_string(), Style::default()),
            None => ("–".into(), theme.dim()),
        },
    }
}

/// Column widths for `width` columns of room (a space between columns, two for the marker):
/// the fixed columns first, then name and app share the rest by what they hold.
fn widths(model: &Model, rows: &[usize], width: usize) -> Vec<usize> {
    let fixed: usize = Col::ALL.iter().filter_map(|c| c.fixed()).sum();
    let gaps = Col::ALL.len() - 1 + 2;
    let rest = width.saturating_sub(fixed + gaps);
    let longest = |f: &dyn Fn(&Server) -> usize| {
        rows.iter()
            .filter_map(|i| model.servers().get(*i))
            .map(f)
            .max()
            .unwrap_or(0)
    };
    let name_need = longest(&|s| cols(&s.name)).max(cols("Name ▼"));
    let app_need = longest(&|s| s.app.as_deref().map_or(1, cols)).max(cols("App"));
    let (name, app) = if name_need + app_need <= rest {
        (rest - app_need, app_need)
    } else {
        // Not enough room: each gets its share, and a column that needs less lends the rest.
        let app = app_need.min(rest * 2 / 5).max(rest.saturating_sub(name_need));
        (rest.saturating_sub(app), app)
    };
    Col::ALL
        .iter()
        .map(|c| match c {
            Col::Name => name,
            Col::App => app,
            other => other.fixed().unwrap_or(0),
        })
        .collect()
}

fn render_table(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let view = &model.view;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(" Servers ")
        .title(Line::from(format!(" by {} ", view.sort.label())).right_aligned());
    let inner = block.inner(area);
    let block = if model.servers().is_empty() {
        block
    } else {
        block.title_bottom(Line::from(Span::styled(
            super::find::position_label(model, inner.width as usize),
            theme.dim(),
        )))
    };
    block.render(area, buf);
    if model.servers().is_empty() {
        super::list::render(model, theme, area, true, buf);
        return;
    }
    let (find, inner) = frame_inner(model, area);
    if let Some(row) = find {
        super::find::find_row(model, theme, row, buf);
    }
    let (visible, offset) = page(model, inner);
    let page: Vec<usize> = view.shown.iter().skip(offset).take(visible).copied().collect();
    let widths = widths(model, &page, inner.width as usize);
    let mut lines = Vec::with_capacity(page.len() + 1);
    let mut header = vec![Span::raw("  ")];
    for (c, w) in Col::ALL.iter().zip(&widths) {
        let title = if c.sorted_by(view.sort) {
            format!("{} ▼", c.title())
        } else {
            c.title().to_string()
        };
        header.push(Span::styled(pad(&truncate(&title, *w), *w), theme.bold()));
        header.push(Span::raw(" "));
    }
    lines.push(Line::from(header));
    if view.shown.is_empty() {
        Paragraph::new(lines).render(inner, buf);
        let [_, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        super::find::no_match(model, theme, rest, buf);
        return;
    }
    for i in page {
        let Some(s) = model.servers().get(i) else { continue };
        let h = model.health(s);
        let selected = i == model.selected;
        let mut spans = vec![Span::raw(super::find::marker(model, selected, &s.name))];
        for (c, w) in Col::ALL.iter().zip(&widths) {
            let (text, style) = cell(model, theme, *c, s, &h);
            spans.push(Span::styled(pad(&truncate(&text, *w), *w), style));
            spans.push(Span::raw(" "));
        }
        let mut line = Line::from(spans);
        if selected {
            line = line.style(theme.selected());
        }
        lines.push(line);
    }
    Paragraph::new(lines).render(inner, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::testing;

    #[test]
    fn name_and_app_share_what_the_fixed_columns_leave() {
        let m = testing::model(testing::populated());
        let rows: Vec<usize> = (0..m.servers().len()).collect();
        // The table shows from 120 columns (118 inside its borders).
        for width in [100usize, 118, 138, 200] {
            let w = widths(&m, &rows, width);
            let used: usize = w.iter().sum::<usize>() + Col::ALL.len() - 1 + 2;
            assert!(used <= width, "{width}: {w:?}");
        }
        let wide = widths(&m, &rows, 138);
        // "Support inbox" and "Contoso mail" fit whole at 138 columns.
        assert!(
            wide[0] >= cols("Support inbox") && wide[6] >= cols("Contoso mail"),
            "{wide:?}"
        );
    }
}
