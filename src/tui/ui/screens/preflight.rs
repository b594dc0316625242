//! The form's pre-flight line: "✔ tenant contoso.com = 6f1e…  ✔ app found  ✔ secret accepted",
//! each check in its colour, then a failure's reason and fix (or why a check went unanswered).

use crate::ops::preflight::{CheckItem, Outcome};
use crate::tui::state::Model;
use crate::tui::state::wizard::preflight::Preflight;
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::{para, spinner, wrap_spans};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

fn checking(item: Option<CheckItem>) -> &'static str {
    match item {
        None => "checking the credentials with Microsoft…",
        Some(CheckItem::Tenant) => "checking the tenant with Microsoft…",
        Some(CheckItem::App) => "checking the app with Microsoft…",
        Some(CheckItem::Secret) => "checking the secret with Microsoft…",
    }
}

/// The lines for `p` at `width` (none when idle).
/// The fixes name this screen's fields and keys (`ui::fix`), never a command line.
pub fn lines(model: &Model, p: &Preflight, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let frame = model.frame;
    let mut out = Vec::new();
    match p {
        Preflight::Idle => {}
        Preflight::Running {
            checking: item,
            waiting,
            ..
        } => {
            out.push(Line::from(vec![
                Span::styled(format!("{} ", spinner(frame)), theme.accent()),
                Span::raw(checking(*item)),
            ]));
            if let Some(w) = waiting {
                out.extend(para(w, width, 2, theme.warn()));
            }
        }
        Preflight::Unverified { why, .. } => {
            out.extend(para(
                &format!(
                    "? the new secret was not checked ({why}); nothing is saved unless you save it unchecked"
                ),
                width,
                0,
                theme.warn(),
            ));
        }
        Preflight::Warned(why) => {
            out.extend(para(
                &format!("? credentials not checked ({why}); the sign-in checks them"),
                width,
                0,
                theme.warn(),
            ));
        }
        Preflight::Done(list) => {
            let mut spans = Vec::new();
            for (i, c) in list.checks.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw("  "));
                }
                let style = match c.outcome {
                    Outcome::Passed { .. } => theme.ok(),
                    Outcome::Failed { .. } => theme.err(),
                    Outcome::Skipped { .. } => theme.dim(),
                    Outcome::Unknown { .. } => theme.warn(),
                };
                // The core's one-line form, cut per check so each gets its colour.
                let one = crate::ops::preflight::Checklist {
                    checks: vec![c.clone()],
                    tenant_id: None,
                };
                spans.push(Span::styled(crate::sanitize::peer_text(&one.line()), style));
            }
            out.extend(wrap_spans(spans, width).into_iter().map(Line::from));
            // Checks left unanswered for one reason say it once, naming them together.
            let mut said: Vec<(String, Option<String>)> = Vec::new();
            for c in &list.checks {
                let Some((why, fix)) = c.outcome.explanation() else {
                    continue;
                };
                let fix = fix.map(|a| crate::tui::ui::fix::advice(model, a));
                let key = (why.clone(), fix.clone());
                if said.contains(&key) {
                    continue;
                }
                said.push(key);
                let names: Vec<&str> = list
                    .checks
                    .iter()
                    .filter(|o| o.outcome.explanation().is_some_and(|(w, _)| w == why))
                    .map(|o| o.item.label())
                    .collect();
                let style = if c.outcome.is_failed() {
                    theme.err()
                } else {
                    Style::new()
                };
                out.extend(para(
                    &format!(
                        "{}\u{a0}{}: {}",
                        c.outcome.glyph(),
                        names.join(", "),
                        crate::sanitize::peer_text(&why)
                    ),
                    width,
                    2,
                    style,
                ));
                if let Some(fix) = fix {
                    out.extend(para(
                        &format!("→ {}", crate::sanitize::peer_text(&fix)),
                        width,
                        4,
                        Style::new(),
                    ));
                }
            }
        }
    }
    out
}
