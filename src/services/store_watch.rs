//! Tells when the store changes (the CLI, the app or another process wrote to it): inotify on
//! the store directory and its `tokens/` (from the moment it exists), debounced so a burst of
//! writes (a refresh wave, a rename and its sweep) is one wake-up. Nothing is polled.
//!
//! inotify is used directly (the `inotify` crate) rather than through `notify`, whose watch
//! mask always includes `IN_OPEN`: every open of a lock or token file, by serve itself or by
//! any mail program asking for a token, woke a watcher thread, about a tenth of serve's CPU
//! in a refresh wave. Here the kernel queues only what can change what the store says:
//! entries made, removed, renamed, written or re-permissioned. Lock files are never written,
//! so taking and releasing a lock queues nothing.

use futures_util::StreamExt as _;
use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

/// Writes closer together than this are one change.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// What the kernel reports for a watched directory: changes of its entries, and its own
/// removal (then its watch ends; `tokens/` made again is watched again).
const MASK: WatchMask = WatchMask::CREATE
    .union(WatchMask::DELETE)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::MODIFY)
    .union(WatchMask::ATTRIB)
    .union(WatchMask::DELETE_SELF)
    .union(WatchMask::MOVE_SELF);

/// Keeps the watch alive; dropping it stops watching.
pub struct StoreWatch {
    task: tokio::task::AbortHandle,
}

impl Drop for StoreWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for StoreWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreWatch")
    }
}

/// Store files whose change matters: JSON documents, not temporary files.
fn counts(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    name.ends_with(".json") && !name.starts_with(crate::store::atomic::TEMP_PREFIX)
}

enum Seen {
    Change,
    TokensAppeared,
}

/// What one event means for a watcher of the store directory `store` and of `tokens`.
fn seen(event: &inotify::EventOwned, store: &WatchDescriptor, ignore: &[&str]) -> Option<Seen> {
    // Events were lost: anything may have changed.
    if event.mask.contains(EventMask::Q_OVERFLOW) {
        return Some(Seen::Change);
    }
    let name = event.name.as_deref()?;
    if event.wd == *store
        && name == "tokens"
        && event.mask.contains(EventMask::ISDIR)
        && event.mask.intersects(EventMask::CREATE | EventMask::MOVED_TO)
    {
        return Some(Seen::TokensAppeared);
    }
    let ignored = name.to_str().is_some_and(|n| ignore.contains(&n));
    (counts(name) && !ignored).then_some(Seen::Change)
}

/// Watches the store directory `dir`; each debounced change arrives as one `()`.
pub fn watch(dir: &Path) -> io::Result<(StoreWatch, mpsc::Receiver<()>)> {
    watch_except(dir, &[])
}

/// [`watch`], but writes of the files named in `ignore` (serve's own status file) are no
/// change.
pub fn watch_except(
    dir: &Path,
    ignore: &'static [&'static str],
) -> io::Result<(StoreWatch, mpsc::Receiver<()>)> {
    let dir = std::path::absolute(dir)?;
    let tokens = dir.join("tokens");
    let inotify = Inotify::init()?;
    let mut watches = inotify.watches();
    let store = watches.add(&dir, MASK)?;
    if tokens.is_dir() {
        watches.add(&tokens, MASK)?;
    }
    let mut events = inotify.into_event_stream(vec![0u8; 16 * 1024])?;
    let (tx, rx) = mpsc::channel(1);
    let task = tokio::spawn(async move {
        loop {
            // Wait for the first event that counts, then gather the burst it starts.
            let mut appeared = loop {
                match events.next().await {
                    Some(Ok(e)) => match seen(&e, &store, ignore) {
                        Some(s) => break matches!(s, Seen::TokensAppeared),
                        None => continue,
                    },
                    Some(Err(e)) => {
                        // Said once, and the store read once more: what changed before the
                        // failure is not lost.
                        tracing::warn!(error = %e, "the store watch failed: changes made by others are seen again when this process starts anew");
                        let _ = tx.try_send(());
                        return;
                    }
                    None => return,
                }
            };
            let deadline = tokio::time::Instant::now() + DEBOUNCE;
            while let Ok(Some(Ok(e))) = tokio::time::timeout_at(deadline, events.next()).await {
                appeared |= matches!(seen(&e, &store, ignore), Some(Seen::TokensAppeared));
            }
            if appeared && let Err(e) = events.watches().add(&tokens, MASK) {
                tracing::warn!(error = %e, dir = %tokens.display(), "cannot watch the token directory; token changes by others are seen at the next change of config.json");
            }
            if tx.try_send(()).is_err() && tx.is_closed() {
                return;
            }
        }
    });
    Ok((
        StoreWatch {
            task: task.abort_handle(),
        },
        rx,
    ))
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

    #[tokio::test]
    async fn an_edit_in_place_is_a_change_and_reading_or_locking_is_none() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("tokens")).unwrap();
        std::fs::write(tmp.path().join("config.json"), b"{}").unwrap();
        std::fs::write(tmp.path().join("tokens/a.json"), b"{}").unwrap();
        let (_w, mut rx) = watch(tmp.path()).unwrap();
        {
            let _lock =
                crate::store::atomic::LockGuard::exclusive(&tmp.path().join("tokens/a.lock")).unwrap();
            std::fs::read(tmp.path().join("tokens/a.json")).unwrap();
            std::fs::read(tmp.path().join("config.json")).unwrap();
        }
        assert!(
            tokio::time::timeout(DEBOUNCE * 4, rx.recv()).await.is_err(),
            "a lock taken and released, files read: nothing changed"
        );
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(tmp.path().join("config.json"))
            .unwrap();
        f.write_all(b" ").unwrap();
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a file written in place is a change")
            .unwrap();
    }

    #[tokio::test]
    async fn a_token_directory_removed_and_made_again_is_watched_again() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("tokens")).unwrap();
        let (_w, mut rx) = watch(tmp.path()).unwrap();
        std::fs::remove_dir(tmp.path().join("tokens")).unwrap();
        std::fs::create_dir(tmp.path().join("tokens")).unwrap();
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("the token directory made again is a change")
            .unwrap();
        crate::store::atomic::write_atomic(&tmp.path().join("tokens/a.json"), b"{}").unwrap();
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a token write in it is seen")
            .unwrap();
    }
}
