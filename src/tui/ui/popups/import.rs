//! The import popup: the file path, then the dry run's answer (what would be added, or every
//! bad row by its line and column), then the import.

use super::rotate::LABEL;
use crate::tui::state::keymap::{Action, Ctx, keys_line};
use crate::tui::state::review::import::{ImportForm, Stage};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::field::row;
use crate::tui::ui::widgets::text::{para, spinner};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

/// Names listed before "and N more" in the dry run's answer.
const NAMED: usize = 8;

pub fn render(form: &ImportForm, frame_no: u64, theme: &Theme, area: Rect, f: &mut Frame) {
    let width: u16 = 76.min(area.width);
    let inner_w = width.saturating_sub(2) as usize;
    let value_w = inner_w.saturating_sub(LABEL + 1).max(4);
    let mut lines: Vec<Line<'static>> = Vec::new();
    lines.extend(para(
        "A CSV file with a header of list --json names (name, username, host, port, ca_file, app, sign_in_as, auth), or the JSON list --json prints. One bad row and nothing is imported.",
        inner_w,
        1,
        theme.dim(),
    ));
    lines.push(Line::default());
    let editable = matches!(form.stage, Stage::Editing | Stage::Checked(_) | Stage::Failed(_));
    let (line, x) = row(
        ("File", LABEL + 1),
        Some(&form.path),
        editable,
        false,
        "e.g. ~/mailboxes.csv",
        value_w,
        theme,
    );
    let cursor = editable.then_some((x, lines.len()));
    lines.push(line);
    lines.push(Line::default());
    let keys = |items: &[(Action, &str)]| keys_line(&[Ctx::Import], items);
    match &form.stage {
        Stage::Editing => lines.extend(para(
            &keys(&[(Action::Submit, "checks the file (nothing is written yet)")]),
            inner_w,
            1,
            theme.dim(),
        )),
        Stage::Checking(_) => lines.extend(para(
            &format!("{} Checking every row…", spinner(frame_no)),
            inner_w,
            1,
            theme.accent(),
        )),
        Stage::Importing(_) => lines.extend(para(
            &format!("{} Importing…", spinner(frame_no)),
            inner_w,
            1,
            theme.accent(),
        )),
        Stage::Checked(names) if names.is_empty() => lines.extend(para(
            "The file has no rows: nothing to add.",
            inner_w,
            1,
            theme.warn(),
        )),
        Stage::Checked(names) => {
            let n = names.len();
            let mut quoted: Vec<String> = names.iter().take(NAMED).map(|s| format!("\"{s}\"")).collect();
            if n > NAMED {
                quoted.push(format!("and {} more", n - NAMED));
            }
            let servers = if n == 1 { "server" } else { "servers" };
            lines.extend(para(
                &format!(
                    "✔ Every row is good: {n} {servers} would be added as Draft: {}.",
                    quoted.join(", ")
                ),
                inner_w,
                1,
                theme.ok(),
            ));
            lines.extend(para(
                &keys(&[
                    (Action::Submit, "imports them"),
                    (Action::Back, "closes without importing"),
                ]),
                inner_w,
                1,
                theme.dim(),
            ));
        }
        Stage::Failed(failure) => {
            lines.extend(para(&format!("✖ {}", failure.message), inner_w, 1, theme.err()));
            // Every bad row, as many as the terminal shows; all of them are in the log too.
            let room = usize::from(area.height.saturating_sub(4)).saturating_sub(lines.len() + 1);
            let shown = if failure.rows.len() > room {
                room.saturating_sub(1)
            } else {
                failure.rows.len()
            };
            for r in failure.rows.iter().take(shown) {
                lines.extend(para(&format!("• {r}"), inner_w, 3, theme.err()));
            }
            if shown < failure.rows.len() {
                lines.extend(para(
                    &format!(
                        "… and {} more: the message log has them all",
                        failure.rows.len() - shown
                    ),
                    inner_w,
                    3,
                    theme.dim(),
                ));
            }
            lines.extend(para(
                &keys(&[(Action::Submit, "checks again once the file is fixed")]),
                inner_w,
                1,
                theme.dim(),
            ));
        }
    }
    super::form_frame(
        " Import servers from a file ",
        lines,
        cursor,
        width,
        theme,
        area,
        f,
    );
}
