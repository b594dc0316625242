//! Wizard step 7: Test & Confirm, stage by stage, ending in Confirmed or the failed stage.

use crate::services::imap::Stage;
use crate::tui::state::Model;
use crate::tui::state::keymap::{self, Action};
use crate::tui::state::wizard::Wizard;
use crate::tui::state::wizard::test::{Outcome, StageState};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::{para, spinner, truncate};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let server = w.server.as_deref().and_then(|n| model.data.config.server(n));
    let mut l: Vec<Line<'static>> = Vec::new();
    if let Some(s) = server {
        l.extend(para(
            &format!("{}:{} · {} · {}", s.host, s.port, s.auth.label(), s.username),
            width,
            1,
            theme.dim(),
        ));
    }
    l.push(Line::default());
    let detail_w = width.saturating_sub(3 + 13 + 9 + 1);
    for r in &w.check.stages {
        let label = format!("{:<13}", stage_label(r.stage));
        let line = match &r.state {
            StageState::Running => Line::from(vec![
                Span::styled(format!(" {} ", spinner(model.frame)), theme.accent()),
                Span::raw(label),
            ]),
            StageState::Passed { detail, elapsed } => Line::from(vec![
                Span::styled(" ✔ ", theme.ok()),
                Span::raw(label),
                Span::raw(format!("{:<detail_w$}", truncate(detail, detail_w))),
                Span::styled(format!("{:>6} ms", elapsed.as_millis()), theme.dim()),
            ]),
            StageState::Failed => Line::from(vec![
                Span::styled(" ✖ ", theme.err()),
                Span::styled(label, theme.err()),
            ]),
        };
        l.push(line);
    }
    match &w.check.outcome {
        Outcome::NotRun => l.extend(para(
            &model.keys_line(&[(Action::Test, "starts Test & Confirm.")]),
            width,
            1,
            theme.dim(),
        )),
        Outcome::Running => {}
        Outcome::Cancelled => l.extend(para(
            &format!(
                "Cancelled. {}",
                model.keys_line(&[(Action::Test, "tries again"), (Action::Back, "back")])
            ),
            width,
            1,
            theme.dim(),
        )),
        Outcome::Passed { messages } => {
            l.push(Line::default());
            l.push(Line::from(vec![
                Span::styled(
                    " ● Confirmed",
                    theme.ok().add_modifier(ratatui::style::Modifier::BOLD),
                ),
                Span::raw(format!(" · INBOX has {messages} messages")),
            ]));
            l.extend(para(
                &model.keys_line(&[(Action::Open, "done")]),
                width,
                1,
                theme.dim(),
            ));
        }
        Outcome::Failed(f) => {
            l.push(Line::default());
            let at = f
                .stage
                .map(|s| format!(" at {}", stage_label(s)))
                .unwrap_or_default();
            l.extend(para(
                &format!("✖ Failed{at}: {}", f.message),
                width,
                1,
                theme.err(),
            ));
            if let Some(h) = &f.hint {
                let key = f
                    .fix
                    .as_ref()
                    .and_then(keymap::action_for_fix)
                    .and_then(|a| model.key(a));
                let h = match key {
                    Some(k) => format!("→ {h} (press {k})"),
                    None => format!("→ {h}"),
                };
                l.extend(para(&h, width, 1, Style::new()));
            }
            l.extend(para(
                &model.keys_line(&[
                    (Action::Test, "retry"),
                    (Action::Edit, "edit"),
                    (Action::Connect, "re-connect"),
                    (Action::Back, "back"),
                ]),
                width,
                1,
                theme.dim(),
            ));
        }
    }
    Paragraph::new(l).render(area, buf);
}

fn stage_label(s: Stage) -> &'static str {
    s.label()
}
