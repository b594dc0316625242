//! Local proxy passwords: made at random, shown once, stored as SHA-256, checked in constant
//! time. Never the mailbox password, the client secret or a token.

use crate::ops::{Error, Result};
use crate::secret::Secret;
use crate::store::{PasswordHash, ProxyFile, Store};
use sha2::{Digest, Sha256};

/// 26 characters of [A-Za-z0-9]: 154 bits, and nothing a config file would need to quote.
const PASSWORD_CHARS: usize = 26;

/// What `inbound proxy password` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Make one; refused when one is set already.
    New,
    /// Replace the one set (the old one stops working at once).
    Rotate,
    Remove,
}

/// Makes, replaces or removes `name`'s proxy password; returns the new one (shown once).
pub fn change(store: &Store, name: &str, change: Change) -> Result<Option<Secret>> {
    let config = store.load()?;
    let server = crate::ops::server_named(&config, name)?;
    store.update_proxy(|file: &mut ProxyFile| {
        let set = file.passwords.contains_key(&server.id);
        match change {
            Change::Remove => {
                file.passwords.remove(&server.id);
                Ok(None)
            }
            Change::New if set => Err(Error::ProxyPasswordSet {
                server: server.name.clone(),
            }),
            Change::New | Change::Rotate => {
                let password = random_password();
                file.passwords.insert(
                    server.id.clone(),
                    PasswordHash {
                        sha256: hex(&Sha256::digest(password.expose().as_bytes())),
                        set_at: jiff::Timestamp::now(),
                    },
                );
                Ok(Some(password))
            }
        }
    })
}

/// Whether `server_id` has a proxy password.
pub fn is_set(file: &ProxyFile, server_id: &str) -> bool {
    file.passwords.contains_key(server_id)
}

fn random_password() -> Secret {
    use rand::Rng as _;
    use rand::distributions::Alphanumeric;
    // ThreadRng is a CSPRNG seeded from the OS.
    let s: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(PASSWORD_CHARS)
        .map(char::from)
        .collect();
    Secret::new(s)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// True when `password` is `server_id`'s proxy password. The same work whether or not the
/// server has one (a dummy hash stands in), and the comparison is OpenSSL's constant-time one:
/// the answer's timing tells nothing about the stored hash or whether there is one.
pub fn verify(file: &ProxyFile, server_id: Option<&str>, password: &[u8]) -> bool {
    let given: [u8; 32] = Sha256::digest(password).into();
    let stored = server_id
        .and_then(|id| file.passwords.get(id))
        .and_then(|h| unhex(&h.sha256));
    let reference = stored.unwrap_or([0u8; 32]);
    let equal = openssl::memcmp::eq(&given, &reference);
    equal && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let mut file = ProxyFile::default();
        let pw = random_password();
        assert_eq!(pw.expose().len(), PASSWORD_CHARS);
        assert!(pw.expose().chars().all(|c| c.is_ascii_alphanumeric()));
        file.passwords.insert(
            "id1".into(),
            PasswordHash {
                sha256: hex(&Sha256::digest(pw.expose().as_bytes())),
                set_at: jiff::Timestamp::UNIX_EPOCH,
            },
        );
        assert!(verify(&file, Some("id1"), pw.expose().as_bytes()));
        assert!(!verify(&file, Some("id1"), b"wrong"));
        assert!(!verify(&file, Some("id2"), pw.expose().as_bytes()));
        assert!(!verify(&file, None, pw.expose().as_bytes()));
        assert_ne!(random_password().expose(), pw.expose());
    }
}
