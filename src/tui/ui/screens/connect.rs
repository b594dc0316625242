//! Wizard step 5: the sign-in. The link is shown whole across the full width (OSC 8 when the
//! terminal is real); below it the other ways to finish — over SSH the exact tunnel command
//! for the bound port, the paste-back field, and device code (`d`), which has its own view.

use crate::model::health::Fix;
use crate::services::oauth::device::PollEvent;
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::Wizard;
use crate::tui::state::wizard::connect::{BrowserNote, Connect, Device, PasteField};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::{cols, para, spinner};
use crate::tui::ui::widgets::{demo, link};
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Indent of the paste field's frame.
const FIELD_X: usize = 4;

/// The shared mailbox's delegate ("Sign in as"), who signs in instead of the mailbox.
fn delegate(model: &Model, w: &Wizard) -> Option<String> {
    w.server
        .as_deref()
        .and_then(|n| model.data.config.server(n))
        .and_then(|s| s.sign_in_as.clone())
}

fn minutes(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// How long a wait of `timeout` that ends at `deadline` has run.
fn elapsed(deadline: Timestamp, timeout: std::time::Duration, now: Timestamp) -> String {
    let left = deadline.duration_since(now).as_secs().max(0).unsigned_abs();
    minutes(timeout.as_secs().saturating_sub(left))
}

/// The public-client note (device code needs it; microsoft-facts §7).
const PUBLIC_CLIENT: &str = "Device code needs the app registration's Authentication → Advanced settings → \"Allow public client flows\" = Yes (no client secret is sent). Conditional Access may block it.";

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, f: &mut Frame) {
    if let Some(admin) = &w.admin {
        super::admin::render(model, w, admin, theme, area, f);
        return;
    }
    if w.device.shown() {
        device(model, w, theme, area, f);
        return;
    }
    let width = area.width as usize;
    let plain = Style::new();
    let mut top: Vec<Line<'static>> = Vec::new();
    let mut bottom: Vec<Line<'static>> = Vec::new();
    let mut url: Option<&str> = None;
    let mut cursor: Option<(usize, usize)> = None;
    match &w.connect {
        Connect::Idle => {
            let ask = match delegate(model, w) {
                Some(d) => {
                    format!("Sign in as {d} (the delegate of the shared mailbox) and accept the permissions.")
                }
                None => {
                    "Sign in with the mailbox's Microsoft account and accept the permissions.".to_string()
                }
            };
            top.extend(para(&ask, width, 1, plain));
            top.extend(para(
                &model.keys_line(&[
                    (Action::Connect, "starts the sign-in"),
                    (Action::DeviceCode, "device code"),
                    (Action::Back, "back"),
                ]),
                width,
                1,
                theme.dim(),
            ));
        }
        Connect::Cancelled => {
            top.extend(para(
                "Sign-in cancelled; the listener's port is free again.",
                width,
                1,
                plain,
            ));
            top.extend(para(
                &model.keys_line(&[
                    (Action::Connect, "tries again"),
                    (Action::DeviceCode, "device code"),
                    (Action::Back, "back"),
                ]),
                width,
                1,
                theme.dim(),
            ));
        }
        Connect::Starting { .. } => {
            top.push(Line::from(format!(
                " {} starting the sign-in listener…",
                spinner(model.frame)
            )));
        }
        Connect::Failed(f) => {
            top.extend(para(&format!("✖ {}", f.message), width, 1, theme.err()));
            if let Some(h) = &f.hint {
                let key = f
                    .fix
                    .as_ref()
                    .and_then(crate::tui::ui::fix::action)
                    .and_then(|a| model.key(a));
                let h = match key {
                    Some(k) => format!("→ {h} (press {k})"),
                    None => format!("→ {h}"),
                };
                top.extend(para(&h, width, 1, plain));
            }
            top.push(Line::default());
            let fix = f
                .field
                .filter(|_| w.new)
                .map(|field| format!("fixes the {} in the form (the cursor goes there)", field.label()));
            let next = match (&fix, w.new) {
                (Some(fix), _) => {
                    model.keys_line(&[(Action::Back, fix), (Action::Connect, "tries again unchanged")])
                }
                (None, true) => model.keys_line(&[
                    (Action::Connect, "tries again"),
                    (Action::DeviceCode, "device code (no browser needed here)"),
                    (Action::Back, "back to the form"),
                ]),
                (None, false) => model.keys_line(&[
                    (Action::Connect, "tries again"),
                    (Action::DeviceCode, "device code (no browser needed here)"),
                    (Action::Back, "back to the list"),
                ]),
            };
            top.extend(para(&next, width, 1, theme.dim()));
        }
        Connect::Waiting {
            url: u,
            port,
            deadline,
            browser,
            ..
        } => {
            url = Some(u);
            let account = w
                .server
                .as_deref()
                .and_then(|n| model.data.config.server(n))
                // A shared mailbox cannot sign in: its delegate does.
                .map(|s| s.sign_in_account().to_string())
                .unwrap_or_default();
            let situation = &model.env.situation;
            // A browser that failed to start leaves the same ways as having none.
            let remote = matches!(browser, BrowserNote::NotHere(_) | BrowserNote::Failed(_));
            let head = match browser {
                BrowserNote::Opening => "Opening your browser…".to_string(),
                BrowserNote::Opened => "Your browser should show Microsoft's sign-in.".to_string(),
                BrowserNote::Failed(e) => format!("The browser did not open ({e}). Sign in another way:"),
                BrowserNote::NotHere(reason) if situation.ssh => {
                    format!("{reason} Sign in from your own computer:")
                }
                BrowserNote::NotHere(reason) => format!("{reason} Sign in from another device:"),
            };
            top.extend(para(&head, width, 1, plain));
            top.extend(para(
                &format!(
                    "1 Open this link{} and sign in as {account}:",
                    model
                        .key(Action::Copy)
                        .map(|k| format!(" ({k} copies it)"))
                        .unwrap_or_default()
                ),
                width,
                1,
                plain,
            ));
            // "a) keep …" in the list of ways over SSH / without a display; "Keep …" otherwise.
            let item = |tag: &str, text: &str| {
                let text = if tag == "a)" {
                    text.strip_prefix("or ").unwrap_or(text)
                } else {
                    text
                };
                if remote {
                    format!("{tag} {text}")
                } else {
                    let mut c = text.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                }
            };
            if situation.ssh {
                bottom.extend(para(
                    &item(
                        "a)",
                        "keep this tunnel open from your computer; the sign-in then ends by itself:",
                    ),
                    width,
                    1,
                    plain,
                ));
                bottom.push(Line::from(Span::styled(
                    format!("      {}", situation.tunnel_command(*port)),
                    theme.accent(),
                )));
                bottom.extend(para(
                    &format!("(through it, http://localhost:{port}/start opens the link above too)"),
                    width,
                    4,
                    theme.dim(),
                ));
            }
            bottom.extend(para(
                &item(
                    if situation.ssh { "b)" } else { "a)" },
                    "or paste the address your browser ended on (\"can't be reached\" is fine):",
                ),
                width,
                1,
                plain,
            ));
            let (line, x) = paste_field(&w.paste, *port, model.key(Action::NextField), theme, width);
            if w.paste.focused {
                cursor = Some((x, bottom.len()));
            }
            bottom.push(line);
            if w.paste.checking {
                bottom.extend(para("checking the address…", width, FIELD_X + 1, theme.dim()));
            }
            if let Some(e) = &w.paste.error {
                bottom.extend(para(&format!("✖ {e}"), width, FIELD_X + 1, theme.err()));
            }
            bottom.extend(para(
                &item(
                    if situation.ssh { "c)" } else { "b)" },
                    "no browser anywhere? d = device code (needs \"Allow public client flows\").",
                ),
                width,
                1,
                theme.dim(),
            ));
            if model.env.demo.is_some() {
                bottom.push(demo::line(
                    &model.keys_line(&[(
                        Action::DemoSignIn,
                        &format!("signs in as {account}, like a browser would"),
                    )]),
                    theme,
                ));
            }
            bottom.push(Line::from(vec![
                Span::styled(format!(" {} ", spinner(model.frame)), theme.accent()),
                Span::raw(format!(
                    "waiting for Microsoft {} of {} · listener 127.0.0.1:{port}{}",
                    elapsed(*deadline, model.data.config.settings.consent_timeout(), model.now),
                    minutes(model.data.config.settings.consent_timeout().as_secs()),
                    model
                        .key(Action::Back)
                        .map(|k| format!(" · {k} cancels"))
                        .unwrap_or_default()
                )),
            ]));
        }
    }
    let top_h = u16::try_from(top.len()).unwrap_or(u16::MAX).min(area.height);
    let top_area = Rect {
        height: top_h,
        ..area
    };
    f.render_widget(Paragraph::new(top), top_area);
    // Below the top: the link, then the ways to finish. A terminal too short for all of it
    // never drops lines silently: this part scrolls (PgDn/PgUp) and its last row says what
    // is hidden.
    let mut y = area.y + top_h;
    let rows = usize::from(area.bottom().saturating_sub(y));
    let url_h = url.map_or(0, |u| usize::from(link::height(u, area.width)));
    let total = url_h + bottom.len();
    let (skip, room, indicator) = if total > rows && rows >= 2 {
        let room = rows - 1;
        let max = total - room;
        let skip = usize::from(w.scroll).min(max);
        let more = match (skip > 0, skip < max) {
            (true, true) => format!(" ▲▼ {skip} above, {} below · PgUp/PgDn scroll", max - skip),
            (false, _) => {
                let n = max - skip;
                format!(
                    " ▼ {n} more line{} below · PgDn scrolls",
                    if n == 1 { "" } else { "s" }
                )
            }
            (true, false) => format!(" ▲ {skip} above · PgUp scrolls"),
        };
        (skip, room, Some(more))
    } else {
        (0, rows, None)
    };
    let url_skip = skip.min(url_h);
    let url_rows = (url_h - url_skip).min(room);
    if let Some(u) = url
        && url_rows > 0
    {
        let h = u16::try_from(url_rows).unwrap_or(u16::MAX);
        link::render_from(
            u,
            url_skip,
            Rect { y, height: h, ..area },
            f.buffer_mut(),
            theme.link(),
            model.env.hyperlinks,
        );
        y += h;
    }
    let bottom_skip = skip.saturating_sub(url_h);
    let bottom_room = room - url_rows;
    let bottom: Vec<Line<'static>> = bottom.into_iter().skip(bottom_skip).take(bottom_room).collect();
    let cursor = cursor
        .and_then(|(x, dy)| dy.checked_sub(bottom_skip).map(|d| (x, d)))
        .filter(|(_, d)| *d < bottom_room);
    let rest = Rect {
        y,
        height: u16::try_from(bottom_room).unwrap_or(u16::MAX),
        ..area
    };
    if let Some(more) = indicator {
        let last = Rect {
            y: area.bottom().saturating_sub(1),
            height: 1,
            ..area
        };
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(more, theme.accent()))),
            last,
        );
    }
    f.render_widget(Paragraph::new(bottom), rest);
    if let Some((x, dy)) = cursor
        && model.popup.is_none()
        && let (Ok(x), Ok(dy)) = (u16::try_from(x), u16::try_from(dy))
        && dy < rest.height
    {
        f.set_cursor_position(Position::new(
            rest.x + x.min(rest.width.saturating_sub(1)),
            rest.y + dy,
        ));
    }
}

/// `    ▏value▕`, scrolled to the cursor; returns the line and the cursor column.
fn paste_field(
    p: &PasteField,
    port: u16,
    focus_key: Option<String>,
    theme: &Theme,
    width: usize,
) -> (Line<'static>, usize) {
    let inner = width.saturating_sub(FIELD_X + 2).max(4);
    let value = p.input.value();
    let frame = if p.focused { theme.accent() } else { theme.dim() };
    let (text, style, cursor) = if value.is_empty() {
        (
            match focus_key.filter(|_| !p.focused) {
                Some(k) => {
                    format!("{k}, then paste: http://localhost:{port}/microsoft_outlook/confirm?code=…")
                }
                None => format!("paste: http://localhost:{port}/microsoft_outlook/confirm?code=…"),
            },
            theme.dim(),
            0,
        )
    } else {
        let scroll = p.input.visual_scroll(inner);
        let shown: String = value.chars().skip(scroll).take(inner).collect();
        let c = p.input.visual_cursor().saturating_sub(scroll);
        (shown, theme.field(p.focused), c)
    };
    let pad = inner.saturating_sub(cols(&text));
    let text: String = text.chars().take(inner).collect();
    let line = Line::from(vec![
        Span::raw(" ".repeat(FIELD_X)),
        Span::styled("▏", frame),
        Span::styled(text, style),
        Span::raw(" ".repeat(pad)),
        Span::styled("▕", frame),
    ]);
    (line, FIELD_X + 1 + cursor)
}

/// The device-code view: the code large in a box, where to enter it, the poll status and the
/// countdown, and what the app registration needs.
fn device(model: &Model, w: &Wizard, theme: &Theme, area: Rect, f: &mut Frame) {
    let d = &w.device;
    let width = area.width as usize;
    let plain = Style::new();
    let mut top: Vec<Line<'static>> = Vec::new();
    let mut bottom: Vec<Line<'static>> = Vec::new();
    let mut url: Option<&str> = None;
    match d {
        Device::Off => {}
        Device::Starting { .. } => {
            top.push(Line::from(format!(
                " {} asking Microsoft for a device code…",
                spinner(model.frame)
            )));
            top.push(Line::default());
            top.extend(para(PUBLIC_CLIENT, width, 1, theme.dim()));
        }
        Device::Failed(fail) => {
            top.extend(para(
                &format!("✖ Device-code sign-in failed: {}", fail.message),
                width,
                1,
                theme.err(),
            ));
            let blocked = matches!(fail.fix, Some(Fix::BrowserSignIn { .. }));
            if blocked {
                // The browser paths, as this screen's keys.
                top.extend(para(
                    &format!(
                        "→ This tenant's Conditional Access blocks device-code sign-in; only an admin can change that. Sign in with the link instead ({}): open it here, through a tunnel from your own computer, or paste the address your browser ended on.",
                        model.keys_line(&[(Action::Back, "goes back to it")])
                    ),
                    width,
                    1,
                    plain,
                ));
            } else if let Some(h) = &fail.hint {
                top.extend(para(&format!("→ {h}"), width, 1, plain));
            }
            // Told already: the browser instead, or the public client flows.
            let told = blocked || matches!(fail.fix, Some(Fix::AllowPublicClientFlows));
            if !told {
                top.push(Line::default());
                top.extend(para(PUBLIC_CLIENT, width, 1, theme.dim()));
            }
            top.push(Line::default());
            // Blocked by policy, trying again cannot help.
            let retry = (!blocked).then_some((Action::DeviceCode, "tries again"));
            let keys: Vec<(Action, &str)> = retry
                .into_iter()
                .chain([(Action::Back, "back to the link (it still works)")])
                .collect();
            top.extend(para(&model.keys_line(&keys), width, 1, theme.dim()));
        }
        Device::Code {
            user_code,
            uri,
            deadline,
            interval,
            poll,
            since,
            ..
        } => {
            url = Some(uri);
            top.extend(para(
                "Device-code sign-in: on any device with a browser (a phone will do), open",
                width,
                1,
                plain,
            ));
            bottom.extend(para(
                &format!(
                    "and enter this code{}, then sign in as {} and accept:",
                    model
                        .key(Action::Copy)
                        .map(|k| format!(" ({k} copies it)"))
                        .unwrap_or_default(),
                    delegate(model, w).unwrap_or_else(|| "the mailbox".to_string())
                ),
                width,
                1,
                plain,
            ));
            bottom.extend(big_code(user_code, theme));
            if model.env.demo.is_some() {
                bottom.push(demo::line(
                    &model.keys_line(&[(
                        Action::DemoSignIn,
                        "enters the code at the demo sign-in page for you",
                    )]),
                    theme,
                ));
            }
            let status = match poll {
                None | Some(PollEvent::Pending) => {
                    format!("waiting for you to sign in · checking every {interval} s")
                }
                Some(PollEvent::SlowDown { interval }) => {
                    format!("Microsoft asked to slow down: every {} s", interval.as_secs())
                }
            };
            bottom.push(Line::from(vec![
                Span::styled(format!(" {} ", spinner(model.frame)), theme.accent()),
                Span::raw(format!(
                    "{status} · code {} of {}",
                    minutes(model.now.duration_since(*since).as_secs().max(0).unsigned_abs()),
                    minutes(deadline.duration_since(*since).as_secs().max(0).unsigned_abs())
                )),
            ]));
            bottom.extend(para(PUBLIC_CLIENT, width, 1, theme.dim()));
            bottom.extend(para(
                &format!(
                    "A tunnel keeps working meanwhile; whichever finishes first wins.{}",
                    model
                        .key(Action::Back)
                        .map(|k| format!(
                            " {k} stops device code and shows the link and the paste field again."
                        ))
                        .unwrap_or_default()
                ),
                width,
                1,
                theme.dim(),
            ));
        }
    }
    let top_h = u16::try_from(top.len()).unwrap_or(u16::MAX).min(area.height);
    f.render_widget(
        Paragraph::new(top),
        Rect {
            height: top_h,
            ..area
        },
    );
    let mut y = area.y + top_h;
    if let Some(u) = url {
        let x = area.x + 3;
        let w = area.width.saturating_sub(3);
        let h = link::height(u, w).min(area.bottom().saturating_sub(y));
        link::render(
            u,
            Rect {
                x,
                y,
                width: w,
                height: h,
            },
            f.buffer_mut(),
            theme.link(),
            model.env.hyperlinks,
        );
        y += h;
    }
    f.render_widget(
        Paragraph::new(bottom),
        Rect {
            y,
            height: area.bottom().saturating_sub(y),
            ..area
        },
    );
}

/// The user code, spaced and bold in a double-ruled box, so it reads from across a desk.
fn big_code(code: &str, theme: &Theme) -> Vec<Line<'static>> {
    let spaced = code.chars().map(String::from).collect::<Vec<_>>().join("  ");
    let inner = cols(&spaced) + 8;
    let style = theme.accent();
    let bold = theme.bold().add_modifier(Modifier::BOLD);
    vec![
        Line::from(Span::styled(format!("   ╔{}╗", "═".repeat(inner)), style)),
        Line::from(vec![
            Span::styled("   ║", style),
            Span::styled(format!("    {spaced}    "), bold),
            Span::styled("║", style),
        ]),
        Line::from(Span::styled(format!("   ╚{}╝", "═".repeat(inner)), style)),
    ]
}
