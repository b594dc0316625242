//! The on-disk store: `config.json` (apps, servers, settings) and one small file per server
//! under `tokens/`, so `inbound token NAME` reads only its own file and a refresh rewrites
//! only that file. Every write is atomic and serialized across processes by file locks;
//! every read-modify-write re-reads under the lock.

pub mod atomic;

use crate::model::{CONFIG_SCHEMA, Config, Server, TOKENS_SCHEMA, TokenFile};
use atomic::{
    LockGuard, TEMP_PREFIX, create_private_dir, sweep_temp_files, write_atomic, write_atomic_locked,
};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

pub const CONFIG_FILE: &str = "config.json";
const CONFIG_LOCK: &str = "config.lock";
const TOKENS_DIR: &str = "tokens";

mod ahead;
mod certs;
mod dir_sync;
mod narrow;
mod proxy;
mod summary;
pub use proxy::{PasswordHash, ProxyFile, ProxyTls};
pub use summary::{NameOrder, Source as TokenSource, TokenCache, TokenCacheBytes};
/// Bounds on what we read: a store of 10,000 servers is a few MiB; anything larger is not ours.
const MAX_CONFIG_BYTES: u64 = 64 << 20;
const MAX_TOKEN_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot find a home directory for the store; choose the store's directory")]
    NoHome,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "no store at {path} (nothing was created): check the store's directory; a store is made by adding a server, making a certificate or changing a setting"
    )]
    NoStore { path: PathBuf },
    #[error(
        "the store is read-only: {path} cannot be written ({source}). Reading commands (list, show, apps, check, token while its token is valid) still work; to change anything, run where the store is writable"
    )]
    ReadOnly { path: PathBuf, source: io::Error },
    #[error("{path} is readable by other users (mode {mode:o}); it holds secrets. Run: {fix}")]
    LooseMode { path: PathBuf, mode: u32, fix: String },
    #[error(
        "{path} belongs to {owner}, but inbound runs as {me}; using it would leave files {me} owns in {owner}'s store. Run it as its owner: {rerun}\nor allow another owner to use it anyway (files keep their owner)"
    )]
    OtherOwner {
        path: PathBuf,
        owner: String,
        me: String,
        /// The command line that was run, as the owner: `sudo -u alice inbound list`.
        rerun: String,
    },
    #[error("{path} is not a regular file ({kind}); move it away, inbound will not read or replace it")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{path} is {size} bytes, more than the {limit} a store file can be; it was left untouched")]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
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
        "{path} has two or more {kind}s named \"{name}\" (lines {}). Nothing was changed; rename or remove all but one by hand",
        lines.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    Duplicate {
        path: PathBuf,
        kind: &'static str,
        name: String,
        lines: Vec<usize>,
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

    /// A failed write, create, lock or remove: a read-only mount (EROFS) or a store we may
    /// read but not write (EACCES, EPERM) is named as such, so the user knows reads still work.
    pub(crate) fn write(path: &Path, source: io::Error) -> Self {
        if is_read_only(&source) {
            StoreError::ReadOnly {
                path: path.to_path_buf(),
                source,
            }
        } else {
            Self::io(path, source)
        }
    }

    /// True when this is the store refusing writes (see [`StoreError::write`]).
    pub fn is_read_only(&self) -> bool {
        matches!(self, StoreError::ReadOnly { .. })
    }
}

/// EROFS, EACCES or EPERM: the file system or the modes refuse the write.
fn is_read_only(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EROFS | libc::EACCES | libc::EPERM))
}

/// The store in one directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    /// Set by `--allow-other-owner`: use a store owned by another user (root fixing a user's
    /// store); replaced files keep their owner.
    allow_other_owner: bool,
}

impl Store {
    /// The default location: the platform config dir (`~/.config/inbound` on Linux).
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "inbound").map(|d| d.config_dir().to_path_buf())
    }

    /// Opens (creating with 0700 when missing) and checks owner and permissions.
    pub fn open(dir: Option<PathBuf>) -> Result<Self, StoreError> {
        Self::open_with(dir, false)
    }

    /// As [`Store::open`]; `allow_other_owner` accepts a store that another user owns.
    pub fn open_with(dir: Option<PathBuf>, allow_other_owner: bool) -> Result<Self, StoreError> {
        let dir = match dir {
            Some(d) => d,
            None => Self::default_dir().ok_or(StoreError::NoHome)?,
        };
        create_private_dir(&dir).map_err(|e| StoreError::write(&dir, e))?;
        let store = Self {
            dir,
            allow_other_owner,
        };
        store.check_meta(&store.dir, true)?;
        let tokens = store.dir.join(TOKENS_DIR);
        if !create_private_dir(&tokens).map_err(|e| StoreError::write(&tokens, e))? {
            store.check_meta(&tokens, true)?;
        }
        Ok(store)
    }

    /// Opens a store that exists (its `config.json` does) without creating anything: for the
    /// commands that only read, so a mistyped `--config-dir` is an error, never a new empty
    /// store that monitoring would report as healthy. A read-only store opens fine.
    pub fn open_existing(dir: Option<PathBuf>, allow_other_owner: bool) -> Result<Self, StoreError> {
        let dir = match dir {
            Some(d) => d,
            None => Self::default_dir().ok_or(StoreError::NoHome)?,
        };
        let store = Self {
            dir,
            allow_other_owner,
        };
        match fs::metadata(store.config_path()) {
            Ok(_) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                return Err(StoreError::NoStore { path: store.dir });
            }
            Err(e) => return Err(StoreError::io(&store.config_path(), e)),
        }
        store.check_meta(&store.dir, true)?;
        store.check_meta(&store.tokens_dir(), true)?;
        Ok(store)
    }

    /// Opens the store for a command that may write its first record (`add`, `cert new`,
    /// `settings` with a change): an existing store is checked as [`Store::open_existing`]
    /// does, a missing one is created only by the first write, so a command refused before
    /// it writes leaves nothing behind.
    pub fn open_deferred(dir: Option<PathBuf>, allow_other_owner: bool) -> Result<Self, StoreError> {
        let dir = match dir {
            Some(d) => d,
            None => Self::default_dir().ok_or(StoreError::NoHome)?,
        };
        let store = Self {
            dir,
            allow_other_owner,
        };
        store.check_meta(&store.dir, true)?;
        store.check_meta(&store.tokens_dir(), true)?;
        Ok(store)
    }

    /// Creates the store's directories (0700) when a write finds them missing.
    fn ensure_dirs(&self) -> Result<(), StoreError> {
        for dir in [&self.dir, &self.tokens_dir()] {
            if create_private_dir(dir).map_err(|e| StoreError::write(dir, e))? {
                self.check_meta(dir, true)?;
            }
        }
        Ok(())
    }

    /// Whether this process may write the store (false on a read-only mount, or a store whose
    /// modes forbid it).
    pub fn is_writable(&self) -> bool {
        self.check_writable().is_ok()
    }

    /// [`StoreError::ReadOnly`] when this process may not write the store: for a command
    /// that would otherwise do its work (a sign-in) and only then fail to keep the result.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        rustix::fs::access(&self.dir, rustix::fs::Access::WRITE_OK)
            .map_err(|e| StoreError::write(&self.dir, e.into()))
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

    fn tokens_dir(&self) -> PathBuf {
        self.dir.join(TOKENS_DIR)
    }

    /// Owner and mode of a store file or directory (absent is fine).
    fn check_meta(&self, path: &Path, is_dir: bool) -> Result<(), StoreError> {
        let meta = match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(path, e)),
        };
        self.check_owner_mode(path, &meta, is_dir)
    }

    fn check_owner_mode(&self, path: &Path, meta: &fs::Metadata, is_dir: bool) -> Result<(), StoreError> {
        if is_dir && !meta.is_dir() {
            return Err(StoreError::NotRegular {
                path: path.to_path_buf(),
                kind: file_kind(meta),
            });
        }
        let me = euid();
        if meta.uid() != me && !self.allow_other_owner {
            return Err(StoreError::OtherOwner {
                path: path.to_path_buf(),
                owner: user_name(meta.uid()),
                me: user_name(me),
                rerun: rerun_as(meta.uid()),
            });
        }
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

    /// Reads a whole store file: a regular file (a FIFO or device is refused without
    /// blocking), ours, private, and of bounded size.
    fn read_bytes(&self, path: &Path, limit: u64) -> Result<Option<Vec<u8>>, StoreError> {
        read_regular(path, limit, |meta| self.check_owner_mode(path, meta, false))
    }

    /// Parses a store file once; only when that fails is the schema looked at, to tell a
    /// newer file (unknown schema) from a damaged one.
    fn parse_json<T: DeserializeOwned + Versioned>(
        path: &Path,
        bytes: &[u8],
        supported: u32,
    ) -> Result<T, StoreError> {
        let corrupt = |e: serde_json::Error| StoreError::Corrupt {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let unknown = |found: u64| StoreError::UnknownSchema {
            path: path.to_path_buf(),
            found,
            supported,
        };
        match serde_json::from_slice::<T>(bytes) {
            Ok(v) if v.schema() == supported => Ok(v),
            Ok(v) => Err(unknown(u64::from(v.schema()))),
            Err(e) => {
                #[derive(serde::Deserialize)]
                struct Version {
                    #[serde(default)]
                    schema: Option<serde_json::Value>,
                }
                match serde_json::from_slice::<Version>(bytes) {
                    Ok(v) => {
                        let found = v.schema.as_ref().and_then(serde_json::Value::as_u64).unwrap_or(0);
                        if found == u64::from(supported) {
                            Err(corrupt(e))
                        } else {
                            Err(unknown(found))
                        }
                    }
                    Err(_) => Err(corrupt(e)),
                }
            }
        }
    }

    fn read_config(&self) -> Result<Config, StoreError> {
        let path = self.config_path();
        let mut config = match self.read_bytes(&path, MAX_CONFIG_BYTES)? {
            Some(bytes) => parse_config(&path, &bytes)?,
            None => Config::default(),
        };
        self.locate_certificates(&mut config);
        Ok(config)
    }

    fn write_json<T: serde::Serialize>(&self, path: &Path, value: &T) -> Result<(), StoreError> {
        write_atomic(path, &json_bytes(path, value)?).map_err(|e| StoreError::write(path, e))
    }

    /// Locks are taken only to write (the lock file is created on first use), so a failure to
    /// open one on a read-only store is that store refusing writes.
    fn lock(&self, path: &Path, exclusive: bool) -> Result<LockGuard, StoreError> {
        let g = if exclusive {
            LockGuard::exclusive(path)
        } else {
            LockGuard::shared(path)
        };
        g.map_err(|e| StoreError::write(path, e))
    }

    fn config_lock(&self, exclusive: bool) -> Result<LockGuard, StoreError> {
        self.lock(&self.dir.join(CONFIG_LOCK), exclusive)
    }

    /// Reads the configuration (an empty one when none exists yet). No lock: every write
    /// replaces the file by rename, so this sees the old file or the new one, never a mix;
    /// and a read-only store (a snapshot, a secret mounted into a container) serves reads.
    pub fn load(&self) -> Result<Config, StoreError> {
        self.read_config()
    }

    /// Read-modify-write of the configuration under the exclusive lock. `f` sees the current
    /// file (never a stale copy) and nothing is written when it fails. Every write also gives
    /// servers from older stores their id, and removes token files no server owns any more
    /// and temporary files a killed process left.
    pub fn update<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Config) -> Result<T, E>,
    ) -> Result<T, E> {
        self.ensure_dirs()?;
        let _lock = self.config_lock(true)?;
        let mut config = self.read_config()?;
        let before = config.clone();
        let out = f(&mut config)?;
        if config != before {
            self.assign_ids(&mut config)?;
            let path = self.config_path();
            sweep_temp_files(&self.dir, CONFIG_FILE);
            self.sweep_summary_temps();
            self.write_json(&path, &config)?;
            self.sweep_tokens(&config);
            self.sweep_certificates(&config);
        }
        Ok(out)
    }

    /// Servers without an id (stores from before ids) get one; their tokens move to the
    /// id-named file first, so a kill leaves at worst an orphan that the next write removes.
    fn assign_ids(&self, config: &mut Config) -> Result<(), StoreError> {
        for server in config.servers.iter_mut().filter(|s| s.id.is_empty()) {
            let legacy = Server {
                id: String::new(),
                ..server.clone()
            };
            server.id = crate::model::new_server_id();
            let _old = self.lock_tokens(&legacy, true)?;
            if let Some(mut file) = self.read_tokens(&legacy)? {
                let _new = self.lock_tokens(server, true)?;
                file.server_id = server.id.clone();
                self.write_json(&self.tokens_path(server), &file)?;
            }
        }
        Ok(())
    }

    /// Removes, under the config lock, token files of ids no server has and stale temporary
    /// files. A file whose lock someone holds is being written: it is left for next time.
    /// Best effort: a failure here never fails the write that triggered it.
    fn sweep_tokens(&self, config: &Config) {
        let live: std::collections::HashSet<&str> = config.servers.iter().map(|s| s.id.as_str()).collect();
        let dir = self.tokens_dir();
        let Ok(entries) = fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let (stem, is_temp) = match name.strip_prefix(TEMP_PREFIX) {
                Some(rest) => (rest.split('.').next().unwrap_or(""), true),
                None => match name.strip_suffix(".json") {
                    Some(stem) => (stem, false),
                    None => match name.strip_suffix(".lock") {
                        Some(stem) if !live.contains(stem) && !dir.join(format!("{stem}.json")).exists() => {
                            let _ = fs::remove_file(entry.path());
                            continue;
                        }
                        _ => continue,
                    },
                },
            };
            if !is_temp && live.contains(stem) {
                continue;
            }
            let lock_path = dir.join(format!("{stem}.lock"));
            let Ok(Some(_held)) = LockGuard::try_exclusive(&lock_path) else {
                continue;
            };
            let _ = fs::remove_file(entry.path());
        }
    }

    /// The token file of a server: `tokens/<id>.json` (stores from before ids: a slug of the
    /// name plus a hash of it).
    pub fn tokens_path(&self, server: &Server) -> PathBuf {
        self.tokens_dir().join(format!("{}.json", token_stem(server)))
    }

    fn tokens_lock_path(&self, server: &Server) -> PathBuf {
        self.tokens_dir().join(format!("{}.lock", token_stem(server)))
    }

    pub fn lock_tokens(&self, server: &Server, exclusive: bool) -> Result<LockGuard, StoreError> {
        self.lock(&self.tokens_lock_path(server), exclusive)
    }

    /// The exclusive lock of a server's token file if nobody holds it now (`None`: held).
    pub fn try_lock_tokens(&self, server: &Server) -> Result<Option<LockGuard>, StoreError> {
        let path = self.tokens_lock_path(server);
        LockGuard::try_exclusive(&path).map_err(|e| StoreError::write(&path, e))
    }

    /// Reads a server's token file; the caller holds its lock. Served only when it is bound to
    /// this very server (same id) and was minted for the mailbox the server names now:
    /// anything else is treated as absent, never handed out.
    pub fn read_tokens(&self, server: &Server) -> Result<Option<TokenFile>, StoreError> {
        let path = self.tokens_path(server);
        let Some(bytes) = self.read_bytes(&path, MAX_TOKEN_FILE_BYTES)? else {
            return Ok(None);
        };
        let file: TokenFile = Self::parse_json(&path, &bytes, TOKENS_SCHEMA)?;
        if !serves(&file.server_id, &file.server, &file.username, server) {
            return Ok(None);
        }
        Ok(Some(file))
    }

    /// Removes a file at this server's token path that is not usable by it (bound to another
    /// id or minted for another mailbox); the caller holds the exclusive lock. Returns whether
    /// one was removed.
    pub fn drop_unusable_tokens(&self, server: &Server) -> Result<bool, StoreError> {
        let path = self.tokens_path(server);
        if !path.exists() || self.read_tokens(server)?.is_some() {
            return Ok(false);
        }
        tracing::warn!(server = %server.name, "removed a token file that belongs to another server or mailbox");
        fs::remove_file(&path).map_err(|e| StoreError::write(&path, e))?;
        Ok(true)
    }

    /// Writes a server's token file atomically, bound to the server; the caller holds its
    /// exclusive lock.
    pub fn write_tokens(&self, server: &Server, file: &TokenFile) -> Result<(), StoreError> {
        let mut file = file.clone();
        file.server_id = server.id.clone();
        file.server = server.name.clone();
        file.username = server.username.clone();
        let path = self.tokens_path(server);
        // The lock is held: the write replaces the temporary file a killed writer left (one
        // of an older naming is swept by the next write of config.json).
        write_atomic_locked(&path, &json_bytes(&path, &file)?).map_err(|e| StoreError::write(&path, e))
    }

    /// Reads without a lock (for list/show/check): every write replaces the file by rename,
    /// so a reader sees the old file or the new one, never a mix; locks serialise writers.
    pub fn load_tokens(&self, server: &Server) -> Result<Option<TokenFile>, StoreError> {
        self.read_tokens(server)
    }

    /// Read-modify-write of one token file under its exclusive lock.
    pub fn update_tokens<T, E: From<StoreError>>(
        &self,
        server: &Server,
        f: impl FnOnce(&mut TokenFile) -> Result<T, E>,
    ) -> Result<T, E> {
        let _lock = self.lock_tokens(server, true)?;
        let mut file = self
            .read_tokens(server)?
            .unwrap_or_else(|| TokenFile::for_server(server));
        let before = file.clone();
        let out = f(&mut file)?;
        if file != before {
            self.write_tokens(server, &file)?;
        }
        Ok(out)
    }

    /// Deletes a server's tokens (sign out, or the mailbox changed).
    pub fn remove_tokens(&self, server: &Server) -> Result<(), StoreError> {
        let _lock = self.lock_tokens(server, true)?;
        let p = self.tokens_path(server);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::write(&p, e)),
        }
    }
}

/// A store document as written: pretty JSON and a final newline.
fn json_bytes<T: serde::Serialize>(path: &Path, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| StoreError::io(path, io::Error::other(e)))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Whether a token file bound to `server_id` (or, before ids, named `server_name`) and minted
/// for `username` serves `server`: the same id, and the mailbox the server names now.
fn serves(server_id: &str, server_name: &str, username: &str, server: &Server) -> bool {
    let bound = if server.id.is_empty() {
        server_id.is_empty() && server_name == server.name
    } else {
        server_id == server.id
    };
    if bound && username != server.username {
        tracing::warn!(server = %server.name, "stored tokens were minted for another mailbox; not served");
    }
    bound && username == server.username
}

/// This process's effective uid, asked once: every store file's owner is compared with it.
fn euid() -> u32 {
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *EUID.get_or_init(|| rustix::process::geteuid().as_raw())
}

/// Reads a private file of the store that a service opens by path (a certificate's key):
/// like every store file, a regular file (a FIFO in its place is refused at once, never
/// waited on), not readable by others, and at most `limit` bytes. `None` when absent.
pub fn read_private_file(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, StoreError> {
    read_regular(path, limit, |meta| {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StoreError::LooseMode {
                path: path.to_path_buf(),
                mode,
                fix: format!("chmod 600 '{}'", path.display()),
            });
        }
        Ok(())
    })
}

/// Opens `path` with O_NONBLOCK (so a FIFO cannot block the open), checks with fstat that it
/// is a regular file, runs `check` on it, and reads at most `limit` bytes.
fn read_regular(
    path: &Path,
    limit: u64,
    check: impl FnOnce(&fs::Metadata) -> Result<(), StoreError>,
) -> Result<Option<Vec<u8>>, StoreError> {
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    let meta = file.metadata().map_err(|e| StoreError::io(path, e))?;
    if !meta.is_file() {
        return Err(StoreError::NotRegular {
            path: path.to_path_buf(),
            kind: file_kind(&meta),
        });
    }
    check(&meta)?;
    if meta.len() > limit {
        return Err(StoreError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // `take` bounds a file that grows while we read it.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(StoreError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(Some(bytes))
}

/// The schema version a store document carries.
trait Versioned {
    fn schema(&self) -> u32;
}

impl Versioned for Config {
    fn schema(&self) -> u32 {
        self.schema
    }
}

impl Versioned for TokenFile {
    fn schema(&self) -> u32 {
        self.schema
    }
}

/// Parses the bytes of a `config.json` (named `path` in errors): schema, JSON, unique names.
/// Public for the property tests and fuzz targets.
pub fn parse_config(path: &Path, bytes: &[u8]) -> Result<Config, StoreError> {
    let config: Config = Store::parse_json(path, bytes, CONFIG_SCHEMA)?;
    check_unique(path, bytes, &config)?;
    Ok(config)
}

/// Parses the bytes of a token file (named `path` in errors). Public for the fuzz targets.
pub fn parse_token_file(path: &Path, bytes: &[u8]) -> Result<TokenFile, StoreError> {
    Store::parse_json(path, bytes, TOKENS_SCHEMA)
}

fn token_stem(server: &Server) -> String {
    if server.id.is_empty() {
        token_file_stem(&server.name)
    } else {
        server.id.clone()
    }
}

fn file_kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a file"
    }
}

/// The login name of `uid`, from /etc/passwd when the uid is listed there.
fn login_of(uid: u32) -> Option<String> {
    fs::read_to_string("/etc/passwd").ok().and_then(|p| {
        p.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?;
            (id.parse::<u32>().ok()? == uid).then(|| name.to_string())
        })
    })
}

/// `alice (uid 1000)`, or `uid 1000` when the uid has no name.
fn user_name(uid: u32) -> String {
    match login_of(uid) {
        Some(n) => format!("{n} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

/// The command this process runs, run as `uid` instead: `sudo -u alice inbound list`
/// (`sudo -u '#1000' …` for a uid without a name), each word quoted for the shell.
fn rerun_as(uid: u32) -> String {
    let user = login_of(uid).unwrap_or_else(|| format!("#{uid}"));
    let mut words = vec!["sudo".to_string(), "-u".to_string(), shell_word(&user)];
    words.push("inbound".into());
    words.extend(std::env::args().skip(1).map(|a| shell_word(&a)));
    words.join(" ")
}

/// One word for a POSIX shell: bare when it is plainly safe, else single-quoted. Control
/// and bidi characters are shown as `?` so the message cannot drive the terminal.
fn shell_word(s: &str) -> String {
    let hostile = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    let s: String = s.chars().map(|c| if hostile(c) { '?' } else { c }).collect();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Refuses a configuration with two servers or two apps of one name (a hand edit): which one
/// `edit` or `remove` meant cannot be known.
fn check_unique(path: &Path, text: &[u8], config: &Config) -> Result<(), StoreError> {
    /// The first name seen twice. Hashed with foldhash, not SipHash (a measured cost at 10,000
    /// servers): the names and ids are the user's own store's, in a file only its owner can
    /// write, not keys an attacker chooses over the network.
    fn dup(names: Vec<&str>) -> Option<&str> {
        let mut seen = std::collections::HashSet::with_capacity_and_hasher(
            names.len(),
            foldhash::fast::FixedState::default(),
        );
        names.into_iter().find(|n| !seen.insert(*n))
    }
    let checks: [(&'static str, &str, Vec<&str>); 3] = [
        (
            "server",
            "servers",
            config.servers.iter().map(|s| s.name.as_str()).collect(),
        ),
        (
            "Azure app",
            "apps",
            config.apps.iter().map(|a| a.name.as_str()).collect(),
        ),
        (
            "server id",
            "servers",
            config
                .servers
                .iter()
                .map(|s| s.id.as_str())
                .filter(|i| !i.is_empty())
                .collect(),
        ),
    ];
    for (kind, section, names) in checks {
        if let Some(name) = dup(names) {
            let key = if kind == "server id" { "id" } else { "name" };
            return Err(StoreError::Duplicate {
                path: path.to_path_buf(),
                kind,
                name: name.to_string(),
                lines: lines_of(text, section, key, name),
            });
        }
    }
    Ok(())
}

/// Line numbers of the `"key": "value"` members of the objects in the top-level array
/// `section` of a JSON text. serde_json reads the text; a key it hands over borrowed is a
/// slice of the text itself, so where it starts says on which line it stands (serde_json has
/// no span API; this needs none, and a key it cannot borrow, one with escapes, is only left
/// unnumbered).
fn lines_of(text: &[u8], section: &str, key: &str, value: &str) -> Vec<usize> {
    let Ok(text) = std::str::from_utf8(text) else {
        return Vec::new();
    };
    let Ok(top) = serde_json::from_str::<Top>(text) else {
        return Vec::new();
    };
    let objects = match section {
        "servers" => top.servers,
        "apps" => top.apps,
        _ => Vec::new(),
    };
    objects
        .iter()
        .flat_map(|o| &o.0)
        .filter(|m| m.name == key && m.value.as_str() == Some(value))
        .filter_map(|m| m.key)
        .map(|k| {
            let at = (k.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            text[..at.min(text.len())].matches('\n').count() + 1
        })
        .collect()
}

/// The two arrays whose members [`lines_of`] numbers.
#[derive(serde::Deserialize)]
struct Top<'a> {
    #[serde(default, borrow)]
    servers: Vec<Members<'a>>,
    #[serde(default, borrow)]
    apps: Vec<Members<'a>>,
}

/// One object's members in the order written: the key as borrowed from the text (`None` when
/// it had to be unescaped), its text, and the value.
struct Members<'a>(Vec<Member<'a>>);

struct Member<'a> {
    key: Option<&'a str>,
    name: String,
    value: serde_json::Value,
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Object<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<Key<'a>>()? {
                    let value = map.next_value()?;
                    members.push(Member {
                        key: key.borrowed,
                        name: key.text,
                        value,
                    });
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Object(std::marker::PhantomData))
    }
}

/// A key, and the slice of the text it is when serde_json could lend it.
struct Key<'a> {
    borrowed: Option<&'a str>,
    text: String,
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Key<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for KeyVisitor<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key {
                    borrowed: Some(v),
                    text: v.to_string(),
                })
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key {
                    borrowed: None,
                    text: v.to_string(),
                })
            }
        }
        d.deserialize_str(KeyVisitor(std::marker::PhantomData))
    }
}

/// `support-inbox-1a2b3c4d5e6f`: readable, unique per exact name, safe on every filesystem.
/// Names token files of stores written before server ids.
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
    use crate::model::{AuthKind, Server};

    fn server(name: &str) -> Server {
        Server::for_tests(name, AuthKind::Basic)
    }

    #[test]
    fn an_update_that_fails_writes_nothing_of_what_it_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("store"))).unwrap();
        store
            .update(|c| {
                c.servers.push(server("A"));
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let bytes = fs::read(store.config_path()).unwrap();
        // Two changes in one closure (as an edit of app and server is): the second fails.
        let r = store.update(|c| {
            c.servers[0].host = "changed.example.com".into();
            c.servers.push(server("B"));
            Err::<(), _>(StoreError::NoHome)
        });
        assert!(r.is_err());
        assert_eq!(fs::read(store.config_path()).unwrap(), bytes);
    }

    #[test]
    fn opening_to_read_creates_nothing_and_the_first_write_creates_the_store() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let err = Store::open_existing(Some(dir.clone()), false).unwrap_err();
        assert!(matches!(err, StoreError::NoStore { .. }), "{err}");
        assert!(err.to_string().contains("no store at"), "{err}");
        let store = Store::open_deferred(Some(dir.clone()), false).unwrap();
        assert!(!dir.exists(), "opening to write creates nothing yet");
        assert_eq!(store.load().unwrap(), Config::default());
        assert!(!dir.exists(), "nor does reading");
        store
            .update(|c| {
                c.settings.listen_port = Some(9000);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(store.tokens_dir().is_dir());
        assert!(Store::open_existing(Some(dir), false).is_ok());
    }

    #[test]
    fn a_refused_write_names_a_read_only_store() {
        for errno in [libc::EROFS, libc::EACCES, libc::EPERM] {
            let e = StoreError::write(Path::new("/s/config.lock"), io::Error::from_raw_os_error(errno));
            assert!(e.is_read_only(), "{e}");
            assert!(e.to_string().contains("the store is read-only"), "{e}");
        }
        let full = StoreError::write(
            Path::new("/s/config.json"),
            io::Error::from_raw_os_error(libc::ENOSPC),
        );
        assert!(!full.is_read_only(), "{full}");
    }

    #[test]
    fn shell_words_are_quoted_and_stripped_of_controls() {
        assert_eq!(shell_word("list"), "list");
        assert_eq!(shell_word("/home/a b"), "'/home/a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("#1000"), "'#1000'");
        assert_eq!(shell_word("a\u{1b}[2Jb\u{202e}"), "'a?[2Jb?'");
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
    fn token_files_are_bound_to_the_server_id_and_mailbox() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let alice = server("A");
        store
            .update_tokens(&alice, |f| {
                f.failures = 2;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert_eq!(store.load_tokens(&alice).unwrap().unwrap().failures, 2);
        // Renamed: same id, same file.
        let renamed = Server {
            name: "B".into(),
            ..alice.clone()
        };
        assert_eq!(store.load_tokens(&renamed).unwrap().unwrap().failures, 2);
        // A new server of the old name has a new id: it never sees them.
        assert!(store.load_tokens(&server("A")).unwrap().is_none());
        // Nor does the same server once it names another mailbox.
        let moved = Server {
            username: "support@example.com".into(),
            ..alice.clone()
        };
        assert!(store.load_tokens(&moved).unwrap().is_none());
        // A file copied to another id's name is refused too.
        let other = server("C");
        fs::copy(store.tokens_path(&alice), store.tokens_path(&other)).unwrap();
        assert!(store.load_tokens(&other).unwrap().is_none());
        store.remove_tokens(&alice).unwrap();
        assert!(store.load_tokens(&alice).unwrap().is_none());
    }

    #[test]
    fn a_write_sweeps_orphan_token_files_and_stale_temps() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let a = server("A");
        let gone = server("Gone");
        store
            .update(|c| {
                c.servers.push(a.clone());
                Ok::<_, StoreError>(())
            })
            .unwrap();
        for s in [&a, &gone] {
            store
                .update_tokens(s, |f| {
                    f.failures = 1;
                    Ok::<_, StoreError>(())
                })
                .unwrap();
        }
        let tokens = store.tokens_dir();
        let stale = [
            tokens.join(format!(".tmp-{}.json.AbC123", a.id)),
            tokens.join(format!(".tmp-{}.json.XyZ789", gone.id)),
            store.dir().join(".tmp-config.json.q1w2e3"),
        ];
        for p in &stale {
            fs::write(p, "{\"secret\": \"left by a kill\"}").unwrap();
        }
        store
            .update(|c| {
                c.settings.listen_port = Some(9000);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        for p in &stale {
            assert!(!p.exists(), "{} was left", p.display());
        }
        assert!(!store.tokens_path(&gone).exists(), "orphan token file removed");
        assert!(store.tokens_path(&a).exists(), "a live server keeps its tokens");
    }

    #[test]
    fn servers_from_before_ids_get_one_and_keep_their_tokens() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let legacy = Server {
            id: String::new(),
            ..server("Old")
        };
        let mut config = Config::default();
        config.servers.push(legacy.clone());
        store.write_json(&store.config_path(), &config).unwrap();
        {
            let _l = store.lock_tokens(&legacy, true).unwrap();
            let mut f = TokenFile::for_server(&legacy);
            f.failures = 3;
            store.write_tokens(&legacy, &f).unwrap();
        }
        assert_eq!(store.load_tokens(&legacy).unwrap().unwrap().failures, 3);
        store
            .update(|c| {
                c.settings.listen_port = Some(9001);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let migrated = store.load().unwrap().servers.remove(0);
        assert_eq!(migrated.id.len(), 32);
        assert_eq!(store.load_tokens(&migrated).unwrap().unwrap().failures, 3);
        assert!(!store.tokens_path(&legacy).exists(), "legacy file swept");
    }

    #[test]
    fn duplicate_names_are_refused_with_their_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let mut config = Config::default();
        config.servers.push(server("A"));
        config.servers.push(server("A"));
        store.write_json(&store.config_path(), &config).unwrap();
        let err = store.load().unwrap_err();
        match &err {
            StoreError::Duplicate {
                kind, name, lines, ..
            } => {
                assert_eq!((*kind, name.as_str()), ("server", "A"));
                assert_eq!(lines.len(), 2, "{err}");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("lines "), "{err}");
    }

    #[test]
    fn non_regular_and_oversized_files_are_refused_without_blocking() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(store.config_path())
            .status()
            .unwrap();
        assert!(status.success());
        assert!(matches!(store.load().unwrap_err(), StoreError::NotRegular { .. }));
        fs::remove_file(store.config_path()).unwrap();
        fs::create_dir(store.config_path()).unwrap();
        assert!(matches!(store.load().unwrap_err(), StoreError::NotRegular { .. }));
        fs::remove_dir(store.config_path()).unwrap();
        let f = fs::File::create(store.config_path()).unwrap();
        f.set_len(MAX_CONFIG_BYTES + 1).unwrap();
        fs::set_permissions(store.config_path(), fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(store.load().unwrap_err(), StoreError::TooLarge { .. }));
    }

    #[test]
    fn section_lines_are_found_in_the_right_array() {
        let text =
            "{\n\"apps\": [{\"name\": \"A\"}],\n\"servers\": [\n{\"name\": \"A\"},\n{\"name\": \"A\"}]}";
        assert_eq!(lines_of(text.as_bytes(), "servers", "name", "A"), vec![4, 5]);
        assert_eq!(lines_of(text.as_bytes(), "apps", "name", "A"), vec![2]);
        // Only the objects' own members count: not a nested object's, not text in a value.
        let text = "{\"servers\": [\n{\"id\": \"1\", \"name\": \"A\",\n \"state\": {\"name\": \"A\"}},\n{\"name\": \"B\", \"note\": \"\\\"name\\\": \\\"A\\\"\"},\n{\"id\": \"1\",\n\"name\":\n\"A\"}]}";
        assert_eq!(lines_of(text.as_bytes(), "servers", "name", "A"), vec![2, 6]);
        assert_eq!(lines_of(text.as_bytes(), "servers", "id", "1"), vec![2, 5]);
        assert!(lines_of(b"not json", "servers", "name", "A").is_empty());
    }
}
