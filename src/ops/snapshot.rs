//! One read model of the store: the configuration with every server's token file. The TUI
//! draws from it, and `inbound list` / `show` / `check` print from it, so both faces judge a
//! server's health from the same data in the same way.

use super::Result;
use crate::model::health::{Health, TokenLine, assess};
use crate::model::{Config, Server, TokenFile};
use crate::store::{Store, TokenCache};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// What the store holds, as last read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub config: Config,
    /// Token files by server name.
    pub tokens: BTreeMap<String, TokenFile>,
    /// Token files of the last servers not read yet (the first frame reads only the first
    /// ones; a full snapshot follows).
    pub pending: usize,
    /// Ids of the servers that have a local proxy password (`inbound proxy password`).
    pub proxy_passwords: std::collections::BTreeSet<String>,
    /// Whether an `inbound serve` runs on this store, and its schedule.
    pub serve: super::serve::status::ServeState,
}

impl Snapshot {
    /// Reads the configuration and every server's token file.
    pub fn load(store: &Store) -> Result<Self> {
        Self::load_first(store, usize::MAX)
    }

    /// The configuration and the token files of the first `first` servers only, so that a
    /// first frame does not wait for thousands of file reads; `pending` counts the rest.
    pub fn load_first(store: &Store, first: usize) -> Result<Self> {
        let config = store.load()?;
        let mut tokens = BTreeMap::new();
        for s in config.servers.iter().take(first) {
            if let Some(f) = store.load_tokens(s)? {
                tokens.insert(s.name.clone(), f);
            }
        }
        let pending = config.servers.len().saturating_sub(first);
        let proxy_passwords = store.read_proxy()?.passwords.into_keys().collect();
        Ok(Self {
            config,
            tokens,
            pending,
            proxy_passwords,
            serve: super::serve::status::read(store),
        })
    }

    /// What `list`, `show` and `check` print from: `config` (as just read) with each server's
    /// token file as health sees it, through the store's token summary, so a store of
    /// thousands of servers is not read file by file. The token files' secrets are blank, and so
    /// is their binding to a server (id, name, mailbox): it was checked, and health never reads it.
    /// `cache` is the summary as read with `config` ([`Store::load_with_token_cache`]); the
    /// token files are taken out of it, the rest is the caller's.
    pub fn for_health(store: &Store, config: Config, cache: &mut TokenCache<'_>) -> Result<Self> {
        let tokens = store.token_health_files_from(&config.servers, cache)?;
        let proxy_passwords = store.read_proxy()?.passwords.into_keys().collect();
        Ok(Self {
            config,
            tokens,
            pending: 0,
            proxy_passwords,
            serve: super::serve::status::read(store),
        })
    }

    /// The token file of the server named `name` as it is now, read alone (its settings,
    /// apps and that one server, not every server's file): what a refresh just wrote, to
    /// [`Snapshot::patch_tokens`] a snapshot with instead of reading the whole store again.
    pub fn read_tokens_of(store: &Store, name: &str) -> Result<Option<TokenFile>> {
        let config = match store.load_one(name)? {
            Some(config) => config,
            None => store.load()?,
        };
        let server = config.server(name).ok_or_else(|| super::Error::NotFound {
            kind: "server",
            name: name.into(),
        })?;
        Ok(store.load_tokens(server)?)
    }

    /// Puts one server's token file, as just read, in place of the one read before (a server
    /// without a file any more loses it).
    pub fn patch_tokens(&mut self, name: &str, file: Option<TokenFile>) {
        match file {
            Some(f) => {
                self.tokens.insert(name.to_string(), f);
            }
            None => {
                self.tokens.remove(name);
            }
        }
    }

    /// Whether `server` has a local proxy password.
    pub fn has_proxy_password(&self, server: &Server) -> bool {
        self.proxy_passwords.contains(&server.id)
    }

    /// The token file of the server named `name`, if it has one (and it was read).
    pub fn tokens_of(&self, name: &str) -> Option<&TokenFile> {
        self.tokens.get(name)
    }

    /// The token line of `server` at `now`: all `list`'s table shows of its health, judged
    /// as [`Snapshot::health`] judges it.
    pub fn token_line(&self, server: &Server, now: Timestamp) -> TokenLine {
        TokenLine::of(server, self.tokens_of(&server.name), now)
    }

    /// The health of `server` at `now`, from its app and token file as read.
    pub fn health(&self, server: &Server, now: Timestamp) -> Health {
        assess(
            server,
            self.config.app_of(server),
            self.tokens_of(&server.name),
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuthKind;

    fn server(name: &str) -> Server {
        Server::for_tests(name, AuthKind::OAuth2)
    }

    #[test]
    fn reads_the_first_token_files_and_counts_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        store
            .update(|c| {
                c.servers.extend(["A", "B", "C"].map(server));
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
        let config = store.load().unwrap();
        for s in &config.servers {
            store
                .update_tokens(s, |f| {
                    f.failures = 1;
                    Ok::<_, crate::store::StoreError>(())
                })
                .unwrap();
        }
        let all = Snapshot::load(&store).unwrap();
        assert_eq!((all.tokens.len(), all.pending), (3, 0));
        let first = Snapshot::load_first(&store, 1).unwrap();
        assert_eq!((first.tokens.len(), first.pending), (1, 2));
        let a = &all.config.servers[0];
        assert_eq!(all.health(a, Timestamp::now()).server, "A");
        // One server's file, read alone after a write, patches a snapshot read before it.
        store
            .update_tokens(&config.servers[1], |f| {
                f.failures = 7;
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
        let mut patched = all.clone();
        let b = Snapshot::read_tokens_of(&store, "B").unwrap();
        patched.patch_tokens("B", b);
        assert_eq!(patched.tokens["B"].failures, 7);
        assert_eq!(patched.tokens["A"], all.tokens["A"]);
        assert_eq!(patched, Snapshot::load(&store).unwrap());
        assert!(Snapshot::read_tokens_of(&store, "nobody").is_err());
    }
}
