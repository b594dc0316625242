//! Pure rendering: `render(&Model, &mut Frame)` draws only what is in the model.

pub mod fix;
pub mod hit;
pub mod popups;
pub mod screens;
pub mod theme;
pub mod widgets;

#[cfg(test)]
mod tests;

use crate::tui::state::keymap;
use crate::tui::state::wizard::Step;
use crate::tui::state::wizard::preflight::Preflight;
use crate::tui::state::{Model, Pane, Popup, Screen};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use theme::Theme;

/// Below this width only one pane shows at a time.
pub const NARROW: u16 = 70;
/// Width of the server list in the two-pane layout.
pub const LIST_WIDTH: u16 = 26;
/// At most this many rows of status line (a longer one is cut on its last row).
const STATUS_ROWS: usize = 3;

/// The status line's rows at `width`: a long one wraps (up to [`STATUS_ROWS`]) rather than
/// being cut where it says what to do; past that, its last row says where it is whole.
fn status_lines(model: &Model, width: u16) -> Vec<String> {
    let Some(s) = model.status.as_ref() else {
        return Vec::new();
    };
    let room = usize::from(width.saturating_sub(2)).max(8);
    let mut lines = widgets::text::wrap(&s.text, room);
    if lines.len() > STATUS_ROWS {
        let rest = lines.split_off(STATUS_ROWS - 1).join(" ");
        let last = match model.key(keymap::Action::Messages) {
            Some(key) => {
                let tail = format!(" ({key}: whole)");
                let cut = widgets::text::truncate(&rest, room.saturating_sub(widgets::text::cols(&tail)));
                format!("{cut}{tail}")
            }
            None => widgets::text::truncate(&rest, room),
        };
        lines.push(last);
    }
    lines
}

/// The frame's rows: title, body, status line (when there is one), hint bar.
pub fn frame_areas(model: &Model, area: Rect) -> [Rect; 4] {
    let status_h = u16::try_from(status_lines(model, area.width).len()).unwrap_or(1);
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(status_h),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// How the review screen uses the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewLayout {
    /// A wide terminal: the table, the details beside or below.
    Table { table: Rect, details: Rect },
    /// The list at the left, the details at the right.
    TwoPane { list: Rect, details: Rect },
    /// A narrow terminal showing the list.
    ListOnly(Rect),
    /// A narrow terminal showing the details.
    DetailsOnly(Rect),
}

/// Where the review screen draws what (also where a click lands).
pub fn review_layout(model: &Model, body: Rect) -> ReviewLayout {
    if body.width >= screens::table::WIDE {
        let [table, details] = screens::table::split(body);
        return ReviewLayout::Table { table, details };
    }
    if body.width < NARROW {
        return match model.pane {
            Pane::List => ReviewLayout::ListOnly(body),
            Pane::Main => ReviewLayout::DetailsOnly(body),
        };
    }
    let [list, details] =
        Layout::horizontal([Constraint::Length(LIST_WIDTH), Constraint::Min(20)]).areas(body);
    ReviewLayout::TwoPane { list, details }
}

pub fn render(model: &Model, f: &mut Frame) {
    let theme = Theme::new(model.env.color);
    let area = f.area();
    let [title, body, status, hints] = frame_areas(model, area);

    title_bar(model, &theme, title, f);
    body_panes(model, &theme, body, f);
    if let Some(s) = &model.status {
        let lines: Vec<Line> = status_lines(model, area.width)
            .into_iter()
            .map(|l| Line::from(Span::styled(format!(" {l}"), theme.tone(s.tone))))
            .collect();
        f.render_widget(Paragraph::new(lines), status);
    }
    let bindings = shown_hints(model);
    f.render_widget(
        Paragraph::new(widgets::hints::hint_line(&bindings, &theme, hints.width)),
        hints,
    );
    match &model.popup {
        Some(Popup::Help) => popups::help::render(model, &theme, area, f.buffer_mut()),
        Some(Popup::ConfirmDelete(name)) => {
            let config = &model.data.config;
            let app = config.server(name).and_then(|s| s.app.clone());
            let others = app
                .as_deref()
                .map_or(0, |a| config.servers_using(a).len().saturating_sub(1));
            popups::confirm::delete(name, app.as_deref(), others, &theme, area, f.buffer_mut());
        }
        Some(Popup::ConfirmQuit) => popups::confirm::quit(model.work_running(), &theme, area, f.buffer_mut()),
        Some(Popup::ConfirmUnchecked(Some(r))) => {
            let why = r.unverified.as_deref().unwrap_or_default();
            popups::confirm::unchecked(&r.app, why, &theme, area, f.buffer_mut());
        }
        Some(Popup::ConfirmUnchecked(None)) => {
            if let Some(Preflight::Unverified { app, why, .. }) = model.wizard().map(|w| &w.form.preflight) {
                popups::confirm::unchecked(app, why, &theme, area, f.buffer_mut());
            }
        }
        Some(Popup::Settings(s)) => popups::settings::render(model, s, &theme, area, f),
        Some(Popup::Rotate(r)) => popups::rotate::render(r, &theme, area, f),
        Some(Popup::Bulk) => {
            if let Some(b) = &model.bulk {
                popups::bulk::render(model, b, &theme, area, f.buffer_mut());
            }
        }
        Some(Popup::Log) => popups::log::render(model, &theme, area, f.buffer_mut()),
        Some(Popup::Import(form)) => popups::import::render(form, model.frame, &theme, area, f),
        None => {}
    }
    clean_screen(f.buffer_mut());
}

/// The last pass over every frame: whatever a screen drew (a name from a hand-edited store,
/// a typed value, a peer's words), no cell may carry a bidi override or a C1 control.
fn clean_screen(buf: &mut ratatui::buffer::Buffer) {
    for cell in &mut buf.content {
        if let Some(clean) = crate::sanitize::screen_symbol(cell.symbol()) {
            cell.set_symbol(&clean);
        }
    }
}

fn title_bar(model: &Model, theme: &Theme, area: Rect, f: &mut Frame) {
    let servers = model.servers();
    let attention = model.attention();
    let mut right = match servers.len() {
        1 => "1 server".to_string(),
        n => format!("{n} servers"),
    };
    if attention > 0 {
        right.push_str(&format!(
            " · {attention} need{} attention",
            if attention == 1 { "s" } else { "" }
        ));
    }
    // Said when it fits beside the shortest title; a narrow terminal keeps the counts.
    if let Some(serve) = serve_label(model)
        && " inbound".len() + right.chars().count() + serve.chars().count() + 5 <= area.width as usize
    {
        right.push_str(" · ");
        right.push_str(&serve);
    }
    // In the demo every screen says so, before anything else.
    let demo = if model.env.demo.is_some() { " DEMO " } else { "" };
    let mut left = " inbound · incoming mail servers";
    if demo.len() + left.chars().count() + right.chars().count() + 2 > area.width as usize {
        left = " inbound";
    }
    let used = demo.len() + left.chars().count() + right.chars().count() + 1;
    let pad = (area.width as usize).saturating_sub(used);
    let style = if attention > 0 { theme.warn() } else { theme.dim() };
    let line = Line::from(vec![
        Span::styled(
            demo,
            theme.warn().add_modifier(ratatui::style::Modifier::REVERSED),
        ),
        Span::styled(left, theme.title()),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, style),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// Whether `inbound serve` keeps this store (nothing when no serve ever ran here).
fn serve_label(model: &Model) -> Option<String> {
    use crate::ops::serve::status::ServeState;
    match &model.data.serve {
        ServeState::NotRunning => None,
        ServeState::Running(s) => Some(format!(
            "serve ✔ since {}",
            crate::timefmt::in_zone(s.started_at, &model.tz)
        )),
        ServeState::Stopped(_) => Some("serve ✖ not running".into()),
    }
}

fn body_panes(model: &Model, theme: &Theme, area: Rect, f: &mut Frame) {
    let wizard = model.wizard();
    // The sign-in link and the Exchange commands get the whole width so they are never cut
    // by a border (and select cleanly with the mouse).
    let full = wizard.is_some_and(|w| matches!(w.step, Step::Connect | Step::Exchange));
    if full {
        main_pane(model, theme, area, f);
        return;
    }
    if wizard.is_none() {
        match review_layout(model, area) {
            ReviewLayout::Table { .. } => screens::table::render(model, theme, area, f.buffer_mut()),
            ReviewLayout::TwoPane { list, details } => {
                screens::list::render(model, theme, list, true, f.buffer_mut());
                main_pane(model, theme, details, f);
            }
            ReviewLayout::ListOnly(list) => screens::list::render(model, theme, list, true, f.buffer_mut()),
            ReviewLayout::DetailsOnly(details) => main_pane(model, theme, details, f),
        }
        return;
    }
    if area.width < NARROW {
        match (&model.screen, model.pane) {
            (Screen::Review, Pane::List) => screens::list::render(model, theme, area, true, f.buffer_mut()),
            _ => main_pane(model, theme, area, f),
        }
        return;
    }
    let [left, right] = Layout::horizontal([Constraint::Length(LIST_WIDTH), Constraint::Min(20)]).areas(area);
    let list_focused = matches!(model.screen, Screen::Review);
    screens::list::render(model, theme, left, list_focused, f.buffer_mut());
    main_pane(model, theme, right, f);
}

fn main_pane(model: &Model, theme: &Theme, area: Rect, f: &mut Frame) {
    match model.wizard() {
        None => screens::details::render(model, theme, area, f.buffer_mut()),
        Some(w) => screens::wizard::render(model, w, theme, area, f),
    }
}

/// The key table's hints for what is on screen; on an empty list only the keys that do
/// something without a server are offered (what the bar shows and a click finds).
pub fn shown_hints(model: &Model) -> Vec<&'static keymap::KeyBinding> {
    let mut bindings = keymap::hints(&model.contexts());
    if model.wizard().is_none() && model.popup.is_none() && model.servers().is_empty() {
        bindings.retain(|b| !needs_a_server(b.action));
    }
    bindings
}

/// Review keys that act on the selected server (nothing to act on while the list is empty).
fn needs_a_server(action: keymap::Action) -> bool {
    use keymap::Action as A;
    matches!(
        action,
        A::Edit
            | A::Connect
            | A::Test
            | A::Refresh
            | A::CopyProxy
            | A::Rotate
            | A::Reveal
            | A::Exchange
            | A::Delete
            | A::Mark
            | A::Find
            | A::Sort
            | A::Attention
    )
}
