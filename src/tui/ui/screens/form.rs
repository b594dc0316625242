//! Wizard step 4 (and `e`): the server form with inline errors, scrolled to the focus.

use crate::model::AuthKind;
use crate::tui::state::Model;
use crate::tui::state::field::TextField;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::form::{FieldId, Form};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets;
use crate::tui::ui::widgets::text::para;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const LABEL: usize = 17;
/// The rows the form keeps beside a pre-flight result: the focused field and its error.
const FORM_ROWS: u16 = 3;

fn placeholder(form: &Form, f: FieldId) -> &'static str {
    match f {
        FieldId::Name => "e.g. Support inbox",
        FieldId::Username => "e.g. support@contoso.com",
        FieldId::SignInAs => "(optional) for a shared mailbox",
        FieldId::Secret if form.editing.is_some() => "(unchanged; type to replace)",
        FieldId::Secret => "the secret's Value, not its ID",
        FieldId::Password if form.editing.is_some() => "(unchanged; type to replace)",
        FieldId::Password => "the mailbox password",
        FieldId::ClientId => "Application (client) ID",
        FieldId::Tenant => "Directory (tenant) ID or domain",
        FieldId::Expires => "YYYY-MM-DD (optional)",
        FieldId::CaFile => "(optional) PEM file of a private CA",
        _ => "",
    }
}

pub fn render(model: &Model, form: &Form, theme: &Theme, area: Rect, f: &mut Frame) {
    let width = area.width as usize;
    // The pre-flight result stays in view under the fields, whichever field has the cursor.
    let checklist = super::preflight::lines(model, &form.preflight, theme, width);
    let area = if checklist.is_empty() {
        area
    } else {
        // The checklist may take all but the focused field's rows: its fix, the line that
        // says what to do, must never sit below the edge (the form cannot scroll to it).
        let want = u16::try_from(checklist.len() + 1).unwrap_or(u16::MAX);
        let h = want.min(area.height.saturating_sub(FORM_ROWS).max(area.height / 2));
        let below = Rect {
            y: area.bottom() - h,
            height: h,
            ..area
        };
        let mut shown = vec![Line::default()];
        shown.extend(checklist);
        // Still too tall: its end (the fix) stays in view, the reason above it is cut.
        let hidden = want.saturating_sub(h);
        f.render_widget(Paragraph::new(shown).scroll((hidden, 0)), below);
        Rect {
            height: area.height - h,
            ..area
        }
    };
    let value_w = width.saturating_sub(LABEL + 1).max(4);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut focus_span = (0usize, 0usize);
    let mut cursor: Option<(usize, usize)> = None;
    if let Some(n) = &form.note {
        lines.extend(para(&format!("✔ {n}"), width, 0, theme.ok()));
    }
    if let Some(g) = &form.general {
        lines.extend(para(&format!("✖ {g}"), width, 0, theme.err()));
    }
    for field in form.visible() {
        let focused = field == form.fields.focus;
        // An unfocused value too long for its column goes on under it, never cut.
        let mut continued: Vec<String> = Vec::new();
        let start = lines.len();
        let label_style = if focused { theme.accent() } else { theme.label() };
        let marker = if focused { "▸" } else { " " };
        let choice_row = |value: Span<'static>| {
            Line::from(vec![
                Span::styled(
                    format!("{marker}{:<w$}", field.label(), w = LABEL - 1),
                    label_style,
                ),
                value,
            ])
        };
        let line = match field {
            FieldId::ServerType => choice_row(Span::styled("IMAP", theme.dim())),
            FieldId::Ssl => choice_row(Span::styled(
                if form.auth.is_oauth() {
                    "✔ on (locked for OAuth2)"
                } else {
                    "✔ on (implicit TLS)"
                },
                theme.dim(),
            )),
            FieldId::Auth => choice_row(choice(form.auth.label(), focused, theme)),
            FieldId::Cloud => choice_row(choice(form.cloud.label(), focused, theme)),
            FieldId::App => {
                let label = form
                    .app
                    .clone()
                    .unwrap_or_else(|| "new app (type it below)".into());
                choice_row(choice(&label, focused, theme))
            }
            _ => {
                let input = form.fields.get(field);
                let value = input.map_or("", TextField::value);
                let masked = field.is_secret() && !(focused && form.fields.reveal);
                let (mut line, x) = widgets::field::row(
                    (field.label(), LABEL),
                    input,
                    focused,
                    masked,
                    placeholder(form, field),
                    value_w,
                    theme,
                );
                if focused {
                    cursor = Some((x, lines.len()));
                }
                if !value.is_empty() {
                    if !focused && !masked && value.chars().count() > value_w {
                        let rest: String = value.chars().skip(value_w).collect();
                        continued = crate::tui::ui::widgets::text::chunks(&rest, value_w);
                    }
                    if field.is_secret() && focused {
                        let what = if form.fields.reveal { "hides" } else { "shows" };
                        line.spans.push(Span::styled(
                            format!("  {}", model.keys_line(&[(Action::Reveal, what)])),
                            theme.dim(),
                        ));
                    }
                }
                line
            }
        };
        lines.push(line);
        // Under the choice while it is being made (the form stays short otherwise).
        if field == FieldId::Auth && focused {
            lines.extend(para(trade_off(form.auth), width, LABEL, theme.dim()));
        }
        for more in continued {
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(LABEL)),
                Span::styled(more, theme.field(false)),
            ]));
        }
        if field == FieldId::SignInAs && focused {
            lines.extend(para(&sign_in_as_note(form), width, 2, theme.dim()));
        }
        if let Some(e) = form.fields.errors.get(&field) {
            // A no-break space: the mark never stands alone on a line.
            lines.extend(para(&format!("✖\u{a0}{e}"), width, LABEL, theme.err()));
        }
        if focused {
            focus_span = (start, lines.len());
        }
    }
    lines.push(Line::default());
    let save = if form.editing.is_some() {
        "saves"
    } else {
        "saves as a Draft"
    };
    lines.extend(para(
        &model.keys_line(&[
            (Action::Submit, save),
            (Action::NextField, "next field"),
            (Action::Left, "change a choice"),
        ]),
        width,
        0,
        theme.dim(),
    ));

    let height = area.height as usize;
    let offset = focus_span.1.saturating_sub(height);
    let offset = u16::try_from(offset.min(focus_span.0)).unwrap_or(0);
    f.render_widget(Paragraph::new(lines).scroll((offset, 0)), area);
    if let Some((x, y)) = cursor
        && model.popup.is_none()
        && let (Ok(x), Ok(y)) = (u16::try_from(x), u16::try_from(y))
        && y >= offset
        && y - offset < area.height
    {
        f.set_cursor_position(Position::new(
            area.x + x.min(area.width.saturating_sub(1)),
            area.y + (y - offset),
        ));
    }
}

/// Under "Sign in as": what a delegate is, and what it needs once one is typed.
fn sign_in_as_note(form: &Form) -> String {
    let delegate = form.value(FieldId::SignInAs).trim();
    let mailbox = form.value(FieldId::Username).trim();
    if delegate.is_empty() || mailbox.is_empty() {
        "For a shared mailbox: Username is the mailbox; the delegate who has FullAccess on it signs in here."
            .into()
    } else {
        crate::ops::consent::shared_mailbox_note(delegate, mailbox)
    }
}

/// What choosing this kind of authentication means, in one line.
fn trade_off(auth: AuthKind) -> &'static str {
    match auth {
        AuthKind::OAuth2 => "a person signs in once; their refresh token keeps it going",
        AuthKind::OAuth2App => {
            "no user signs in, nothing expires with a person; needs an Exchange admin once"
        }
        AuthKind::Basic => "a password (Microsoft 365 no longer accepts it)",
    }
}

fn choice(label: &str, focused: bool, theme: &Theme) -> Span<'static> {
    if focused {
        Span::styled(format!("‹ {label} ›"), theme.field(true))
    } else {
        Span::raw(format!("  {label}"))
    }
}
