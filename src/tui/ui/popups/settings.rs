//! The settings popup: listener port and address, public URL, sign-in timeout, the proxy's
//! address, TLS and connection limit, what `inbound serve` runs and whom it notifies, each
//! with its error under it, and the redirect URI these settings make.

use super::rotate::LABEL;
use crate::model::{DEFAULT_CONSENT_TIMEOUT, DEFAULT_LISTEN_PORT, registered_redirect_uri};
use crate::tui::state::Model;
use crate::tui::state::settings::{FIELDS, SettingsForm};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::field::row;
use crate::tui::ui::widgets::text::para;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

pub fn render(model: &Model, s: &SettingsForm, theme: &Theme, area: Rect, f: &mut Frame) {
    let width: u16 = 72.min(area.width);
    let inner_w = width.saturating_sub(2) as usize;
    let value_w = inner_w.saturating_sub(LABEL + 1).max(4);
    let mut lines: Vec<Line<'static>> = Vec::new();
    if let Some(g) = &s.general {
        lines.extend(para(&format!("✖ {g}"), inner_w, 1, theme.err()));
    }
    let defaults = [
        format!("{DEFAULT_LISTEN_PORT} (a free port when it is busy)"),
        "none: the local http://localhost redirect".to_string(),
        "127.0.0.1 and ::1 (loopback)".to_string(),
        format!("{} s", DEFAULT_CONSENT_TIMEOUT.as_secs()),
        format!("{} (inbound proxy)", crate::model::DEFAULT_PROXY_LISTEN),
        "no (plain IMAP on loopback)".to_string(),
        crate::model::DEFAULT_PROXY_MAX_CONNECTIONS.to_string(),
        "no (inbound serve runs no proxy)".to_string(),
        "none (e.g. 127.0.0.1:9464: /metrics, /healthz)".to_string(),
        format!("{} s", crate::model::serve::DEFAULT_TEST_EVERY_SECS),
        "none (sh -c CMD, the alert's JSON on stdin)".to_string(),
        "none (an http(s) webhook, Slack or Teams)".to_string(),
    ];
    let mut cursor = None;
    // FIELDS are the core's names (errors come back by them); these fit the label column.
    let labels = [
        "Listen port",
        "Public URL",
        "Listen address",
        "Sign-in wait",
        "Proxy address",
        "Proxy TLS",
        "Proxy sessions",
        "Serve proxy",
        "Serve metrics",
        "Serve tests",
        "Alert command",
        "Alert webhook",
    ];
    debug_assert_eq!(labels.len(), FIELDS.len());
    for (i, label) in labels.iter().enumerate() {
        let focused = s.fields.focus == i;
        let (line, x) = row(
            (label, LABEL + 1),
            s.fields.get(i),
            focused,
            false,
            &defaults[i],
            value_w,
            theme,
        );
        if focused {
            cursor = Some((x, lines.len()));
        }
        lines.push(line);
        if let Some(e) = s.fields.errors.get(&i) {
            lines.extend(para(&format!("✖ {e}"), inner_w, LABEL + 1, theme.err()));
        }
    }
    lines.push(Line::default());
    lines.extend(para(
        &format!(
            "Redirect URI to register (Web): {}",
            registered_redirect_uri(&model.data.config.settings)
        ),
        inner_w,
        1,
        theme.dim(),
    ));
    let action = if s.save_run.is_some() {
        "Saving…"
    } else {
        "Empty means the default · a public URL needs a reverse proxy forwarding /microsoft_outlook/confirm here"
    };
    lines.extend(para(action, inner_w, 1, theme.dim()));
    super::form_frame(" Settings ", lines, cursor, width, theme, area, f);
}
