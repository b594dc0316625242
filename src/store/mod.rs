//! The on-disk store: `config.json` (apps, servers, settings) and one small file per server
//! under `tokens/`, so `inbound token NAME` reads only its own file and a refresh rewrites
//! only that file. Every write is atomic and serialized across processes by file locks;
//! every read-modify-write re-reads under the lock.

pub mod atomic;

use crate::model::{CONFIG_SCHEMA, Config, TOKENS_SCHEMA, TokenFile};
use atomic::{LockGuard, create_private_dir, write_atomic};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub const CONFIG_FILE: &str = "config.json";
const CONFIG_LOCK: &str = "config.lock";
const TOKENS_DIR: &str = "tokens";

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot find a home directory for the store; pass --config-dir DIR or set INBOUND_CONFIG_DIR")]
    NoHome,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is readable by other users (mode {mode:o}); it holds secrets. Run: {fix}")]
    LooseMode { path: PathBuf, mode: u32, fix: String },
    #[error(
        "{path} is damaged at line {line}, column {column}: {message}. It was left untouched; fix or restore it (a backup, or move it away to start over)"
    )]
    Corrupt {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path} has schema version {found}, this inbound understands {supported}; use a newer inbound. The file was left untouched"
    )]
    UnknownSchema {
        path: PathBuf,
        found: u64,
        supported: u32,
    },
}

impl StoreError {
    fn io(path: &Path, source: io::Error) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The store in one directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The default location: the platform config dir (`~/.config/inbound` on Linux).
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "inbound").map(|d| d.config_dir().to_path_buf())
    }

    /// Opens (creating with 0700 when missing) and checks permissions.
    pub fn open(dir: Option<PathBuf>) -> Result<Self, StoreError> {
        let dir = match dir {
            Some(d) => d,
            None => Self::default_dir().ok_or(StoreError::NoHome)?,
        };
        create_private_dir(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let store = Self { dir };
        store.check_mode(&store.dir, true)?;
        let tokens = store.dir.join(TOKENS_DIR);
        if create_private_dir(&tokens).map_err(|e| StoreError::io(&tokens, e))? {
            // created just now with 0700
        } else {
            store.check_mode(&tokens, true)?;
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    /// Where logs go: beside the store, in `logs/`.
    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    fn check_mode(&self, path: &Path, is_dir: bool) -> Result<(), StoreError> {
        let meta = match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(path, e)),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            let want = if is_dir { "700" } else { "600" };
            return Err(StoreError::LooseMode {
                path: path.to_path_buf(),
                mode,
                fix: format!("chmod {want} '{}'", path.display()),
            });
        }
        Ok(())
    }

    fn read_json<T: DeserializeOwned>(&self, path: &Path, supported: u32) -> Result<Option<T>, StoreError> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(path, e)),
        };
        self.check_mode(path, false)?;
        let corrupt = |e: serde_json::Error| StoreError::Corrupt {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(corrupt)?;
        let found = value
            .get("schema")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if found != u64::from(supported) {
            return Err(StoreError::UnknownSchema {
                path: path.to_path_buf(),
                found,
                supported,
            });
        }
        // Re-parse from bytes (not the Value) so positions in errors point into the file.
        serde_json::from_slice(&bytes).map(Some).map_err(corrupt)
    }

    fn write_json<T: serde::Serialize>(&self, path: &Path, value: &T) -> Result<(), StoreError> {
        let mut bytes =
            serde_json::to_vec_pretty(value).map_err(|e| StoreError::io(path, io::Error::other(e)))?;
        bytes.push(b'\n');
        write_atomic(path, &bytes).map_err(|e| StoreError::io(path, e))
    }

    fn config_lock(&self, exclusive: bool) -> Result<LockGuard, StoreError> {
        let p = self.dir.join(CONFIG_LOCK);
        let g = if exclusive {
            LockGuard::exclusive(&p)
        } else {
            LockGuard::shared(&p)
        };
        g.map_err(|e| StoreError::io(&p, e))
    }

    /// Reads the configuration (an empty one when none exists yet).
    pub fn load(&self) -> Result<Config, StoreError> {
        let _lock = self.config_lock(false)?;
        Ok(self
            .read_json(&self.config_path(), CONFIG_SCHEMA)?
            .unwrap_or_default())
    }

    /// Read-modify-write of the configuration under the exclusive lock. `f` sees the current
    /// file (never a stale copy) and nothing is written when it fails.
    pub fn update<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Config) -> Result<T, E>,
    ) -> Result<T, E> {
        let _lock = self.config_lock(true)?;
        let mut config: Config = self
            .read_json(&self.config_path(), CONFIG_SCHEMA)?
            .unwrap_or_default();
        let before = config.clone();
        let out = f(&mut config)?;
        if config != before {
            self.write_json(&self.config_path(), &config)?;
        }
        Ok(out)
    }

    /// The token file of a server: a readable slug plus a hash of the exact name.
    pub fn tokens_path(&self, server: &str) -> PathBuf {
        self.dir
            .join(TOKENS_DIR)
            .join(format!("{}.json", token_file_stem(server)))
    }

    fn tokens_lock_path(&self, server: &str) -> PathBuf {
        self.dir
            .join(TOKENS_DIR)
            .join(format!("{}.lock", token_file_stem(server)))
    }

    pub fn lock_tokens(&self, server: &str, exclusive: bool) -> Result<LockGuard, StoreError> {
        let p = self.tokens_lock_path(server);
        let g = if exclusive {
            LockGuard::exclusive(&p)
        } else {
            LockGuard::shared(&p)
        };
        g.map_err(|e| StoreError::io(&p, e))
    }

    /// Reads a server's token file; the caller holds its lock. A file left by a server with
    /// another name (hash collision is practically impossible, but a stale file is not) is
    /// treated as absent.
    pub fn read_tokens(&self, server: &str) -> Result<Option<TokenFile>, StoreError> {
        let file: Option<TokenFile> = self.read_json(&self.tokens_path(server), TOKENS_SCHEMA)?;
        Ok(file.filter(|f| f.server == server))
    }

    /// Writes a server's token file atomically; the caller holds its exclusive lock.
    pub fn write_tokens(&self, file: &TokenFile) -> Result<(), StoreError> {
        self.write_json(&self.tokens_path(&file.server), file)
    }

    /// Reads with a shared lock (for list/show).
    pub fn load_tokens(&self, server: &str) -> Result<Option<TokenFile>, StoreError> {
        let _lock = self.lock_tokens(server, false)?;
        self.read_tokens(server)
    }

    /// Read-modify-write of one token file under its exclusive lock.
    pub fn update_tokens<T, E: From<StoreError>>(
        &self,
        server: &str,
        username: &str,
        f: impl FnOnce(&mut TokenFile) -> Result<T, E>,
    ) -> Result<T, E> {
        let _lock = self.lock_tokens(server, true)?;
        let mut file = self
            .read_tokens(server)?
            .unwrap_or_else(|| TokenFile::new(server, username));
        let before = file.clone();
        let out = f(&mut file)?;
        if file != before {
            self.write_tokens(&file)?;
        }
        Ok(out)
    }

    pub fn remove_tokens(&self, server: &str) -> Result<(), StoreError> {
        let _lock = self.lock_tokens(server, true)?;
        let p = self.tokens_path(server);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io(&p, e)),
        }?;
        let _ = fs::remove_file(self.tokens_lock_path(server));
        Ok(())
    }

    /// Moves a server's tokens to its new name.
    pub fn rename_tokens(&self, old: &str, new: &str) -> Result<(), StoreError> {
        let Some(mut file) = self.load_tokens(old)? else {
            return Ok(());
        };
        file.server = new.to_string();
        {
            let _lock = self.lock_tokens(new, true)?;
            self.write_tokens(&file)?;
        }
        self.remove_tokens(old)
    }
}

/// `support-inbox-1a2b3c4d5e6f`: readable, unique per exact name, safe on every filesystem.
pub fn token_file_stem(server: &str) -> String {
    let slug: String = server
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug: String = slug.chars().take(40).collect();
    let hash = Sha256::digest(server.as_bytes());
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    if slug.is_empty() {
        hex
    } else {
        format!("{slug}-{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthKind, Server, ServerState};

    fn server(name: &str) -> Server {
        Server {
            name: name.into(),
            server_type: Default::default(),
            auth: AuthKind::Basic,
            host: "h.example.com".into(),
            port: 993,
            ssl: true,
            username: "u@example.com".into(),
            app: None,
            password: None,
            ca_file: None,
            state: ServerState::Draft,
            last_test: None,
        }
    }

    #[test]
    fn creates_private_dirs_and_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("store");
        let store = Store::open(Some(dir.clone())).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(store.load().unwrap(), Config::default());
        store
            .update(|c| {
                c.servers.push(server("A"));
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let c = store.load().unwrap();
        assert_eq!(c.servers.len(), 1);
        assert_eq!(
            fs::metadata(store.config_path()).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn loose_modes_are_refused_with_the_chmod_to_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("store");
        let store = Store::open(Some(dir.clone())).unwrap();
        store
            .update(|c| {
                c.servers.push(server("A"));
                Ok::<_, StoreError>(())
            })
            .unwrap();
        fs::set_permissions(store.config_path(), fs::Permissions::from_mode(0o644)).unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        fs::set_permissions(store.config_path(), fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let err = Store::open(Some(dir.clone())).unwrap_err().to_string();
        assert!(err.contains(&format!("chmod 700 '{}'", dir.display())), "{err}");
    }

    #[test]
    fn corrupt_file_is_reported_with_position_and_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let bad = b"{\"schema\": 1,\n \"servers\": [ oops ]}";
        atomic::write_atomic(&store.config_path(), bad).unwrap();
        let err = store.load().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { line: 2, .. }), "{err:?}");
        let err = store
            .update(|c| {
                c.servers.push(server("A"));
                Ok::<_, StoreError>(())
            })
            .unwrap_err();
        assert!(err.to_string().contains("line 2"));
        assert_eq!(fs::read(store.config_path()).unwrap(), bad);
    }

    #[test]
    fn unknown_schema_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        atomic::write_atomic(&store.config_path(), b"{\"schema\": 99}").unwrap();
        assert!(matches!(
            store.load().unwrap_err(),
            StoreError::UnknownSchema { found: 99, .. }
        ));
    }

    #[test]
    fn failed_update_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let r: Result<(), StoreError> = store.update(|c| {
            c.servers.push(server("A"));
            Err(StoreError::NoHome)
        });
        assert!(r.is_err());
        assert!(!store.config_path().exists());
    }

    #[test]
    fn concurrent_updates_lose_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store
                        .update(|c| {
                            c.servers.push(server(&format!("S{i}")));
                            Ok::<_, StoreError>(())
                        })
                        .unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(store.load().unwrap().servers.len(), 8);
    }

    #[test]
    fn token_files_are_per_server_and_renamable() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        assert_eq!(token_file_stem("Support inbox").split('-').count(), 3);
        assert_ne!(token_file_stem("a/b"), token_file_stem("a b"));
        store
            .update_tokens("Support inbox", "s@example.com", |f| {
                f.failures = 2;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert_eq!(store.load_tokens("Support inbox").unwrap().unwrap().failures, 2);
        store.rename_tokens("Support inbox", "Support").unwrap();
        assert!(store.load_tokens("Support inbox").unwrap().is_none());
        assert_eq!(store.load_tokens("Support").unwrap().unwrap().failures, 2);
        store.remove_tokens("Support").unwrap();
        assert!(store.load_tokens("Support").unwrap().is_none());
    }
}
