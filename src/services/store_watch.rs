//! Tells when the store changes (the CLI, the app or another process wrote to it): inotify
//! through the `notify` crate, on the store directory and its `tokens/`, debounced so a burst
//! of writes (a refresh wave, a rename and its sweep) is one wake-up. Nothing is polled.

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

/// Writes closer together than this are one change.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Keeps the watch alive; dropping it stops watching.
pub struct StoreWatch {
    _watcher: RecommendedWatcher,
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

/// Watches `dir` (and `dir/tokens`); each debounced change sends one `()`. The receiver
/// ends when the watch does.
pub fn watch(dir: &Path) -> notify::Result<(StoreWatch, mpsc::Receiver<()>)> {
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        // Renames into place (atomic writes), writes, removals; reads and opens are not changes.
        let change = matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
        );
        if change && event.paths.iter().any(|p| counts(p)) {
            let _ = raw_tx.send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    let tokens = dir.join("tokens");
    if tokens.is_dir() {
        watcher.watch(&tokens, RecursiveMode::NonRecursive)?;
    }
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        while raw_rx.recv().await.is_some() {
            // Collect the rest of the burst, then wake the reader once.
            let deadline = tokio::time::Instant::now() + DEBOUNCE;
            while let Ok(Some(())) = tokio::time::timeout_at(deadline, raw_rx.recv()).await {}
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
}
