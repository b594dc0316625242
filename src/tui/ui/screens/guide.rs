//! Wizard steps 1–3: the Azure side. Step 1's choice page, the portal's registration steps
//! with the client ID and tenant fields, the secret step with the Value and expiry fields,
//! and the permissions step. (The script page is `script.rs`.)

use crate::model::AuthKind;
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::form::{FieldId, Form};
use crate::tui::state::wizard::guide::{Page, Path, Question, admin_consent_link, redirect_to_register};
use crate::tui::state::wizard::{Step, Wizard};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::field;
use crate::tui::ui::widgets::text::{bullet, chunks, para};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Width of a field's label column.
const LABEL: usize = 26;

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, f: &mut Frame) {
    if w.step == Step::Register && w.guide.page == Page::Script {
        return super::script::render(model, w, theme, area, f);
    }
    let width = area.width as usize;
    let mut l: Vec<Line<'static>> = vec![Line::default()];
    let mut cursor = None;
    match (w.step, w.guide.page) {
        (Step::Register, Page::Choose) => choose(model, w, theme, width, &mut l),
        (Step::Register, Page::Apps) => super::existing::apps(model, w, theme, width, &mut l),
        (Step::Register, _) => {
            register(model, w, theme, width, &mut l);
            cursor = fields(model, w, theme, width, &mut l);
        }
        (Step::Secret, _) => {
            secret(width, &mut l);
            cursor = fields(model, w, theme, width, &mut l);
        }
        _ => permissions(model, w, theme, width, &mut l),
    }
    // Keep the focused field on screen on a short terminal.
    let offset = cursor.map_or(0, |(_, y)| (y + 3).saturating_sub(area.height as usize));
    let offset = u16::try_from(offset).unwrap_or(0);
    f.render_widget(Paragraph::new(l).scroll((offset, 0)), area);
    if let Some((x, y)) = cursor
        && let (Ok(x), Ok(y)) = (u16::try_from(x), u16::try_from(y))
        && y >= offset
        && y - offset < area.height
        && model.popup.is_none()
    {
        f.set_cursor_position(Position::new(
            area.x + x.min(area.width.saturating_sub(1)),
            area.y + (y - offset),
        ));
    }
}

fn url(l: &mut Vec<Line<'static>>, url: &str, width: usize, theme: &Theme) {
    for c in chunks(url, width.saturating_sub(2)) {
        l.push(Line::from(Span::styled(format!("  {c}"), theme.link())));
    }
}

/// One question with its two answers, the chosen one marked, and its trade-off line.
fn question(
    l: &mut Vec<Line<'static>>,
    title: &str,
    focused: bool,
    answers: &[(&str, &str)],
    chosen: usize,
    theme: &Theme,
    width: usize,
) {
    let marker = if focused { "▸ " } else { "  " };
    let style = if focused { theme.accent() } else { theme.bold() };
    l.push(Line::from(Span::styled(format!("{marker}{title}"), style)));
    for (i, (answer, why)) in answers.iter().enumerate() {
        let (dot, style) = if i == chosen {
            ("●", theme.field(focused))
        } else {
            ("○", Style::new())
        };
        l.extend(para(&format!("{dot} {answer}"), width, 4, style));
        if !why.is_empty() {
            l.extend(para(why, width, 6, theme.dim()));
        }
    }
}

fn choose(model: &Model, w: &Wizard, theme: &Theme, width: usize, l: &mut Vec<Line<'static>>) {
    let mut answers = vec![
        (
            "Set it up with a script in Azure Cloud Shell (recommended)".to_string(),
            "One paste in Cloud Shell registers the app with its permission; you paste back one line."
                .to_string(),
        ),
        (
            "Step by step in the portal".to_string(),
            "Click through Microsoft Entra ID yourself; each value is typed where it is shown.".to_string(),
        ),
    ];
    let apps = model.data.config.apps.len();
    if apps > 0 {
        // One line: with it, both questions still fit 80×24 (the app list explains the rest).
        answers.push((
            format!("Use an app I already have ({apps} stored)"),
            String::new(),
        ));
    }
    let answers: Vec<(&str, &str)> = answers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let chosen = match w.guide.path {
        Path::Script => 0,
        Path::Portal => 1,
        Path::Existing => 2,
    };
    question(
        l,
        "How do you want to register the app in Azure?",
        w.guide.question == Question::Path,
        &answers,
        chosen,
        theme,
        width,
    );
    l.push(Line::default());
    if w.guide.path == Path::Existing {
        // The stored app already answers the second question.
        return;
    }
    question(
        l,
        "With a client secret or without?",
        w.guide.question == Question::Credential,
        &[
            (
                "With a client secret (the usual way)",
                "A secret expires within 24 months, and some tenants forbid new ones.",
            ),
            (
                "Without: a public client",
                "No secret to store or renew; it signs in with PKCE in the browser or a device code.",
            ),
        ],
        usize::from(w.form.public_client),
        theme,
        width,
    );
    // The keys (↑↓, ←→, Enter) are in the hint bar; the page has no room to repeat them.
}

fn register(model: &Model, w: &Wizard, theme: &Theme, width: usize, l: &mut Vec<Line<'static>>) {
    let plain = Style::new();
    l.extend(para(
        "In portal.azure.com open Microsoft Entra ID → App registrations → New registration.",
        width,
        0,
        plain,
    ));
    l.extend(bullet(
        "Name: anything you will recognise, e.g. \"inbound mail\"; Supported account types: this organizational directory only (Single tenant).",
        width,
        plain,
    ));
    if w.form.public_client {
        l.extend(bullet(
            "Redirect URI: platform \"Mobile and desktop applications\", and exactly:",
            width,
            plain,
        ));
        url(
            l,
            &redirect_to_register(w, &model.data.config.settings),
            width,
            theme,
        );
        l.extend(bullet(
            "After registering: Authentication → \"Allow public client flows\" → Yes → Save.",
            width,
            plain,
        ));
    } else {
        l.extend(bullet("Redirect URI: platform Web, and exactly:", width, plain));
        url(
            l,
            &redirect_to_register(w, &model.data.config.settings),
            width,
            theme,
        );
    }
    l.extend(bullet(
        "Register. The Overview page shows the two IDs: type or paste them here.",
        width,
        plain,
    ));
    l.push(Line::default());
}

fn secret(width: usize, l: &mut Vec<Line<'static>>) {
    let plain = Style::new();
    l.extend(para(
        "Certificates & secrets → Client secrets → New client secret (it lasts at most 24 months).",
        width,
        0,
        plain,
    ));
    l.extend(para(
        "Copy the Value column right away — it is shown only once: a long string like abc8Q~… (about 40 characters). Not the Secret ID: that is a GUID (8-4-4-4-12 hex digits), and Microsoft refuses it (AADSTS7000215).",
        width,
        0,
        plain,
    ));
    l.push(Line::default());
}

/// The step's fields (values from the form); returns the cursor position.
fn fields(
    model: &Model,
    w: &Wizard,
    theme: &Theme,
    width: usize,
    l: &mut Vec<Line<'static>>,
) -> Option<(usize, usize)> {
    let form = &w.form;
    let value_w = width.saturating_sub(LABEL + 1).max(4);
    let mut cursor = None;
    for field in crate::tui::state::wizard::guide::fields_of(w.step) {
        let focused = *field == w.guide.focus;
        let masked = field.is_secret() && !(focused && form.fields.reveal);
        let (line, x) = field::row(
            (label(*field), LABEL),
            form.fields.get(*field),
            focused,
            masked,
            placeholder(*field),
            value_w,
            theme,
        );
        if focused {
            cursor = Some((x, l.len()));
        }
        l.push(line);
        if let Some(e) = form.fields.errors.get(field) {
            l.extend(para(&format!("✖\u{a0}{e}"), width, 4, theme.err()));
        }
    }
    l.push(Line::default());
    let copy = (w.step == Step::Register).then_some((Action::Copy, "copies the redirect URL"));
    let reveal = (w.step == Step::Secret).then_some((Action::Reveal, "shows the secret"));
    let items: Vec<(Action, &str)> = copy
        .into_iter()
        .chain(reveal)
        .chain([(Action::NextField, "next field"), (Action::Open, "next step")])
        .collect();
    l.extend(para(&model.keys_line(&items), width, 0, theme.dim()));
    cursor
}

fn label(f: FieldId) -> &'static str {
    match f {
        FieldId::ClientId => "Application (client) ID",
        FieldId::Tenant => "Directory (tenant) ID",
        FieldId::Secret => "Secret Value",
        FieldId::Expires => "Expires",
        other => other.label(),
    }
}

fn placeholder(f: FieldId) -> &'static str {
    match f {
        FieldId::ClientId => "a GUID, from Overview",
        FieldId::Tenant => "a GUID or contoso.com",
        FieldId::Secret => "the Value, e.g. abc8Q~…",
        FieldId::Expires => "YYYY-MM-DD, as the portal shows it",
        _ => "",
    }
}

fn permissions(model: &Model, w: &Wizard, theme: &Theme, width: usize, l: &mut Vec<Line<'static>>) {
    let plain = Style::new();
    let form: &Form = &w.form;
    l.extend(para(
        "Since late 2025 most tenants let only an admin consent to IMAP (once, for everyone).",
        width,
        0,
        theme.warn(),
    ));
    l.extend(para("API permissions → Add a permission:", width, 0, plain));
    if form.auth == AuthKind::OAuth2App {
        // App-only: nobody signs in, so no delegated permission and no refresh token.
        l.extend(bullet("APIs my organization uses → Office 365 Exchange Online → Application permissions → IMAP.AccessAsApp", width, plain));
        l.extend(bullet(
            "An application permission always needs an admin's consent.",
            width,
            plain,
        ));
    } else {
        l.extend(bullet("APIs my organization uses → Office 365 Exchange Online (or Microsoft Graph) → Delegated permissions → IMAP.AccessAsUser.All", width, plain));
        l.extend(bullet(
            "Microsoft Graph → Delegated → offline_access (keeps the sign-in alive; openid, email, profile too)",
            width,
            plain,
        ));
    }
    // The link last but one: whole on screen at 80×24 (the keys are in the bottom bar too).
    l.extend(para(
        "Then \"Grant admin consent\", or send an admin this link (paste the address their browser ends on, admin_consent=True, at the sign-in step):",
        width,
        0,
        plain,
    ));
    match admin_consent_link(w, &model.data.config.settings) {
        Some(u) => url(l, &u, width, theme),
        None => {
            l.extend(para(
                "(the link appears here once the client ID and tenant are entered, on step 1 or in the form)",
                width,
                2,
                theme.dim(),
            ));
        }
    }
    l.push(Line::default());
    l.extend(para(
        &model.keys_line(&[
            (Action::Copy, "copies the admin consent link"),
            (Action::Open, "next"),
        ]),
        width,
        0,
        theme.dim(),
    ));
}
