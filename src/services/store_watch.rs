//! Tells when the store changes (the CLI, the app or another process wrote to it): inotify
//! through the `notify` crate, on the store directory and its `tokens/` (from the moment it
//! exists), debounced so a burst
//! of writes (a refresh wave, a rename and its sweep) is one wake-up. Nothing is polled.

use notify::event::ModifyKind;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Writes closer together than this are one change.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Keeps the watch alive; dropping it stops watching.
pub struct StoreWatch {
    _watcher: Arc<Mutex<RecommendedWatcher>>,
}

impl std::fmt::Debug for StoreWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreWatch")
    }
}

/// A store file changed: not our lock files, not temporary files still being written.
fn counts(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with(".json") && !name.starts_with(crate::store::atomic::TEMP_PREFIX)
}

/// Whether `path` is one of the file names to `ignore`.
fn ignored(path: &Path, ignore: &[&str]) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| ignore.contains(&n))
}

/// What the inotify thread saw, for the debouncing task.
enum Seen {
    Change,
    /// `tokens/` was made (or moved into place) after the watch began: watch it too.
    TokensAppeared,
}

/// Watches `dir` and `dir/tokens` (also when `tokens/` is made later: a store's first token
/// write makes it); each debounced change sends one `()`. The receiver ends when the watch
/// does.
pub fn watch(dir: &Path) -> notify::Result<(StoreWatch, mpsc::Receiver<()>)> {
    watch_except(dir, &[])
}

/// [`watch`], but a change of a file named in `ignore` (in the store directory or `tokens/`)
/// is no change: serve writes `serve.json` itself, and reading 1,000 token files again
/// because of its own status write is wasted work.
pub fn watch_except(
    dir: &Path,
    ignore: &'static [&'static str],
) -> notify::Result<(StoreWatch, mpsc::Receiver<()>)> {
    // Events name absolute paths; so must the one compared with them.
    let dir = &std::path::absolute(dir).map_err(notify::Error::io)?;
    let tokens = dir.join("tokens");
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<Seen>();
    let tokens_seen = tokens.clone();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        // Renames into place (atomic writes), writes, removals; reads and opens are not changes.
        let change = matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
        );
        if !change {
            return;
        }
        let appeared = matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(_))
        ) && event.paths.contains(&tokens_seen);
        // The watcher cannot add a watch from its own thread (it waits for that thread's
        // answer): the task below does.
        if appeared {
            let _ = raw_tx.send(Seen::TokensAppeared);
        } else if event.paths.iter().any(|p| counts(p) && !ignored(p, ignore)) {
            let _ = raw_tx.send(Seen::Change);
        }
    })?;
    let watcher = Arc::new(Mutex::new(watcher));
    {
        let mut w = watcher.lock().unwrap_or_else(|p| p.into_inner());
        w.watch(dir, RecursiveMode::NonRecursive)?;
        if tokens.is_dir() {
            w.watch(&tokens, RecursiveMode::NonRecursive)?;
        }
    }
    let weak = Arc::downgrade(&watcher);
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        while let Some(first) = raw_rx.recv().await {
            let mut appeared = matches!(first, Seen::TokensAppeared);
            // Collect the rest of the burst, then wake the reader once.
            let deadline = tokio::time::Instant::now() + DEBOUNCE;
            while let Ok(Some(seen)) = tokio::time::timeout_at(deadline, raw_rx.recv()).await {
                appeared |= matches!(seen, Seen::TokensAppeared);
            }
            if appeared {
                let Some(watcher) = weak.upgrade() else { break };
                // Token files written before this watch began are not missed: the wake-up
                // below comes after it, and the reader reads the whole store then.
                let added = watcher
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .watch(&tokens, RecursiveMode::NonRecursive);
                if let Err(e) = added {
                    tracing::warn!(error = %e, dir = %tokens.display(), "cannot watch the token directory; token changes by others are seen at the next change of config.json");
                }
            }
            // Full: a wake-up is already waiting, which covers this change too.
            if tx.try_send(()).is_err() && tx.is_closed() {
                break;
            }
        }
    });
    Ok((StoreWatch { _watcher: watcher }, rx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_into_the_store_wakes_the_watcher_once_per_burst() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("tokens")).unwrap();
        let (_w, mut rx) = watch(tmp.path()).unwrap();
        for i in 0..5 {
            crate::store::atomic::write_atomic(&tmp.path().join("tokens/a.json"), format!("{i}").as_bytes())
                .unwrap();
        }
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a change is seen")
            .unwrap();
        // A lock file alone is not a change.
        std::fs::write(tmp.path().join("config.lock"), b"").unwrap();
        assert!(
            tokio::time::timeout(DEBOUNCE * 4, rx.recv()).await.is_err(),
            "no wake-up for a lock file or for the same burst twice"
        );
    }

    #[tokio::test]
    async fn an_ignored_file_is_no_change_and_the_others_still_are() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("tokens")).unwrap();
        let (_w, mut rx) = watch_except(tmp.path(), &["serve.json"]).unwrap();
        crate::store::atomic::write_atomic(&tmp.path().join("serve.json"), b"{}").unwrap();
        assert!(
            tokio::time::timeout(DEBOUNCE * 4, rx.recv()).await.is_err(),
            "no wake-up for an ignored file"
        );
        crate::store::atomic::write_atomic(&tmp.path().join("tokens/a.json"), b"{}").unwrap();
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a token write is still seen")
            .unwrap();
    }

    #[tokio::test]
    async fn a_token_directory_made_after_the_watch_began_is_watched_too() {
        let tmp = tempfile::tempdir().unwrap();
        let (_w, mut rx) = watch(tmp.path()).unwrap();
        std::fs::create_dir(tmp.path().join("tokens")).unwrap();
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("the new token directory is a change")
            .unwrap();
        crate::store::atomic::write_atomic(&tmp.path().join("tokens/a.json"), b"{}").unwrap();
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a token write in the new directory is seen")
            .unwrap();
    }
}
