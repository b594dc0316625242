//! A URL shown whole on its own lines (never cut by a border), as an OSC 8 hyperlink when the
//! terminal is real (snapshots leave the escape sequences out).

use super::text::chunks;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use std::num::NonZeroU16;

/// Lines `url` needs at `width` columns.
pub fn height(url: &str, width: u16) -> u16 {
    u16::try_from(chunks(url, width as usize).len()).unwrap_or(u16::MAX)
}

/// Draws `url` from the top-left of `area`, one chunk per line.
pub fn render(url: &str, area: Rect, buf: &mut Buffer, style: Style, hyperlink: bool) {
    for (i, chunk) in chunks(url, area.width as usize).iter().enumerate() {
        let Ok(dy) = u16::try_from(i) else { break };
        if dy >= area.height {
            break;
        }
        let y = area.y + dy;
        buf.set_string(area.x, y, chunk, style);
        if hyperlink {
            decorate(url, area.x, y, chunk.chars().count(), buf);
        }
    }
}

/// Puts the OSC 8 opener into the first cell of the line and the closer into the last.
fn decorate(url: &str, x: u16, y: u16, len: usize, buf: &mut Buffer) {
    let Ok(len) = u16::try_from(len) else { return };
    if len == 0 {
        return;
    }
    let one = NonZeroU16::MIN;
    let open = format!("\x1b]8;;{url}\x1b\\");
    let close = "\x1b]8;;\x1b\\";
    let last = x + len - 1;
    if let Some(cell) = buf.cell_mut((x, y)) {
        let sym = format!("{open}{}", cell.symbol());
        cell.set_symbol(&sym)
            .set_diff_option(ratatui::buffer::CellDiffOption::ForcedWidth(one));
    }
    if let Some(cell) = buf.cell_mut((last, y)) {
        let sym = format!("{}{close}", cell.symbol());
        cell.set_symbol(&sym)
            .set_diff_option(ratatui::buffer::CellDiffOption::ForcedWidth(one));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperlink_wraps_each_line() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 2));
        render("http://x/y", Rect::new(0, 0, 4, 2), &mut buf, Style::new(), true);
        assert_eq!(buf[(0, 0)].symbol(), "\x1b]8;;http://x/y\x1b\\h");
        assert_eq!(buf[(3, 0)].symbol(), "p\x1b]8;;\x1b\\");
        assert_eq!(buf[(0, 1)].symbol(), "\x1b]8;;http://x/y\x1b\\:");
        let mut plain = Buffer::empty(Rect::new(0, 0, 4, 2));
        render(
            "http://x/y",
            Rect::new(0, 0, 4, 2),
            &mut plain,
            Style::new(),
            false,
        );
        assert_eq!(plain[(0, 0)].symbol(), "h");
    }
}
