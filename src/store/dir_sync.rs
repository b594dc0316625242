//! One directory fsync for many renames (group commit).
//!
//! A rename into a directory is durable once the directory is synced. When a refresh wave
//! renames a thousand token files into `tokens/` at once, each writer syncing the directory
//! on its own made a thousand syncs, each forcing a journal commit of its own. Here a writer
//! whose rename happened before a sync *started* is covered by that sync, so writers that
//! arrive while one sync runs share the next one. Written by hand: no crate does group commit
//! for a directory.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};

#[derive(Default)]
struct Syncs {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Default)]
struct State {
    /// Number of the last sync that started.
    started: u64,
    /// Number of the last sync that succeeded (syncs finish in the order they start: one at
    /// a time per directory).
    succeeded: u64,
    running: bool,
}

static DIRS: LazyLock<Mutex<HashMap<PathBuf, Arc<Syncs>>>> = LazyLock::new(Default::default);

fn syncs_of(dir: &Path) -> Arc<Syncs> {
    let mut dirs = DIRS.lock().unwrap_or_else(|p| p.into_inner());
    dirs.entry(dir.to_path_buf()).or_default().clone()
}

fn relock<'a>(syncs: &'a Syncs) -> MutexGuard<'a, State> {
    syncs.state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Makes every change made in `dir` before this call durable: returns after a sync of `dir`
/// that started after the call began has succeeded. A failed sync is reported to the writer
/// that ran it; the writers waiting on it run one of their own.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    let syncs = syncs_of(dir);
    let mut state = relock(&syncs);
    // A sync running now may have started before the caller's change: only the next counts.
    let needed = state.started + 1;
    loop {
        if state.succeeded >= needed {
            return Ok(());
        }
        if !state.running {
            state.running = true;
            state.started += 1;
            let number = state.started;
            drop(state);
            let synced = File::open(dir).and_then(|d| d.sync_all());
            state = relock(&syncs);
            state.running = false;
            if synced.is_ok() {
                state.succeeded = number;
            }
            syncs.done.notify_all();
            return synced;
        }
        state = syncs.done.wait(state).unwrap_or_else(|p| p.into_inner());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_writers_at_once_each_return_after_a_sync_that_covers_them() {
        let dir = tempfile::tempdir().unwrap();
        std::thread::scope(|s| {
            for i in 0..32 {
                let dir = dir.path();
                s.spawn(move || {
                    std::fs::write(dir.join(format!("f{i}")), b"x").unwrap();
                    sync_dir(dir).unwrap();
                });
            }
        });
        let syncs = syncs_of(dir.path());
        let state = relock(&syncs);
        assert!(!state.running);
        assert!(
            state.succeeded >= 1 && state.succeeded <= 32,
            "{}",
            state.succeeded
        );
        assert_eq!(state.succeeded, state.started);
    }

    #[test]
    fn a_directory_that_cannot_be_synced_is_an_error_for_every_writer() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        assert!(sync_dir(&gone).is_err());
        assert!(sync_dir(&gone).is_err(), "a failure is never taken for a success");
    }
}
