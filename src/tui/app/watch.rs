//! The app's store watcher: each (debounced) change to the store's files becomes
//! [`Msg::StoreChanged`], so the app shows what the CLI, `inbound serve` or another app wrote
//! without a key press. inotify through the core's watcher, never a polling loop.

use crate::services::store_watch::{self, StoreWatch};
use crate::store::Store;
use crate::tui::state::msg::Msg;
use tokio::sync::mpsc::UnboundedSender;

/// Starts watching `store`; changes go to `tx` while the returned watch is kept.
pub fn follow_store(store: &Store, tx: UnboundedSender<Msg>) -> std::io::Result<StoreWatch> {
    let (watch, mut changes) = store_watch::watch(store.dir())?;
    tokio::spawn(async move {
        while changes.recv().await.is_some() {
            if tx.send(Msg::StoreChanged).is_err() {
                break;
            }
        }
    });
    Ok(watch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_write_by_another_process_reaches_the_app_as_a_message() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        store
            .update(|c| {
                c.settings.listen_port = Some(18001);
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
        let mut model = crate::tui::testing::model(crate::ops::snapshot::Snapshot::load(&store).unwrap());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _watch = follow_store(&store, tx.clone()).unwrap();
        // As the CLI would: another handle on the same store writes the configuration.
        let other = Store::open(Some(tmp.path().join("s"))).unwrap();
        other
            .update(|c| {
                c.settings.listen_port = Some(18002);
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
        let next = async |rx: &mut tokio::sync::mpsc::UnboundedReceiver<Msg>| {
            tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("a message within the deadline")
                .unwrap()
        };
        let msg = next(&mut rx).await;
        assert!(matches!(msg, Msg::StoreChanged), "{msg:?}");
        // The message asks for a read; the app's own effects carry it out; the model shows
        // the change.
        let cmds = model.update(msg);
        assert!(
            matches!(cmds.as_slice(), [crate::tui::state::cmd::Cmd::Reload]),
            "{cmds:?}"
        );
        let mut effects = crate::tui::app::effects::StoreEffects::new(store.clone());
        for cmd in cmds {
            crate::tui::app::effects::Effects::run(&mut effects, cmd, &tx);
        }
        loop {
            let msg = next(&mut rx).await;
            if matches!(msg, Msg::Loaded(_)) {
                model.update(msg);
                break;
            }
        }
        assert_eq!(model.data.config.settings.listen_port, Some(18002));
    }
}
