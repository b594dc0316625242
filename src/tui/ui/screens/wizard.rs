//! The wizard's frame: title, step bar, heading; the step's screen below.

use crate::tui::state::Model;
use crate::tui::state::wizard::form::FieldId;
use crate::tui::state::wizard::{Step, Wizard};
use crate::tui::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, f: &mut Frame) {
    let title = match (&w.server, w.new) {
        (_, true) => format!(" New server · {}/{} ", w.number(), w.flow().len()),
        (Some(name), false) => format!(" {name} "),
        (None, false) => " Server ".to_string(),
    };
    let borders = if matches!(w.step, Step::Connect | Step::Exchange) {
        Borders::TOP
    } else {
        Borders::ALL
    };
    let block = Block::new()
        .borders(borders)
        .border_style(theme.border(true))
        .title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let bar_h = u16::from(w.new);
    let [bar, heading, body] = Layout::vertical([
        Constraint::Length(bar_h),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    if w.new {
        f.render_widget(Paragraph::new(step_bar(w, theme, bar.width)), bar);
    }
    let head = if w.step == Step::Token {
        Span::styled(
            format!("✔ {}", w.step.title()),
            theme.ok().add_modifier(ratatui::style::Modifier::BOLD),
        )
    } else {
        Span::styled(format!("{}. {}", w.number(), w.step.title()), theme.title())
    };
    f.render_widget(Paragraph::new(Line::from(head)), heading);
    let buf_area = body;
    match w.step {
        Step::Register | Step::Secret | Step::Permissions => {
            super::guide::render(model, w, theme, buf_area, f)
        }
        Step::Form => super::form::render(model, &w.form, theme, buf_area, f),
        Step::Connect => super::connect::render(model, w, theme, buf_area, f),
        Step::Exchange => super::exchange::render(model, w, theme, buf_area, f.buffer_mut()),
        Step::Token => super::token::render(model, w, theme, buf_area, f.buffer_mut()),
        Step::Test => super::test::render(model, w, theme, buf_area, f.buffer_mut()),
    }
}

/// True when a passed step's values were left for the form: its fields are empty.
/// Once the form is saved, or with a stored app chosen on it, nothing was left.
fn left_empty(w: &Wizard, step: Step) -> bool {
    if w.step > Step::Form || w.form.app.is_some() {
        return false;
    }
    let empty = |f: FieldId| w.form.value(f).trim().is_empty();
    match step {
        Step::Register => empty(FieldId::ClientId) || empty(FieldId::Tenant),
        // A public client has no secret to create.
        Step::Secret => !w.form.public_client && empty(FieldId::Secret),
        _ => false,
    }
}

/// `✔ Register  ✔ Secret  ▶ Permissions  · Server …`, or numbers only when narrow. A step
/// passed with its fields empty is `○`, not done.
pub fn step_bar(w: &Wizard, theme: &Theme, width: u16) -> Line<'static> {
    let (flow, current) = (w.flow(), w.step);
    let item = |s: Step, label: String| {
        let (g, style) = if s < current && left_empty(w, s) {
            ("○", theme.warn())
        } else if s < current {
            ("✔", theme.ok())
        } else if s == current {
            ("▶", theme.accent().add_modifier(ratatui::style::Modifier::BOLD))
        } else {
            ("·", theme.dim())
        };
        Span::styled(format!("{g} {label}  "), style)
    };
    let full: Vec<Span> = flow.iter().map(|s| item(*s, s.short().to_string())).collect();
    let len: usize = full.iter().map(|s| s.width()).sum();
    if len <= width as usize {
        return Line::from(full);
    }
    Line::from(
        flow.iter()
            .map(|s| {
                let label = if *s == current {
                    s.short().to_string()
                } else {
                    s.number_in(flow).to_string()
                };
                item(*s, label)
            })
            .collect::<Vec<_>>(),
    )
}
