//! The right pane in review: everything about the selected server.

use crate::model::health::{
    Health, RECONSENT_WARN_DAYS, SECRET_CRITICAL_DAYS, SECRET_WARN_DAYS, TokenHealth,
};
use crate::model::{AuthKind, DEFAULT_AUTHORITY, Server, registered_redirect_uri};
use crate::services::oauth::idtoken;
use crate::timefmt::{in_zone, relative};
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::ui::theme::{Theme, level_glyph, state_glyph};
use crate::tui::ui::widgets::text::{cols, para, row};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

const LABEL: usize = 10;

pub fn render(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(server) = model.selected_server() else {
        if !model.servers().is_empty() {
            return super::find::no_match_pane(model, theme, area, buf);
        }
        welcome(model, theme, area, buf);
        return;
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(false))
        .title(format!(" {} ", server.name));
    let inner = block.inner(area);
    let all = lines(model, server, theme, inner.width as usize);
    let total = u16::try_from(all.len()).unwrap_or(u16::MAX);
    let max = total.saturating_sub(inner.height);
    let scroll = model.details_scroll.min(max);
    let block = if max > 0 {
        let up = model.key(Action::ScrollUp).unwrap_or_default();
        let down = model.key(Action::ScrollDown).unwrap_or_default();
        let more = match (scroll > 0, scroll < max) {
            (true, true) => format!(" {up}/{down} more "),
            (false, _) => format!(" {down} more "),
            (true, false) => format!(" {up} back "),
        };
        block.title_bottom(Line::from(Span::styled(more, theme.dim())).right_aligned())
    } else {
        block
    };
    block.render(area, buf);
    Paragraph::new(all).scroll((scroll, 0)).render(inner, buf);
}

fn welcome(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(false))
        .title(" Welcome ");
    let inner = block.inner(area);
    block.render(area, buf);
    let w = inner.width as usize;
    let mut l = para(
        "inbound connects Microsoft 365 / Exchange Online mailboxes to IMAP fetchers with OAuth2 and keeps their tokens fresh.",
        w,
        0,
        ratatui::style::Style::new(),
    );
    l.push(Line::default());
    l.extend(para(
        &format!(
            "Press {}: a wizard walks you through the Azure portal (app registration, secret, permission), the server form, the sign-in, and Test & Confirm.",
            model.key(Action::New).unwrap_or_default()
        ),
        w,
        0,
        ratatui::style::Style::new(),
    ));
    l.push(Line::default());
    l.extend(para(
        &model.keys_line(&[(Action::Help, "lists every key.")]),
        w,
        0,
        theme.dim(),
    ));
    Paragraph::new(l).render(inner, buf);
}

/// Everything in the details pane, top to bottom (the pane scrolls when it is longer).
pub fn lines(model: &Model, server: &Server, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let health = model.health(server);
    let config = &model.data.config;
    let app = config.app_of(server);
    let tz = &model.tz;
    let label = theme.label();
    let mut out = Vec::new();
    let r = |l: &str, v: Vec<Span<'static>>| row(l, label, v, LABEL, width);

    // State and last test.
    let mut state = vec![Span::styled(
        format!("{} {}", state_glyph(server.state), server.state.label()),
        theme.badge(server.state, health.level),
    )];
    match &server.last_test {
        Some(t) if t.ok => state.push(Span::raw(format!(
            " · tested {}{}",
            in_zone(t.at, tz),
            t.messages.map(|m| format!(" · {m} msgs")).unwrap_or_default()
        ))),
        Some(t) => state.push(Span::styled(
            format!(" · test failed {}", in_zone(t.at, tz)),
            theme.err(),
        )),
        None => state.push(Span::styled(" · not tested yet", theme.dim())),
    }
    out.extend(r("State", state));

    // Token.
    let refreshing = model.refreshing.contains_key(&server.name);
    // The core's words; the key that acts on the state, where one does.
    let words = health.token_words(|t| format!("{} ({})", in_zone(t, tz), relative(t, model.now)));
    let key = match health.token {
        TokenHealth::None | TokenHealth::Refreshable if health.app_only => Some((
            Action::Refresh,
            if health.token == TokenHealth::None {
                "fetches one"
            } else {
                "fetches a new one"
            },
        )),
        TokenHealth::None => Some((Action::Connect, "connects")),
        TokenHealth::Refreshable => Some((Action::Refresh, "refreshes")),
        TokenHealth::NeedsReconsent => Some((Action::Connect, "signs in again")),
        TokenHealth::SecretExpired => Some((Action::Rotate, "records it")),
        TokenHealth::BadClient => Some((Action::Edit, "edits them")),
        TokenHealth::Valid { .. } | TokenHealth::NotApplicable => None,
    };
    let token_text = match key {
        Some((action, what)) => with_key(model, &words, action, what),
        None => words,
    };
    out.extend(r(
        "Token",
        vec![Span::styled(
            format!("{} {token_text}", health.token.glyph()),
            theme.token(health.token),
        )],
    ));
    if refreshing {
        // One request to Microsoft: its time-out is the HTTP client's.
        let secs = model
            .refresh_since
            .get(&server.name)
            .map_or(0, |t| model.now.duration_since(*t).as_secs().max(0));
        let timeout = crate::services::oauth::HTTP_TIMEOUT.as_secs();
        out.extend(r(
            "",
            vec![Span::styled(
                format!("↻ refreshing… {secs} s (time-out {timeout} s)"),
                theme.warn(),
            )],
        ));
    }
    if let Some(account) = &health.account {
        let mut v = vec![Span::raw(account.clone())];
        // A shared mailbox is opened by its delegate's token, never the mailbox's own.
        if !idtoken::same_account(account, server.sign_in_account()) {
            let expected = if server.sign_in_as.is_some() {
                " ⚠ not the Sign in as account"
            } else {
                " ⚠ not the Username"
            };
            v.push(Span::styled(expected, theme.warn()));
        }
        out.extend(r("Signed in", v));
    }
    // Health first (what needs doing), then the settings.
    out.extend(health_section(model, server, &health, theme, width));
    out.push(Line::from(Span::styled(
        format!("─ Settings {}", "─".repeat(width.saturating_sub(11))),
        theme.dim(),
    )));
    out.extend(r(
        "Server",
        vec![Span::raw(format!(
            "{}:{}{}",
            server.host,
            server.port,
            if server.ssl { " · SSL/TLS" } else { "" },
        ))],
    ));
    out.extend(r(
        "Auth",
        vec![Span::raw(format!("IMAP · {}", server.auth.label()))],
    ));
    out.extend(r("Username", vec![Span::raw(server.username.clone())]));
    if let Some(delegate) = &server.sign_in_as {
        // The label fills its column: the space keeps it off the address.
        out.extend(r("Sign in as", vec![Span::raw(format!(" {delegate}"))]));
    }
    match (server.auth, app) {
        (AuthKind::OAuth2 | AuthKind::OAuth2App, Some(app)) => {
            out.extend(r(
                "Azure app",
                vec![Span::raw(format!("{} · tenant {}", app.name, app.tenant))],
            ));
            out.extend(r("Client ID", vec![Span::raw(app.client_id.clone())]));
            if app.authority != DEFAULT_AUTHORITY {
                out.extend(r("Authority", vec![Span::raw(app.authority.clone())]));
            }
        }
        (AuthKind::OAuth2 | AuthKind::OAuth2App, None) => out.extend(r(
            "Azure app",
            vec![Span::styled(
                format!("\"{}\" is missing", server.app.clone().unwrap_or_default()),
                theme.err(),
            )],
        )),
        (AuthKind::Basic, _) => {
            let pw = server.password.as_ref().map(|p| {
                if model.reveal {
                    p.expose().to_string()
                } else {
                    p.masked()
                }
            });
            out.extend(r(
                "Password",
                vec![Span::raw(pw.unwrap_or_else(|| "none stored".into()))],
            ));
        }
    }
    if server.auth == AuthKind::OAuth2 {
        out.extend(r(
            "Redirect",
            vec![Span::raw(registered_redirect_uri(&config.settings))],
        ));
    }
    if let Some(ca) = &server.ca_file {
        out.extend(r("CA file", vec![Span::raw(ca.display().to_string())]));
    }
    let proxy = crate::ops::proxy::client_settings(&config.settings, &server.name);
    let key = crate::tui::state::keymap::key_or_mark(
        &[crate::tui::state::keymap::Ctx::Review],
        crate::tui::state::keymap::Action::CopyProxy,
    );
    let proxy_text = if model.data.has_proxy_password(server) {
        format!(
            "{}:{} · {} · user \"{}\" · {key} copies",
            proxy.host,
            proxy.port,
            proxy.security.client_setting(),
            proxy.user
        )
    } else {
        format!(
            "no proxy password (inbound proxy password \"{}\") · {key} copies the settings",
            proxy.user
        )
    };
    out.extend(r("Proxy", vec![Span::raw(proxy_text)]));
    out
}

/// The "Health" section: the level in words, the dates that matter, the last error with its
/// diagnosis, and every finding with its fix (and the key that does it here).
fn health_section(
    model: &Model,
    server: &Server,
    health: &Health,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let tz = &model.tz;
    let label = theme.label();
    let r = |l: &str, v: Vec<Span<'static>>| row(l, label, v, LABEL, width);
    let mut out = Vec::new();
    let title = format!(
        "─ Health: {} {} ",
        level_glyph(health.level),
        health.level.label()
    );
    let rule = "─".repeat(width.saturating_sub(cols(&title)));
    out.push(Line::from(vec![
        Span::styled(title, theme.level(health.level).add_modifier(Modifier::BOLD)),
        Span::styled(rule, theme.dim()),
    ]));
    if server.auth.is_oauth() {
        let never = if health.app_only {
            "never (no token yet)"
        } else {
            "never (not signed in)"
        };
        let refreshed = match health.last_refresh {
            Some(t) => vec![Span::raw(format!(
                "{} ({})",
                in_zone(t, tz),
                relative(t, model.now)
            ))],
            None => vec![Span::styled(never, theme.dim())],
        };
        out.extend(r("Refreshed", refreshed));
        if let Some(next) = model.data.serve.next_for(&server.id) {
            let when = |t: jiff::Timestamp| format!("{} ({})", in_zone(t, tz), relative(t, model.now));
            let mut parts = Vec::new();
            if let Some(t) = next.refresh {
                parts.push(format!("refresh {}", when(t)));
            }
            if let Some(t) = next.test {
                parts.push(format!("test {}", when(t)));
            }
            if !parts.is_empty() {
                out.extend(r("Next", vec![Span::raw(parts.join(" · "))]));
            }
        }
        if health.app_only {
            out.extend(r(
                "Exchange",
                vec![Span::raw(with_key(
                    model,
                    "service principal + mailbox permission",
                    Action::Exchange,
                    "shows the commands",
                ))],
            ));
        } else if health.token == TokenHealth::NeedsReconsent {
            out.extend(r(
                "Consent",
                vec![Span::styled(
                    with_key(model, "re-consent needed now", Action::Connect, "signs in again"),
                    theme.err(),
                )],
            ));
        } else if let Some(by) = health.reconsent_by {
            let left = by.duration_since(model.now).as_secs().div_euclid(86_400);
            let style = if left < RECONSENT_WARN_DAYS {
                theme.warn()
            } else {
                Style::new()
            };
            out.extend(r(
                "Consent",
                vec![Span::styled(
                    format!(
                        "re-consent by {} if unused ({left} d)",
                        in_zone(by, tz).split(' ').next().unwrap_or_default()
                    ),
                    style,
                )],
            ));
        }
        if let Some(app) = model.data.config.app_of(server) {
            // A certificate signs the token requests: its thumbprint and expiry, not the secret.
            let masked = match (&app.certificate, &app.secret) {
                (Some(c), _) => c.thumbprint.clone(),
                (None, None) => "none stored".to_string(),
                (None, Some(s)) if model.reveal => s.expose().to_string(),
                (None, Some(s)) => s.masked(),
            };
            // "Certificate" is wider than the label column.
            let label = if app.certificate.is_some() {
                "Cert"
            } else {
                "Secret"
            };
            let mut v = vec![Span::raw(masked)];
            match (health.secret_expires, health.secret_days_left) {
                (Some(d), Some(left)) => {
                    let style = if left <= SECRET_CRITICAL_DAYS {
                        theme.err()
                    } else if left <= SECRET_WARN_DAYS {
                        theme.warn()
                    } else {
                        Style::new()
                    };
                    let when = if left < 0 {
                        format!(" · expired {d} ({} d ago)", -left)
                    } else {
                        format!(" · expires {d} · {left} d left")
                    };
                    v.push(Span::styled(when, style));
                }
                _ => v.push(Span::styled(
                    format!(
                        " · expiry unknown{}",
                        model
                            .key(Action::Rotate)
                            .map(|k| format!(" — {k} records it"))
                            .unwrap_or_default()
                    ),
                    theme.warn(),
                )),
            }
            out.extend(r(label, v));
        }
    }
    let recorded = model
        .data
        .tokens
        .get(&server.name)
        .and_then(|f| f.last_error.as_ref());
    match recorded {
        Some(e) => {
            out.extend(r(
                "Error",
                vec![Span::styled(
                    format!("last {} · {}", in_zone(e.at, tz), e.message),
                    theme.err(),
                )],
            ));
            if let Some(h) = &e.hint {
                out.extend(r("", vec![Span::raw(format!("→ {h}"))]));
            }
        }
        // The failed test's own line says what went wrong; "none recorded" above it would
        // read as if nothing had.
        None if server.auth.is_oauth() && server.last_test.as_ref().is_none_or(|t| t.ok) => {
            out.extend(r("Error", vec![Span::styled("none recorded", theme.dim())]));
        }
        None => {}
    }
    // The findings, most serious first (the first of equals wins: the token before the rest).
    let mut findings: Vec<_> = health.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    if findings.is_empty() {
        out.extend(para("✔ nothing to do", width, 0, theme.ok()));
    }
    for f in findings {
        out.extend(para(
            &format!("{} {}", level_glyph(f.level), f.message),
            width,
            0,
            theme.level(f.level),
        ));
        let fix = format!("→ {}", crate::tui::ui::fix::text(model, &f.fix));
        out.extend(para(&fix, width, 2, Style::new()));
    }
    out
}

/// "not signed in yet (c connects)", or just the words where the screen binds no such key.
fn with_key(model: &Model, text: &str, action: Action, what: &str) -> String {
    match model.key(action) {
        Some(k) => format!("{text} ({k} {what})"),
        None => text.to_string(),
    }
}
