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
    render_from(url, 0, area, buf, style, hyperlink);
}

/// Like [`render`], without the first `skip` lines (a scrolled screen).
pub fn render_from(url: &str, skip: usize, area: Rect, buf: &mut Buffer, style: Style, hyperlink: bool) {
    for (i, chunk) in chunks(url, area.width as usize).iter().skip(skip).enumerate() {
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

/// The OSC 8 opener for `url` (control characters dropped, so a URL cannot end the sequence
/// early). Written as is, also inside tmux (3.4+ carries hyperlinks natively; a DCS
/// passthrough would need `allow-passthrough`).
pub fn osc8_open(url: &str) -> String {
    let clean: String = url.chars().filter(|c| !c.is_control()).collect();
    format!("\x1b]8;;{clean}\x1b\\")
}

/// The OSC 8 closer.
pub fn osc8_close() -> &'static str {
    "\x1b]8;;\x1b\\"
}

/// Puts the OSC 8 opener into the first cell of the line and the closer into the last.
fn decorate(url: &str, x: u16, y: u16, len: usize, buf: &mut Buffer) {
    let Ok(len) = u16::try_from(len) else { return };
    if len == 0 {
        return;
    }
    let one = NonZeroU16::MIN;
    let open = osc8_open(url);
    let close = osc8_close();
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
