//! Wizard step 1 on the script path: what to do in Cloud Shell, the script (scrollable), and
//! the setup-code field (masked: the code holds the client secret).

use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::Wizard;
use crate::tui::state::wizard::script;
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::{chunks, para};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

/// Width of the field's label column.
const LABEL: usize = 12;

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, f: &mut Frame) {
    let width = area.width as usize;
    let s = &w.script;
    let (shell, other) = if s.pwsh {
        ("PowerShell", "bash")
    } else {
        ("Bash", "PowerShell")
    };
    let text = if model.env.demo.is_some() && !s.code.value().is_empty() {
        // No Cloud Shell in the demo: the stand-in played it, and its code waits in the field.
        let enter = model.key(Action::Submit).unwrap_or_else(|| "Enter".into());
        format!(
            "DEMO: in portal.azure.com you would run this script in Cloud Shell ({shell}) and paste its last line, the setup code. The demo's stand-in ran it: its setup code is in the field, as if pasted. {enter} uses it."
        )
    } else {
        format!(
            "In portal.azure.com open Cloud Shell (the >_ icon at the top) in {shell}, paste this script and run it. Its last line is the setup code: paste that line here."
        )
    };
    let intro = para(&text, width, 0, Style::new());

    let value_w = width.saturating_sub(LABEL + 1).max(4);
    let (field, x) = crate::tui::ui::widgets::field::row(
        ("Setup code", LABEL),
        Some(&*s.code),
        s.focused,
        true,
        "the script's last line (inbound-setup:1:…)",
        value_w,
        theme,
    );
    let mut below = vec![field];
    if let Some(e) = &s.error {
        below.extend(para(&format!("✖\u{a0}{e}"), width, 2, theme.err()));
    }
    let keys = if s.focused {
        model.keys_line(&[
            (Action::Submit, "uses the code"),
            (Action::NextField, "leaves the field"),
        ])
    } else {
        let switch = format!("switches to {other}");
        model.keys_line(&[
            (Action::Copy, "copies the script"),
            (Action::NextField, "types the setup code"),
            (Action::Right, &switch),
            (Action::Down, "scrolls"),
        ])
    };
    below.extend(para(&keys, width, 0, theme.dim()));

    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(u16::try_from(intro.len() + 1).unwrap_or(u16::MAX)),
        Constraint::Min(3),
        Constraint::Length(u16::try_from(below.len()).unwrap_or(u16::MAX)),
    ])
    .areas(area);
    let mut top_lines = vec![Line::default()];
    top_lines.extend(intro);
    f.render_widget(Paragraph::new(top_lines), top);

    let block = Block::new()
        .borders(Borders::TOP | Borders::BOTTOM)
        .border_style(theme.dim());
    let inner = block.inner(body);
    let lines: Vec<Line<'static>> =
        match script::text(&model.data.config.settings, w.form.public_client, s.shell()) {
            Ok(text) => text
                .lines()
                .flat_map(|line| chunks(line, usize::from(inner.width).max(1)))
                .map(|c| Line::styled(c, theme.dim()))
                .collect(),
            Err(e) => para(
                &format!("✖ No script for these settings: {}", script::why_none(&e)),
                usize::from(inner.width),
                0,
                theme.err(),
            ),
        };
    let total = lines.len();
    let shown = usize::from(inner.height);
    let scroll = usize::from(s.scroll).min(total.saturating_sub(shown));
    let title = if total > shown {
        format!(
            " {shell} script · lines {}–{} of {total} ",
            scroll + 1,
            (scroll + shown).min(total)
        )
    } else {
        format!(" {shell} script ")
    };
    f.render_widget(block.title(title), body);
    f.render_widget(
        Paragraph::new(lines).scroll((u16::try_from(scroll).unwrap_or(0), 0)),
        inner,
    );
    f.render_widget(Paragraph::new(below), bottom);
    if s.focused
        && model.popup.is_none()
        && let Ok(x) = u16::try_from(x)
    {
        f.set_cursor_position(Position::new(
            bottom.x + x.min(bottom.width.saturating_sub(1)),
            bottom.y,
        ));
    }
}
