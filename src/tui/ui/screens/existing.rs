//! Wizard step 1, "use an app I already have": the stored apps with the servers that use
//! each, the chosen one marked; Enter takes it to the server form.

use crate::tui::state::Model;
use crate::tui::state::wizard::Wizard;
use crate::tui::state::wizard::existing::rows;
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::para;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Servers named per app before "and N more".
const NAMED: usize = 3;

pub fn apps(model: &Model, w: &Wizard, theme: &Theme, width: usize, l: &mut Vec<Line<'static>>) {
    l.push(Line::from(Span::styled(
        "Which app is the new mailbox's?",
        theme.accent(),
    )));
    l.extend(para(
        "The new server signs in with the app you choose; host, port and CA file come from its other server.",
        width,
        2,
        theme.dim(),
    ));
    l.push(Line::default());
    for (i, app) in rows(&model.data.config).iter().enumerate() {
        let chosen = i == w.guide.app_choice;
        let (dot, style) = if chosen {
            ("●", theme.field(true))
        } else {
            ("○", Style::new())
        };
        l.extend(para(&format!("{dot} {}", app.name), width, 2, style));
        let servers = match app.servers.len() {
            0 => "no server uses it yet".to_string(),
            n => {
                let mut named: Vec<String> = app
                    .servers
                    .iter()
                    .take(NAMED)
                    .map(|s| format!("\"{s}\""))
                    .collect();
                if n > NAMED {
                    named.push(format!("and {} more", n - NAMED));
                }
                format!(
                    "{n} server{}: {}",
                    if n == 1 { "" } else { "s" },
                    named.join(", ")
                )
            }
        };
        l.extend(para(
            &format!("client {} · tenant {} · {servers}", app.client_id, app.tenant),
            width,
            6,
            theme.dim(),
        ));
    }
}
