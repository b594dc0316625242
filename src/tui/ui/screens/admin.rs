//! Step 5's admin consent screen: the two routes, or the admin consent page waiting. Links are
//! shown whole across the full width (OSC 8 when the terminal is real).

use crate::ops::admin_consent::ADMIN_ROLES;
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::Wizard;
use crate::tui::state::wizard::admin::{Admin, AdminRoute};
use crate::tui::state::wizard::listening::BrowserNote;
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::link;
use crate::tui::ui::widgets::text::{para, spinner};
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn countdown(deadline: Timestamp, now: Timestamp) -> String {
    let left = deadline.duration_since(now).as_secs().max(0);
    format!("{}:{:02}", left / 60, left % 60)
}

/// "(y copies it)" for the screen's copy key, if it has one.
fn copies(model: &Model) -> String {
    model
        .key(Action::Copy)
        .map(|k| format!(" ({k} copies it)"))
        .unwrap_or_default()
}

pub fn render(model: &Model, w: &Wizard, admin: &Admin, theme: &Theme, area: Rect, f: &mut Frame) {
    let width = area.width as usize;
    let plain = Style::new();
    let mut top: Vec<Line<'static>> = Vec::new();
    let mut bottom: Vec<Line<'static>> = Vec::new();
    // The paste field's cursor: (column, line of `bottom`).
    let mut cursor: Option<(usize, usize)> = None;
    let url: &str;
    match &admin.route {
        AdminRoute::Choose | AdminRoute::Starting { .. } => {
            url = &admin.need.admin_link;
            // What must show comes first; on a short terminal the optional parts go, never
            // the link or the note after it.
            let height = usize::from(area.height);
            let link_h = usize::from(link::height(url, area.width));
            let need = &admin.need;
            let head_text = if need.declined {
                // Microsoft's answer cannot tell a Cancel from "Need admin approval".
                let again = model
                    .key(Action::Connect)
                    .map(|k| format!("{k} signs in again (accept this time)"))
                    .unwrap_or_else(|| "sign in again and accept".into());
                format!(
                    "⚠ Consent for \"{}\" was declined. If you pressed Cancel, {again}; if Microsoft said \"Need admin approval\", an admin grants it once for the organization:",
                    need.server
                )
            } else {
                format!(
                    "⚠ \"{}\" needs admin approval: this tenant does not let users consent to IMAP for app \"{}\" themselves, so an admin grants it once for the organization.",
                    need.server, need.app
                )
            };
            let head = para(&head_text, width, 1, theme.warn());
            let microsoft = if need.microsoft.is_empty() {
                Vec::new()
            } else {
                para(&format!("Microsoft: {}", need.microsoft), width, 3, theme.dim())
            };
            let failure = admin
                .failure
                .as_ref()
                .map(|fail| para(&format!("✖ {}", fail.message), width, 1, theme.err()))
                .unwrap_or_default();
            let grant = match &admin.route {
                AdminRoute::Starting { .. } => format!(
                    "1 I am an admin: {} opening the admin consent page…",
                    spinner(model.frame)
                ),
                _ => format!(
                    "1 I am an admin: {}",
                    model.keys_line(&[(Action::GrantAdmin, "grants it for the organization")])
                ),
            };
            let grant = para(&grant, width, 1, plain);
            let roles = para(
                &format!("({ADMIN_ROLES}); the sign-in follows at once."),
                width,
                3,
                theme.dim(),
            );
            let send = para(
                &format!("2 Or send this link to your admin{}:", copies(model)),
                width,
                1,
                plain,
            );
            let after_text = format!(
                "After accepting, the admin's browser ends on an address with admin_consent=True: {}, paste it to record the grant; or sign in again.",
                model
                    .key(Action::GrantAdmin)
                    .map_or_else(|| "start the admin route".to_string(), |k| format!("press {k}"))
            );
            let after = para(&after_text, width, 1, theme.dim());
            let keys = para(
                &model.keys_line(&[(Action::Connect, "signs in again"), (Action::Back, "back")]),
                width,
                1,
                theme.dim(),
            );
            let needed = head.len() + failure.len() + grant.len() + send.len() + link_h + after.len();
            let mut room = height.saturating_sub(needed);
            let mut fits = |n: usize| {
                let ok = n <= room;
                if ok {
                    room -= n;
                }
                ok
            };
            let show_roles = fits(roles.len());
            let show_microsoft = fits(microsoft.len());
            let show_gap = fits(1);
            let show_keys = fits(keys.len() + 1);
            top.extend(head);
            if show_microsoft {
                top.extend(microsoft);
            }
            top.extend(failure);
            if show_gap {
                top.push(Line::default());
            }
            top.extend(grant);
            if show_roles {
                top.extend(roles);
            }
            top.extend(send);
            bottom.extend(after);
            if show_keys {
                bottom.push(Line::default());
                bottom.extend(keys);
            }
        }
        AdminRoute::Waiting {
            url: u,
            port,
            deadline,
            browser,
            ..
        } => {
            url = u;
            let head = match browser {
                BrowserNote::Opening => "Opening your browser…".to_string(),
                BrowserNote::Opened => "Your browser should show Microsoft's admin consent page.".to_string(),
                BrowserNote::Failed(e) => format!("The browser did not open ({e})."),
                BrowserNote::NotHere(reason) => (*reason).to_string(),
            };
            top.extend(para(&head, width, 1, plain));
            top.extend(para(
                &format!(
                    "Sign in as an admin and accept for the organization{}:",
                    copies(model)
                ),
                width,
                1,
                plain,
            ));
            bottom.extend(para(
                "Or paste the address the admin's browser ended on:",
                width,
                1,
                plain,
            ));
            let field = match w.paste.input.value() {
                "" if w.paste.focused => String::new(),
                "" => model
                    .key(Action::NextField)
                    .map(|k| format!("{k}, then paste: http://localhost:{port}/…?admin_consent=True…"))
                    .unwrap_or_default(),
                v => {
                    let inner = width.saturating_sub(6).max(4);
                    let scroll = w.paste.input.visual_scroll(inner);
                    v.chars().skip(scroll).take(inner).collect()
                }
            };
            if w.paste.focused {
                let inner = width.saturating_sub(6).max(4);
                let scroll = w.paste.input.visual_scroll(inner);
                cursor = Some((
                    5 + w.paste.input.visual_cursor().saturating_sub(scroll),
                    bottom.len(),
                ));
            }
            let frame = if w.paste.focused {
                theme.accent()
            } else {
                theme.dim()
            };
            bottom.push(Line::from(vec![
                Span::raw("    "),
                Span::styled("▏", frame),
                Span::styled(field, theme.field(w.paste.focused)),
            ]));
            if w.paste.checking {
                bottom.extend(para("checking the address…", width, 5, theme.dim()));
            }
            if let Some(e) = &w.paste.error {
                bottom.extend(para(&format!("✖ {e}"), width, 5, theme.err()));
            }
            if model.env.demo.is_some() {
                bottom.push(crate::tui::ui::widgets::demo::line(
                    &model.keys_line(&[(
                        Action::DemoSignIn,
                        "approves as the demo's admin, like a browser would",
                    )]),
                    theme,
                ));
            }
            bottom.push(Line::from(vec![
                Span::styled(format!(" {} ", spinner(model.frame)), theme.accent()),
                Span::raw(format!(
                    "waiting for the admin · listener 127.0.0.1:{port} · {} left{}",
                    countdown(*deadline, model.now),
                    model
                        .key(Action::Back)
                        .map(|k| format!(" · {k} cancels"))
                        .unwrap_or_default()
                )),
            ]));
        }
    }
    // Top, the link whole, then the rest: the link never loses a line to the others.
    let url_h = link::height(url, area.width).min(area.height);
    let top_h = u16::try_from(top.len())
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(url_h));
    f.render_widget(
        Paragraph::new(top),
        Rect {
            height: top_h,
            ..area
        },
    );
    let y = area.y + top_h;
    link::render(
        url,
        Rect {
            y,
            height: url_h,
            ..area
        },
        f.buffer_mut(),
        theme.link(),
        model.env.hyperlinks,
    );
    let y = y + url_h;
    let rest = Rect {
        y,
        height: area.bottom().saturating_sub(y),
        ..area
    };
    f.render_widget(Paragraph::new(bottom), rest);
    if let Some((x, dy)) = cursor
        && model.popup.is_none()
        && let (Ok(x), Ok(dy)) = (u16::try_from(x), u16::try_from(dy))
        && dy < rest.height
    {
        f.set_cursor_position(ratatui::layout::Position::new(
            rest.x + x.min(rest.width.saturating_sub(1)),
            rest.y + dy,
        ));
    }
}
