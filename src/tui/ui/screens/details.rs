//! The right pane in review: everything about the selected server.

use crate::model::health::{Level, TokenHealth};
use crate::model::{AuthKind, DEFAULT_AUTHORITY, Server, registered_redirect_uri};
use crate::services::oauth::idtoken;
use crate::timefmt::{in_zone, relative};
use crate::tui::state::Model;
use crate::tui::ui::theme::{Theme, state_glyph};
use crate::tui::ui::widgets::text::{para, row};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

const LABEL: usize = 10;

pub fn render(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(server) = model.selected_server() else {
        welcome(theme, area, buf);
        return;
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(false))
        .title(format!(" {} ", server.name));
    let inner = block.inner(area);
    block.render(area, buf);
    Paragraph::new(lines(model, server, theme, inner.width as usize)).render(inner, buf);
}

fn welcome(theme: &Theme, area: Rect, buf: &mut Buffer) {
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
        "Press n: a wizard walks you through the Azure portal (app registration, secret, permission), the server form, the sign-in, and Test & Confirm.",
        w,
        0,
        ratatui::style::Style::new(),
    ));
    l.push(Line::default());
    l.extend(para("? lists every key.", w, 0, theme.dim()));
    Paragraph::new(l).render(inner, buf);
}

fn lines(model: &Model, server: &Server, theme: &Theme, width: usize) -> Vec<Line<'static>> {
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
        theme.state(server.state),
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
    let token_text = match health.token {
        TokenHealth::NotApplicable => "Basic authentication: no token".to_string(),
        TokenHealth::None => "not signed in yet: press c to connect".into(),
        TokenHealth::Valid { until } => format!(
            "Outlook token is valid until {} ({})",
            in_zone(until, tz),
            relative(until, model.now)
        ),
        TokenHealth::Refreshable => "expired; a refresh token is stored (r refreshes)".into(),
        TokenHealth::NeedsReconsent => "needs re-consent: Microsoft refused the refresh; press c".into(),
        TokenHealth::SecretExpired => "client secret expired: create a new one, then e".into(),
        TokenHealth::BadClient => "Microsoft refuses the app's credentials: check them (e)".into(),
    };
    out.extend(r(
        "Token",
        vec![Span::styled(
            format!("{} {token_text}", health.token.glyph()),
            theme.token(health.token),
        )],
    ));
    if refreshing {
        out.extend(r("", vec![Span::styled("↻ refreshing…", theme.warn())]));
    }
    if let Some(account) = &health.account {
        let mut v = vec![Span::raw(account.clone())];
        if !idtoken::same_account(account, &server.username) {
            v.push(Span::styled(" ⚠ not the Username", theme.warn()));
        }
        out.extend(r("Signed in", v));
    }
    if let Some(t) = &server.last_test {
        let (g, style) = if t.ok {
            ("✔", theme.ok())
        } else {
            ("✖", theme.err())
        };
        out.extend(r(
            "Last test",
            vec![Span::styled(format!("{g} "), style), Span::raw(t.summary.clone())],
        ));
    }
    out.extend(r(
        "Server",
        vec![Span::raw(format!(
            "{}:{}{}",
            server.host,
            server.port,
            if server.ssl { " · SSL/TLS" } else { "" }
        ))],
    ));
    out.extend(r(
        "Auth",
        vec![Span::raw(format!("IMAP · {}", server.auth.label()))],
    ));
    out.extend(r("Username", vec![Span::raw(server.username.clone())]));
    match (server.auth, app) {
        (AuthKind::OAuth2, Some(app)) => {
            out.extend(r(
                "Azure app",
                vec![Span::raw(format!("{} ({})", app.name, app.short_client_id()))],
            ));
            out.extend(r("Client ID", vec![Span::raw(app.client_id.clone())]));
            out.extend(r("Tenant", vec![Span::raw(app.tenant.clone())]));
            let mut secret = vec![Span::raw(match &app.secret {
                None => "none stored".to_string(),
                Some(s) if model.reveal => s.expose().to_string(),
                Some(s) => s.masked(),
            })];
            if let Some(d) = app.secret_expires {
                let left = health.secret_days_left.unwrap_or(0);
                let style = if left <= 7 {
                    theme.err()
                } else if left <= 30 {
                    theme.warn()
                } else {
                    ratatui::style::Style::new()
                };
                secret.push(Span::styled(format!(" · expires {d} ({left} d)"), style));
            }
            out.extend(r("Secret", secret));
            if app.authority != DEFAULT_AUTHORITY {
                out.extend(r("Authority", vec![Span::raw(app.authority.clone())]));
            }
        }
        (AuthKind::OAuth2, None) => out.extend(r(
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
    // The findings, most serious first (the first of equals wins: the token before the rest).
    let mut findings: Vec<_> = health
        .findings
        .iter()
        .filter(|f| f.level >= Level::Warning)
        .collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    if !findings.is_empty() {
        out.push(Line::default());
    }
    for f in findings.into_iter().take(3) {
        let g = if f.level == Level::Warning { "⚠" } else { "✖" };
        out.extend(para(
            &format!("{g} {}", f.message),
            width,
            0,
            theme.level(f.level),
        ));
    }
    out
}
