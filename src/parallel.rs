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
    // Shared with the thread, and left here when no thread could take it.
    let there = std::sync::Mutex::new(there);
    let run_there = || (*there.lock().unwrap_or_else(std::sync::PoisonError::into_inner))();
    std::thread::scope(|s| {
        // A thread that cannot start (a process or memory limit) is no error: the work is done
        // here, one half after the other. `Scope::spawn` would panic instead.
        let started = if cfg!(test) && NO_THREADS.load(std::sync::atomic::Ordering::Relaxed) {
            Err(std::io::Error::other("threads refused by the test"))
        } else {
            std::thread::Builder::new().spawn_scoped(s, run_there)
        };
        here();
        match started {
            // A panic there is a bug: passed on as it was, never swallowed.
            Ok(other) => {
                if let Err(panic) = other.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(_) => run_there(),
        }
    });
}

/// Tests only: as if no thread could be started.
static NO_THREADS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(test)]
mod tests {
    #[test]
    fn a_thread_that_cannot_start_leaves_the_work_to_this_one() {
        super::NO_THREADS.store(true, std::sync::atomic::Ordering::Relaxed);
        let (mut a, mut b) = (0, 0);
        super::join(&mut || a = 1, &mut || b = 2);
        let items: Vec<usize> = (0..super::MIN_ITEMS + 3).collect();
        let doubled = super::map(&items, |i| i * 2);
        super::NO_THREADS.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!((a, b), (1, 2));
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }

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
