//! The proxy's own files: `proxy.json` (per server id, the SHA-256 of its local proxy password,
//! never the password) and `proxy-tls/` (the certificate the proxy serves TLS with, made on its
//! first start). Kept out of config.json: a login reads only this small file, and a hash has
//! no business in a document people open and share.

use super::atomic::{LockGuard, create_private_dir, write_atomic};
use super::{Store, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

const PROXY_FILE: &str = "proxy.json";
const PROXY_LOCK: &str = "proxy.lock";
const TLS_DIR: &str = "proxy-tls";
const MAX_PROXY_FILE: u64 = 4 << 20;
const MAX_PEM_BYTES: u64 = 64 * 1024;

/// One server's local proxy password, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PasswordHash {
    /// SHA-256 of the password, lowercase hex. The password is random (≥128 bits), so a fast
    /// hash is enough: nothing is left to guess from it.
    pub sha256: String,
    pub set_at: Timestamp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProxyFile {
    #[serde(default)]
    pub schema: u32,
    /// By server id (ids are never reused, so a removed server's entry opens nothing).
    #[serde(default)]
    pub passwords: BTreeMap<String, PasswordHash>,
}

/// The proxy's TLS identity (PEM), with where its CA file is for clients to trust.
pub struct ProxyTls {
    pub ca_file: PathBuf,
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: crate::secret::Secret,
}

impl std::fmt::Debug for ProxyTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyTls")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl Store {
    fn proxy_path(&self) -> PathBuf {
        self.dir.join(PROXY_FILE)
    }

    /// The stored proxy password hashes (none yet: an empty file).
    pub fn read_proxy(&self) -> Result<ProxyFile, StoreError> {
        let path = self.proxy_path();
        match self.read_bytes(&path, MAX_PROXY_FILE)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                path: path.clone(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            }),
            None => Ok(ProxyFile::default()),
        }
    }

    /// Read-modify-write of `proxy.json` under its own lock.
    pub fn update_proxy<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut ProxyFile) -> Result<T, E>,
    ) -> Result<T, E> {
        let lock_path = self.dir.join(PROXY_LOCK);
        let _lock = LockGuard::exclusive(&lock_path).map_err(|e| StoreError::io(&lock_path, e))?;
        let mut file = self.read_proxy()?;
        let before = file.clone();
        let out = f(&mut file)?;
        if file != before {
            file.schema = 1;
            self.write_json(&self.proxy_path(), &file)?;
        }
        Ok(out)
    }

    fn proxy_tls_dir(&self) -> PathBuf {
        self.dir.join(TLS_DIR)
    }

    /// The CA file clients trust for the proxy's TLS.
    pub fn proxy_ca_path(&self) -> PathBuf {
        self.proxy_tls_dir().join("ca.pem")
    }

    /// The proxy's TLS identity, if made already.
    pub fn read_proxy_tls(&self) -> Result<Option<ProxyTls>, StoreError> {
        let dir = self.proxy_tls_dir();
        let read = |name: &str| -> Result<Option<String>, StoreError> {
            Ok(self
                .read_bytes(&dir.join(name), MAX_PEM_BYTES)?
                .map(|b| String::from_utf8_lossy(&b).into_owned()))
        };
        match (read("ca.pem")?, read("cert.pem")?, read("key.pem")?) {
            (Some(ca_pem), Some(cert_pem), Some(key)) => Ok(Some(ProxyTls {
                ca_file: self.proxy_ca_path(),
                ca_pem,
                cert_pem,
                key_pem: crate::secret::Secret::new(key),
            })),
            _ => Ok(None),
        }
    }

    /// Stores a new TLS identity (key first, CA last: a reader finds all three or none).
    pub fn write_proxy_tls(
        &self,
        ca_pem: &str,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<PathBuf, StoreError> {
        let dir = self.proxy_tls_dir();
        if !create_private_dir(&dir).map_err(|e| StoreError::io(&dir, e))? {
            self.check_meta(&dir, true)?;
        }
        for (name, text) in [("key.pem", key_pem), ("cert.pem", cert_pem), ("ca.pem", ca_pem)] {
            let path = dir.join(name);
            write_atomic(&path, text.as_bytes()).map_err(|e| StoreError::io(&path, e))?;
        }
        Ok(self.proxy_ca_path())
    }
}
