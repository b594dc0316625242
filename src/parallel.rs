//! Per-server work split over two threads for large stores: `list` and `check` judge the
//! health of every server, and at 10,000 servers that work alone is tens of milliseconds on
//! one core. Below [`MIN_ITEMS`] a thread's start costs more than it saves.

/// The fewest items worth a second thread.
pub const MIN_ITEMS: usize = 2_000;

/// `items.iter().map(f).collect()`, in order; the second half on another thread when there are
/// at least [`MIN_ITEMS`].
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < MIN_ITEMS {
        return items.iter().map(f).collect();
    }
    let (first, second) = items.split_at(items.len() / 2);
    let (mut all, mut rest) = (Vec::new(), Vec::new());
    join(&mut || all = first.iter().map(&f).collect(), &mut || {
        rest = second.iter().map(&f).collect()
    });
    all.append(&mut rest);
    all
}

/// Runs `here` on this thread and `there` on a second one, and returns when both are done.
/// Not generic, so that every caller shares one copy of the thread's code (the shipped binary
/// has a size budget).
pub fn join(here: &mut dyn FnMut(), there: &mut (dyn FnMut() + Send)) {
    std::thread::scope(|s| {
        let other = s.spawn(there);
        here();
        // A panic there is a bug: passed on as it was, never swallowed.
        if let Err(panic) = other.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_below_and_above_the_threshold() {
        for n in [
            0,
            1,
            7,
            super::MIN_ITEMS,
            super::MIN_ITEMS + 1,
            3 * super::MIN_ITEMS + 5,
        ] {
            let items: Vec<usize> = (0..n).collect();
            let doubled = super::map(&items, |i| i * 2);
            assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }
}
