//! Pure rendering: `render(&Model, &mut Frame)` draws only what is in the model.

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

pub fn render(model: &Model, f: &mut Frame) {
    let theme = Theme::new(model.env.color);
    let area = f.area();
    let status_h = u16::from(model.status.is_some());
    let [title, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(status_h),
        Constraint::Length(1),
    ])
    .areas(area);

    title_bar(model, &theme, title, f);
    body_panes(model, &theme, body, f);
    if let Some(s) = &model.status {
        let text = widgets::text::truncate(&s.text, status.width.saturating_sub(1) as usize);
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(format!(" {text}"), theme.tone(s.tone)))),
            status,
        );
    }
    let bindings = keymap::hints(&model.contexts());
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
        Some(Popup::ConfirmUnchecked) => {
            if let Some(r) = model.rotation.as_deref() {
                let why = r.unverified.as_deref().unwrap_or_default();
                popups::confirm::unchecked(&r.app, why, &theme, area, f.buffer_mut());
            } else if let Some(Preflight::Unverified { app, why, .. }) =
                model.wizard().map(|w| &w.form.preflight)
            {
                popups::confirm::unchecked(app, why, &theme, area, f.buffer_mut());
            }
        }
        Some(Popup::Settings) => {
            if let Some(s) = &model.settings {
                popups::settings::render(model, s, &theme, area, f);
            }
        }
        Some(Popup::Rotate) => {
            if let Some(r) = &model.rotation {
                popups::rotate::render(r, &theme, area, f);
            }
        }
        Some(Popup::Bulk) => {
            if let Some(b) = &model.bulk {
                popups::bulk::render(model, b, &theme, area, f.buffer_mut());
            }
        }
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
    if area.width >= screens::table::WIDE && wizard.is_none() {
        screens::table::render(model, theme, area, f.buffer_mut());
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
