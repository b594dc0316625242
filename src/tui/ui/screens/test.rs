//! Wizard step 7: Test & Confirm, stage by stage, ending in Confirmed or the failed stage.

use crate::model::AuthKind;
use crate::model::health::Fix;
use crate::model::rejection::{REPLICATION_NOTE, Rejection};
use crate::services::imap::Stage;
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::Wizard;
use crate::tui::state::wizard::test::{Outcome, StageState};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::pinned;
use crate::tui::ui::widgets::text::{para, spinner, truncate};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

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
    let mut keys: Vec<(Action, &str)> = Vec::new();
    let detail_w = width.saturating_sub(3 + 13 + 9 + 1);
    // A refused app-only login needs the room for its causes: the stages that passed take
    // one line.
    let exchange_side = matches!(
        &w.check.outcome,
        Outcome::Failed(f) if matches!(f.fix, Some(Fix::ExchangeRefused(_)))
    );
    let passed: Vec<&str> = w
        .check
        .stages
        .iter()
        .filter(|r| matches!(r.state, StageState::Passed { .. }))
        .map(|r| stage_label(r.stage))
        .collect();
    if exchange_side && !passed.is_empty() {
        l.push(Line::from(vec![
            Span::styled(" ✔ ", theme.ok()),
            Span::raw(passed.join(" · ")),
        ]));
    }
    for r in &w.check.stages {
        if exchange_side && matches!(r.state, StageState::Passed { .. }) {
            continue;
        }
        let label = format!("{:<13}", stage_label(r.stage));
        let line = match &r.state {
            StageState::Running => {
                let secs = w
                    .check
                    .stage_since
                    .map_or(0, |t| model.now.duration_since(t).as_secs().max(0));
                let timeout = crate::tui::state::review::bulk::stage_timeout(r.stage).as_secs();
                Line::from(vec![
                    Span::styled(format!(" {} ", spinner(model.frame)), theme.accent()),
                    Span::raw(label),
                    Span::styled(format!("{secs} s (time-out {timeout} s)"), theme.dim()),
                ])
            }
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
            // The core's diagnosis, as it came with the failure.
            if let Some(Fix::ExchangeRefused(r)) = &f.fix {
                l.extend(rejected(model, r, theme, width));
            } else if let Some(h) = &f.hint {
                let key = f
                    .fix
                    .as_ref()
                    .and_then(crate::tui::ui::fix::action)
                    .and_then(|a| model.key(a));
                let h = match key {
                    Some(k) => format!("→ {h} (press {k})"),
                    None => format!("→ {h}"),
                };
                l.extend(para(&h, width, 1, Style::new()));
            }
            let app_only = server.is_some_and(|s| s.auth == AuthKind::OAuth2App);
            keys = if app_only {
                vec![
                    (Action::Exchange, "Exchange commands"),
                    (Action::Test, "retry"),
                    (Action::Edit, "edit"),
                    (Action::Back, "back"),
                ]
            } else {
                vec![
                    (Action::Test, "retry"),
                    (Action::Edit, "edit"),
                    (Action::Connect, "re-connect"),
                    (Action::Back, "back"),
                ]
            };
        }
    }
    // The failure's keys stay in sight when its advice is longer than the screen.
    let keys_line = |more: bool, back: bool| {
        let mut items = keys.clone();
        if more {
            items.push((Action::ScrollDown, "more"));
        }
        if back {
            items.push((Action::ScrollUp, "back up"));
        }
        if items.is_empty() {
            return Vec::new();
        }
        para(&model.keys_line(&items), width, 1, theme.dim())
    };
    pinned::render(l, keys_line, w.scroll, area, buf);
}

/// A refused app-only login: the likely causes in order, each with the command that fixes
/// it (the Exchange step shows them all, to copy), and why a retry may pass later.
fn rejected(model: &Model, r: &Rejection, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let lead = if r.lead.is_empty() {
        "→ In order:".to_string()
    } else {
        format!("→ {}. In order:", r.lead)
    };
    let mut l = para(&lead, width, 1, Style::new());
    for (i, c) in r.causes.iter().enumerate() {
        let cmdlet = c
            .line
            .as_deref()
            .and_then(|line| line.split(' ').next())
            .map(|name| format!(" ({name})"))
            .unwrap_or_default();
        l.extend(para(
            &format!("{}. {}{cmdlet}", i + 1, c.what),
            width,
            3,
            Style::new(),
        ));
    }
    let retry = crate::tui::ui::fix::text(model, &r.retry());
    l.extend(para(
        &format!("{REPLICATION_NOTE}: {retry}."),
        width,
        1,
        theme.warn(),
    ));
    l
}

fn stage_label(s: Stage) -> &'static str {
    s.label()
}
