//! A body that scrolls above a keys line: when everything fits, the keys follow the body;
//! when not, the keys stay at the bottom, offer the scroll keys, and the body scrolls.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

/// `keys(more_below, more_above)` builds the keys line (with the scroll keys it is asked
/// for); `scroll` is how far the user scrolled (clamped here to what there is).
pub fn render(
    body: Vec<Line<'static>>,
    keys: impl Fn(bool, bool) -> Vec<Line<'static>>,
    scroll: u16,
    area: Rect,
    buf: &mut Buffer,
) {
    let plain = keys(false, false);
    if body.len() + plain.len() <= area.height as usize {
        let mut all = body;
        all.extend(plain);
        Paragraph::new(all).render(area, buf);
        return;
    }
    // The keys line offering both scroll keys is the tallest it gets: reserve that.
    let tallest = u16::try_from(keys(true, true).len()).unwrap_or(u16::MAX);
    let body_h = area.height.saturating_sub(tallest);
    let total = u16::try_from(body.len()).unwrap_or(u16::MAX);
    let max = total.saturating_sub(body_h);
    let scroll = scroll.min(max);
    let [top, bottom] = Layout::vertical([Constraint::Length(body_h), Constraint::Min(0)]).areas(area);
    Paragraph::new(body).scroll((scroll, 0)).render(top, buf);
    Paragraph::new(keys(scroll < max, scroll > 0)).render(bottom, buf);
}
