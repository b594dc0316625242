//! `serve.json` in the store: that a serve runs on this store, since when, and when each
//! server is next refreshed and tested, for the app to show. `serve.lock` is held by the
//! running serve for its whole life, so a file left by a killed serve reads as "not running".

use crate::store::Store;
use crate::store::atomic::{LockGuard, write_atomic};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub const STATUS_FILE: &str = "serve.json";
pub const LOCK_FILE: &str = "serve.lock";
/// Bounded read: a status of 10,000 servers is well under this.
const MAX_STATUS_BYTES: u64 = 8 << 20;

/// When a server is next worked on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Next {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Timestamp>,
}

/// The document in `serve.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServeStatus {
    pub pid: u32,
    pub started_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub proxy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
    /// By server id.
    #[serde(default)]
    pub next: BTreeMap<String, Next>,
}

/// What the app knows about a serve on its store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ServeState {
    /// No serve has run here, or the last one's status is gone.
    #[default]
    NotRunning,
    /// A serve runs (its lock is held).
    Running(Box<ServeStatus>),
    /// A status left by a serve that is no longer running (killed).
    Stopped(Box<ServeStatus>),
}

impl ServeState {
    pub fn running(&self) -> Option<&ServeStatus> {
        match self {
            ServeState::Running(s) => Some(s),
            _ => None,
        }
    }

    /// When the running serve next refreshes and tests the server with this id.
    pub fn next_for(&self, server_id: &str) -> Option<&Next> {
        self.running()?.next.get(server_id)
    }
}

/// The running serve's hold on the store: while it lives, no second serve starts here.
#[derive(Debug)]
pub struct Held {
    _lock: LockGuard,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("another serve is running on this store ({0}); stop it first, or use another store")]
    Busy(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Takes the store for this serve (fails when another serve holds it).
pub fn hold(store: &Store) -> Result<Held, StatusError> {
    let lock_path = store.dir().join(LOCK_FILE);
    let io = |source| StatusError::Io {
        path: lock_path.clone(),
        source,
    };
    // A reader (the app) may hold the lock shared for a moment: try a few times.
    for _ in 0..20 {
        if let Some(lock) = LockGuard::try_exclusive(&lock_path).map_err(io)? {
            return Ok(Held {
                _lock: lock,
                path: store.dir().join(STATUS_FILE),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let who = read_file(store)
        .map(|s| format!("pid {}, since {}", s.pid, s.started_at))
        .unwrap_or_else(|| "its status is unreadable".into());
    Err(StatusError::Busy(who))
}

impl Held {
    pub fn write(&self, status: &ServeStatus) {
        // A serve killed mid-write left its temporary file; we hold the lock, so it is no
        // one's now.
        if let Some(dir) = self.path.parent() {
            crate::store::atomic::sweep_temp_files(dir, STATUS_FILE);
        }
        let bytes = match serde_json::to_vec_pretty(status) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "serve status not encoded");
                return;
            }
        };
        if let Err(e) = write_atomic(&self.path, &bytes) {
            tracing::warn!(path = %self.path.display(), error = %e, "serve status not written");
        }
    }

    /// A clean stop removes the status (a kill leaves it, read as stopped).
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn read_file(store: &Store) -> Option<ServeStatus> {
    use std::io::Read;
    let path = store.dir().join(STATUS_FILE);
    let file = std::fs::File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_STATUS_BYTES).read_to_end(&mut bytes).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether a serve runs on `store`: the status, and whether its lock is held.
pub fn read(store: &Store) -> ServeState {
    let Some(status) = read_file(store) else {
        return ServeState::NotRunning;
    };
    let lock_path = store.dir().join(LOCK_FILE);
    if !lock_path.is_file() {
        return ServeState::Stopped(Box::new(status));
    }
    match LockGuard::try_exclusive(&lock_path) {
        // Nobody holds it: the serve that wrote the status is gone.
        Ok(Some(_free)) => ServeState::Stopped(Box::new(status)),
        Ok(None) => ServeState::Running(Box::new(status)),
        Err(_) => ServeState::Stopped(Box::new(status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_status_reads_as_running_and_a_released_one_as_stopped() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        assert_eq!(read(&store), ServeState::NotRunning);
        let held = hold(&store).unwrap();
        let status = ServeStatus {
            pid: 42,
            started_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            proxy: false,
            metrics: None,
            next: BTreeMap::new(),
        };
        held.write(&status);
        assert_eq!(read(&store), ServeState::Running(Box::new(status.clone())));
        assert!(matches!(hold(&store), Err(StatusError::Busy(_))));
        drop(held);
        assert_eq!(read(&store), ServeState::Stopped(Box::new(status)));
    }
}
