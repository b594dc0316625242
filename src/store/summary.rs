//! A cache of what `list`, `show` and `check` need from the token files, so that they read one
//! file instead of one per server.
//!
//! `tokens.cache` (JSON; not named `.json`, so that watchers of the store do not take its
//! writes for changes) holds, per token file, the file's stamp (inode, size, times, mode and
//! owner, as `fstat` gave them when it was read) and a digest of it without any secret. The
//! token files stay the only source of truth; the summary is trusted only as far as it can be
//! checked:
//!
//! - Fast path: the summary also records the stamp of the `tokens/` directory. Every token
//!   write replaces its file by rename, every removal unlinks one, and both change the
//!   directory's mtime and ctime. When the directory's stamp is the recorded one, no token file
//!   was added, replaced or removed since the summary was built: one `stat` vouches for all.
//! - A directory stamp is recorded only when the directory's last change (its ctime, which
//!   nobody can set) lies well before the build began ([`settle_time`]); a change in the same
//!   clock tick as the recorded one would otherwise go unseen.
//! - Otherwise every server's file is `stat`ed, and only the files whose stamp changed are
//!   read again (opened, checked and parsed exactly as the token path does).
//!
//! The summary is written by the readers that found it stale, by atomic rename and without
//! fsync: a kill or crash leaves the old summary (its stamps no longer match: stale, and
//! detected), or a torn temporary file (never read; the next write sweeps it). Token writers
//! never wait for it, so `refresh --all` and `serve` do not serialise on one file. What is not
//! seen: a token file rewritten *in place* (inbound never does that; an editor's save by
//! rename is seen) while the directory is unchanged.

use super::atomic::{LockGuard, TEMP_PREFIX, sweep_temp_files};
use super::{MAX_TOKEN_FILE_BYTES, Store, StoreError, read_regular, token_stem};
use crate::model::{Blocker, Flow, RecordedError, Server, TokenFile, TokenSet};
use crate::secret::Secret;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

mod nanos;
mod text;

pub(super) use text::Text;

pub(super) const SUMMARY_FILE: &str = "tokens.cache";
const SUMMARY_LOCK: &str = "tokens.cache.lock";
/// Raised with every change of the format: a cache of another schema is rebuilt, never read.
const SUMMARY_SCHEMA: u32 = 3;
/// 10,000 servers make about 3 MB; a larger file is not ours and is ignored.
const MAX_SUMMARY_BYTES: u64 = 64 << 20;

/// How a file or directory looked: inode, size, mtime, ctime (seconds and nanoseconds), mode
/// and owner. A replaced file has a new inode and ctime; a chmod or chown changes ctime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp(u64, u64, i64, i64, i64, i64, u32, u32);

impl Stamp {
    fn of(m: &fs::Metadata) -> Self {
        Stamp(
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
            m.mode(),
            m.uid(),
        )
    }

    fn changed_at(&self) -> SystemTime {
        let secs = u64::try_from(self.4).unwrap_or(0);
        let nanos = u32::try_from(self.5).unwrap_or(0);
        SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
    }
}

/// What health needs of a token file, without its secrets. Short names and timestamps in
/// nanoseconds: 10,000 of these are parsed on every `list`.
/// Its strings are borrowed from the cache's bytes when read from the cache (see [`Text`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Digest<'a> {
    /// The id the file is bound to, when it is not the file's own name (a copied or
    /// legacy file).
    #[serde(rename = "id", default, borrow, skip_serializing_if = "Option::is_none")]
    server_id: Option<Text<'a>>,
    #[serde(rename = "s", borrow)]
    server: Text<'a>,
    #[serde(rename = "u", borrow)]
    username: Text<'a>,
    #[serde(rename = "t", default, borrow, skip_serializing_if = "Option::is_none")]
    tokens: Option<TokensDigest<'a>>,
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    blocker: Option<Blocker>,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    last_error: Option<RecordedError>,
    #[serde(rename = "f", default, skip_serializing_if = "is_zero")]
    failures: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensDigest<'a> {
    #[serde(rename = "i", with = "nanos")]
    issued_at: Timestamp,
    #[serde(rename = "x", with = "nanos")]
    expires_at: Timestamp,
    #[serde(rename = "r", with = "nanos")]
    refreshed_at: Timestamp,
    #[serde(rename = "c", with = "nanos")]
    consented_at: Timestamp,
    #[serde(rename = "h")]
    has_refresh: bool,
    #[serde(
        rename = "a",
        default,
        borrow,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text::clean_option::deserialize"
    )]
    account: Option<Text<'a>>,
    #[serde(rename = "fl", default, skip_serializing_if = "is_default")]
    flow: Flow,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_default(flow: &Flow) -> bool {
    *flow == Flow::default()
}

impl Digest<'_> {
    /// The digest of `file`, read from `<stem>.json`.
    fn of(file: &TokenFile, stem: &str) -> Self {
        Self {
            server_id: (file.server_id != stem).then(|| Text::owned(file.server_id.clone())),
            server: Text::owned(file.server.clone()),
            username: Text::owned(file.username.clone()),
            tokens: file.tokens.as_ref().map(|t| TokensDigest {
                issued_at: t.issued_at,
                expires_at: t.expires_at,
                refreshed_at: t.refreshed_at,
                consented_at: t.consented_at,
                has_refresh: t.refresh_token.is_some(),
                account: t.account.clone().map(Text::owned),
                flow: t.flow,
            }),
            blocker: file.blocker,
            last_error: file.last_error.clone(),
            failures: file.failures,
        }
    }

    /// [`Digest::into_file`] of a copy (the tests' reference).
    #[cfg(test)]
    fn to_file(&self) -> TokenFile {
        self.clone().into_file()
    }

    /// The token file as health reads it. The secrets are blank (a refresh token's presence is
    /// kept) and the scope is left out: never hand these out as tokens. The binding (server id,
    /// server name, mailbox) is left blank too: it was checked against the server the file is
    /// served to ([`served`]) and health never reads it, and at 10,000 servers copying its
    /// three strings out of the cache was 30,000 allocations on the thread every command
    /// waits for.
    fn into_file(self) -> TokenFile {
        TokenFile {
            schema: crate::model::TOKENS_SCHEMA,
            server_id: String::new(),
            server: String::new(),
            username: String::new(),
            tokens: self.tokens.map(|t| TokenSet {
                access_token: Secret::new(""),
                refresh_token: t.has_refresh.then(|| Secret::new("")),
                issued_at: t.issued_at,
                expires_at: t.expires_at,
                refreshed_at: t.refreshed_at,
                consented_at: t.consented_at,
                scope: String::new(),
                account: t.account.map(Text::into_string),
                flow: t.flow,
                principal_id: None,
            }),
            blocker: self.blocker,
            last_error: self.last_error,
            failures: self.failures,
        }
    }
}

/// One server's token file as last seen: absent (no stamp), or its stamp and digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry<'a> {
    #[serde(rename = "st", default, skip_serializing_if = "Option::is_none")]
    stamp: Option<Stamp>,
    #[serde(rename = "d", default, borrow, skip_serializing_if = "Option::is_none")]
    digest: Option<Digest<'a>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary<'a> {
    schema: u32,
    /// `tokens/` when every entry was checked, if it had settled by then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dir: Option<Stamp>,
    /// `[stem, entry]` pairs (the stem is the server's id), written in the order of the
    /// configuration's servers. Read in that order, each server's entry is the one at its own
    /// index: no map is built and no stem hashed. In any other order (a configuration
    /// reordered since, or a cache written before this order), a map finds them.
    #[serde(borrow)]
    entries: Vec<(Text<'a>, Entry<'a>)>,
}

/// Indices of the entries by stem, hashed with foldhash rather than SipHash. SipHash's defence
/// against chosen colliding keys is not needed here: the keys are the ids of the servers of the
/// user's own store, in a file only its owner can write, never text from the network.
type Index<'s> = HashMap<&'s str, usize, foldhash::fast::FixedState>;

/// Each stem's last entry, as a map of the file's pairs would keep it.
fn index<'s>(entries: &'s [(Text<'_>, Entry<'_>)]) -> Index<'s> {
    let mut index = Index::with_capacity_and_hasher(entries.len(), Default::default());
    index.extend(entries.iter().enumerate().map(|(i, (stem, _))| (&**stem, i)));
    index
}

/// The summary as read ahead of the configuration ([`Store::read_token_cache`]), to be
/// checked against the servers and the token files by [`Store::token_health_files_from`].
/// Its strings are borrowed from the file's bytes.
#[derive(Debug, Default)]
pub struct TokenCache<'a> {
    summary: Option<Summary<'a>>,
    /// The servers' indices in name order, when they were sorted while the summary was
    /// parsed ([`TokenCache::set_name_order`]); checked before use.
    name_order: Vec<usize>,
}

impl TokenCache<'_> {
    /// The order of the servers whose token files this summary will be asked for, sorted
    /// ahead of [`Store::token_health_files_from`] (by a thread that waits for the summary's
    /// parse meanwhile).
    pub fn set_name_order(&mut self, order: NameOrder) {
        self.name_order = order.0;
    }
}

/// Servers' indices in name order, sorted ahead ([`TokenCache::set_name_order`]).
#[derive(Debug, Default)]
pub struct NameOrder(Vec<usize>);

impl NameOrder {
    pub fn of(servers: &[Server]) -> Self {
        NameOrder(name_order(servers))
    }
}

/// The summary's file as read, not parsed yet.
#[derive(Debug, Default)]
pub struct TokenCacheBytes(Option<Vec<u8>>);

impl TokenCacheBytes {
    /// Whether parsing this is worth a thread of its own: about 2,000 servers and more (the
    /// summary of 10,000 is about 3 MB). Smaller stores are not worth a thread's start.
    pub fn is_large(&self) -> bool {
        self.0.as_ref().is_some_and(|b| b.len() >= 600 << 10)
    }

    /// The summary, if it is a usable one: damaged, foreign or of another schema is a summary
    /// to rebuild, never an error.
    pub fn parse(&self) -> TokenCache<'_> {
        TokenCache {
            summary: self
                .0
                .as_ref()
                .and_then(|bytes| serde_json::from_slice::<Summary>(bytes).ok())
                .filter(|s| s.schema == SUMMARY_SCHEMA),
            name_order: Vec::new(),
        }
    }
}

/// How the token files were learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// From the summary alone: the directory had not changed.
    Summary,
    /// Each file was `stat`ed; this many were read.
    Checked { read: usize },
}

/// How long before a build the token directory must have last changed for its stamp to vouch
/// for the build. File times come from the kernel's coarse clock (one tick, at most 10 ms
/// behind): two ticks and some are plenty where times have nanoseconds. A file system with
/// whole-second times (nanoseconds all zero) gets three seconds.
fn settle_time(dir: &Stamp) -> Duration {
    if dir.3 == 0 && dir.5 == 0 {
        Duration::from_secs(3)
    } else {
        Duration::from_millis(50)
    }
}

impl Store {
    fn summary_path(&self) -> std::path::PathBuf {
        self.dir.join(SUMMARY_FILE)
    }

    /// The token files of `servers` as `list`, `show` and `check` judge health from them, by
    /// server name, read through the summary (see the module's notes). Secrets are blank:
    /// these are never tokens to hand out; so is each file's binding to its server (id, name,
    /// mailbox), checked here. A file that cannot be read is the same error as when `token`
    /// reads it.
    pub fn token_health_files(&self, servers: &[Server]) -> Result<BTreeMap<String, TokenFile>, StoreError> {
        self.token_health_files_from(servers, &mut self.read_token_cache().parse())
    }

    /// As [`Store::token_health_files`], from a summary read before (while the configuration
    /// was read on another thread). Only its stamps are trusted, checked here, so when it was
    /// read does not matter. The token files served are taken out of `cache`; what is left
    /// is the caller's to free (or, in a command about to exit, to leave to the exit: at
    /// 10,000 servers, unmapping its pages was milliseconds).
    pub fn token_health_files_from(
        &self,
        servers: &[Server],
        cache: &mut TokenCache<'_>,
    ) -> Result<BTreeMap<String, TokenFile>, StoreError> {
        let order = std::mem::take(&mut cache.name_order);
        self.health_files(servers, None, cache.summary.as_mut(), order)
            .map(|(files, _)| files)
    }

    /// The summary's bytes, unparsed (parsing is most of its cost, and can run beside the
    /// configuration's). Any problem reading it is a summary to rebuild, never an error.
    pub fn read_token_cache(&self) -> TokenCacheBytes {
        let path = self.summary_path();
        let bytes = read_regular(&path, MAX_SUMMARY_BYTES, |meta| {
            self.check_owner_mode(&path, meta, false)
        });
        TokenCacheBytes(bytes.ok().flatten())
    }

    /// As [`Store::token_health_files`], saying how; `settle` replaces [`settle_time`].
    #[cfg(test)]
    pub(crate) fn token_health_files_with(
        &self,
        servers: &[Server],
        settle: Option<Duration>,
    ) -> Result<(BTreeMap<String, TokenFile>, Source), StoreError> {
        let bytes = self.read_token_cache();
        self.health_files(servers, settle, bytes.parse().summary.as_mut(), Vec::new())
    }

    fn health_files(
        &self,
        servers: &[Server],
        settle: Option<Duration>,
        mut cached: Option<&mut Summary<'_>>,
        name_order: Vec<usize>,
    ) -> Result<(BTreeMap<String, TokenFile>, Source), StoreError> {
        let started = SystemTime::now();
        let tokens_dir = self.tokens_dir();
        let dir = match fs::metadata(&tokens_dir) {
            Ok(m) => Stamp::of(&m),
            // No token directory yet: no tokens.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((BTreeMap::new(), Source::Checked { read: 0 }));
            }
            Err(e) => return Err(StoreError::io(&tokens_dir, e)),
        };
        let stems: Vec<Cow<str>> = servers.iter().map(stem_of).collect();
        let order = if in_name_order(servers, &name_order) {
            name_order
        } else {
            self::name_order(servers)
        };
        if let Some(c) = cached.as_mut().filter(|c| c.dir == Some(dir)) {
            let aligned = c.entries.len() == stems.len()
                && c.entries.iter().zip(&stems).all(|((stem, _), s)| **stem == **s);
            if aligned {
                return Ok((
                    resolve_from(servers, &stems, &order, &mut c.entries, None),
                    Source::Summary,
                ));
            }
            let found = index(&c.entries);
            if stems.iter().all(|s| found.contains_key(&**s)) {
                // The indices, not the map: the map borrows the entries the digests move from.
                let at: Vec<usize> = stems.iter().map(|s| found[&**s]).collect();
                drop(found);
                return Ok((
                    resolve_from(servers, &stems, &order, &mut c.entries, Some(&at)),
                    Source::Summary,
                ));
            }
        }

        let known = cached.as_ref().map(|c| index(&c.entries)).unwrap_or_default();
        let mut entries: Vec<(Text, Entry)> = Vec::with_capacity(stems.len());
        let mut seen = HashSet::with_capacity_and_hasher(stems.len(), foldhash::fast::FixedState::default());
        let mut read = 0;
        for stem in &stems {
            let stem = &**stem;
            if !seen.insert(stem) {
                continue;
            }
            let path = tokens_dir.join(format!("{stem}.json"));
            let stamp = match fs::metadata(&path) {
                Ok(m) => Some(Stamp::of(&m)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(StoreError::io(&path, e)),
            };
            let old = cached
                .as_ref()
                .zip(known.get(stem))
                .map(|(c, &i)| &c.entries[i].1)
                .filter(|e| e.stamp == stamp);
            let entry = match (old, stamp) {
                (Some(e), _) => e.clone(),
                (None, None) => Entry {
                    stamp: None,
                    digest: None,
                },
                (None, Some(_)) => {
                    read += 1;
                    self.read_token_entry(&path, stem)?
                }
            };
            entries.push((Text(Cow::Borrowed(stem)), entry));
        }
        drop(known);
        // A copy: the summary written below keeps every digest. Each server's entry is found
        // by its stem (two servers may share a stem: the entry is then listed once).
        let mut copy = entries.clone();
        let at: Vec<usize> = {
            let found = index(&copy);
            stems.iter().map(|s| found[&**s]).collect()
        };
        let files = resolve_from(servers, &stems, &order, &mut copy, Some(&at));

        let now_dir = fs::metadata(&tokens_dir).ok().map(|m| Stamp::of(&m));
        let settle = settle.unwrap_or_else(|| settle_time(&dir));
        let settled = now_dir == Some(dir)
            && started
                .checked_sub(settle)
                .is_some_and(|limit| dir.changed_at() < limit);
        let summary = Summary {
            schema: SUMMARY_SCHEMA,
            dir: settled.then_some(dir),
            entries,
        };
        if cached.as_deref() != Some(&summary) && dir.7 == super::euid() {
            self.write_summary(&summary);
        }
        Ok((files, Source::Checked { read }))
    }

    /// Reads one token file as the token path does (regular, ours, private, bounded, parsed),
    /// with the stamp of the very file read.
    fn read_token_entry(&self, path: &Path, stem: &str) -> Result<Entry<'static>, StoreError> {
        let mut stamp = None;
        let bytes = read_regular(path, MAX_TOKEN_FILE_BYTES, |meta| {
            stamp = Some(Stamp::of(meta));
            self.check_owner_mode(path, meta, false)
        })?;
        let Some(bytes) = bytes else {
            return Ok(Entry {
                stamp: None,
                digest: None,
            });
        };
        let file = super::parse_token_file(path, &bytes)?;
        Ok(Entry {
            stamp,
            digest: Some(Digest::of(&file, stem)),
        })
    }

    /// Replaces the summary, best effort: skipped when another process is writing it or the
    /// store cannot be written. No fsync: see the module's notes.
    fn write_summary(&self, summary: &Summary<'_>) {
        let Ok(Some(_lock)) = LockGuard::try_exclusive(&self.dir.join(SUMMARY_LOCK)) else {
            return;
        };
        sweep_temp_files(&self.dir, SUMMARY_FILE);
        let Ok(bytes) = serde_json::to_vec(summary) else {
            return;
        };
        let written = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{SUMMARY_FILE}."))
            .tempfile_in(&self.dir)
            .and_then(|mut tmp| {
                tmp.write_all(&bytes)?;
                tmp.persist(self.summary_path()).map_err(|e| e.error)
            });
        if let Err(e) = written {
            tracing::debug!("token summary not written: {e}");
        }
    }

    /// Removes temporary files of a summary write that was killed; for the store's writes.
    pub(super) fn sweep_summary_temps(&self) {
        if let Ok(Some(_lock)) = LockGuard::try_exclusive(&self.dir.join(SUMMARY_LOCK)) {
            sweep_temp_files(&self.dir, SUMMARY_FILE);
        }
    }
}

/// The files the servers may use, by server name: each bound to its server and mailbox as
/// [`Store::read_tokens`] requires. Server `i`'s entry is `entries[at[i]]`, or `entries[i]`
/// when `at` is `None` (the entries in the servers' order). Each served digest is moved out of
/// `entries`, not copied. A digest serves at most one server (its id, or before ids its
/// server's unique name, must match), so moving it out cannot take it from another server.
/// `order` is the servers' indices in name order ([`name_order`]): the map is built from a
/// list made in that order, without sorting (and moving) the token files themselves.
fn resolve_from(
    servers: &[Server],
    stems: &[Cow<str>],
    order: &[usize],
    entries: &mut [(Text<'_>, Entry<'_>)],
    at: Option<&[usize]>,
) -> BTreeMap<String, TokenFile> {
    let mut files = Vec::with_capacity(servers.len());
    for &i in order {
        let (server, stem) = (&servers[i], &*stems[i]);
        let digest = &mut entries[at.map_or(i, |at| at[i])].1.digest;
        if digest.as_ref().is_some_and(|d| served(d, server, stem))
            && let Some(d) = digest.take()
        {
            files.push((server.name.clone(), d.into_file()));
        }
    }
    files.into_iter().collect()
}

/// The servers' indices sorted by name; stable, as a map's own sort is. Each index carries
/// its name's key, so that most comparisons are of two numbers rather than calls to compare
/// two strings (at 10,000 servers, 130,000 of them).
fn name_order(servers: &[Server]) -> Vec<usize> {
    let mut keyed: Vec<(u128, usize)> = servers
        .iter()
        .enumerate()
        .map(|(i, s)| (name_key(&s.name), i))
        .collect();
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| servers[a.1].name.cmp(&servers[b.1].name))
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Whether `order` is what [`name_order`] makes of `servers` (a sort made ahead, for these
/// very servers): each index once, by name, and equal names by index.
fn in_name_order(servers: &[Server], order: &[usize]) -> bool {
    let mut seen = vec![false; servers.len()];
    order.len() == servers.len()
        && order
            .iter()
            .all(|&i| i < seen.len() && !std::mem::replace(&mut seen[i], true))
        && order.windows(2).all(|w| {
            let (a, b) = (&servers[w[0]].name, &servers[w[1]].name);
            match name_key(a).cmp(&name_key(b)) {
                std::cmp::Ordering::Equal => (a, w[0]) < (b, w[1]),
                by_key => by_key.is_lt(),
            }
        })
}

/// The first 16 bytes of `name`, zero-padded, as a number. Two names' keys are ordered as the
/// names are, or equal (names alike in their first 16 bytes, or one a prefix of the other with
/// only zero bytes after it): then the names themselves are compared.
fn name_key(name: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = name.len().min(16);
    bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

/// Whether the digest of `stem`'s file serves `server`.
fn served(d: &Digest<'_>, server: &Server, stem: &str) -> bool {
    let server_id = d.server_id.as_deref().unwrap_or(stem);
    super::serves(server_id, &d.server, &d.username, server)
}

/// The stem of `server`'s token file, borrowed when it is the server's id (nearly always).
fn stem_of(server: &Server) -> Cow<'_, str> {
    if server.id.is_empty() {
        Cow::Owned(token_stem(server))
    } else {
        Cow::Borrowed(&server.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuthKind;

    fn server(name: &str) -> Server {
        Server::for_tests(name, AuthKind::OAuth2)
    }

    fn tokens(expires_in: i64) -> TokenSet {
        let now = Timestamp::now();
        TokenSet {
            access_token: Secret::new("access-secret"),
            refresh_token: Some(Secret::new("refresh-secret")),
            issued_at: now,
            expires_at: now + jiff::SignedDuration::from_secs(expires_in),
            refreshed_at: now,
            consented_at: now,
            scope: "s".into(),
            account: Some("u@example.com".into()),
            flow: Flow::AuthorizationCode,
            principal_id: None,
        }
    }

    fn store_with(names: &[&str]) -> (tempfile::TempDir, Store, Vec<Server>) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let servers: Vec<Server> = names.iter().map(|n| server(n)).collect();
        store
            .update(|c| {
                c.servers.extend(servers.iter().cloned());
                Ok::<_, StoreError>(())
            })
            .unwrap();
        for s in &servers {
            store
                .update_tokens(s, |f| {
                    f.tokens = Some(tokens(3600));
                    Ok::<_, StoreError>(())
                })
                .unwrap();
        }
        (tmp, store, servers)
    }

    /// What health reads straight from every token file (the reference).
    fn truth(store: &Store, servers: &[Server]) -> BTreeMap<String, TokenFile> {
        servers
            .iter()
            .filter_map(|s| Some((s, store.load_tokens(s).unwrap()?)))
            .map(|(s, f)| (s.name.clone(), Digest::of(&f, &s.id).to_file()))
            .collect()
    }

    const NOW: Option<Duration> = Some(Duration::ZERO);

    #[test]
    fn a_settled_directory_is_vouched_for_by_one_stat_and_any_change_is_seen() {
        let (_tmp, store, servers) = store_with(&["A", "B", "C"]);
        let (first, how) = store.token_health_files_with(&servers, NOW).unwrap();
        assert_eq!(how, Source::Checked { read: 3 });
        assert_eq!(first, truth(&store, &servers));
        let (again, how) = store.token_health_files_with(&servers, NOW).unwrap();
        assert_eq!((again, how), (first, Source::Summary));

        // A refresh (what `token` and `serve` write) makes it stale: one file is read again.
        store
            .update_tokens(&servers[1], |f| {
                f.blocker = Some(Blocker::NeedsReconsent);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let (files, how) = store.token_health_files_with(&servers, NOW).unwrap();
        assert_eq!(how, Source::Checked { read: 1 });
        assert_eq!(files["B"].blocker, Some(Blocker::NeedsReconsent));
        assert_eq!(files, truth(&store, &servers));

        // A removal too.
        store.remove_tokens(&servers[0]).unwrap();
        let (files, how) = store.token_health_files_with(&servers, NOW).unwrap();
        assert_eq!(how, Source::Checked { read: 0 });
        assert!(!files.contains_key("A"));
        assert_eq!(files, truth(&store, &servers));
    }

    #[test]
    fn entries_in_another_order_than_the_servers_are_found_by_stem() {
        let (_tmp, store, servers) = store_with(&["A", "B", "C"]);
        let (first, _) = store.token_health_files_with(&servers, NOW).unwrap();
        // Written in the servers' order: each entry is at its server's index.
        let mut summary: serde_json::Value =
            serde_json::from_slice(&fs::read(store.summary_path()).unwrap()).unwrap();
        let stems: Vec<&str> = summary["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[0].as_str().unwrap())
            .collect();
        assert_eq!(stems, servers.iter().map(|s| s.id.as_str()).collect::<Vec<_>>());
        // Another order (an older cache, or servers reordered since): found by stem.
        summary["entries"].as_array_mut().unwrap().reverse();
        atomic_write(&store.summary_path(), &serde_json::to_vec(&summary).unwrap());
        let (files, how) = store.token_health_files_with(&servers, NOW).unwrap();
        assert_eq!((&files, how), (&first, Source::Summary));
        let mut reordered = servers.clone();
        reordered.swap(0, 2);
        let (files, how) = store.token_health_files_with(&reordered, NOW).unwrap();
        assert_eq!((&files, how), (&first, Source::Summary));
        assert_eq!(files, truth(&store, &servers));
    }

    #[test]
    fn no_secret_reaches_the_summary_and_health_sees_the_same() {
        let (_tmp, store, servers) = store_with(&["A"]);
        let (files, _) = store.token_health_files_with(&servers, NOW).unwrap();
        let text = fs::read_to_string(store.summary_path()).unwrap();
        assert!(!text.contains("secret"), "{text}");
        let real = store.load_tokens(&servers[0]).unwrap().unwrap();
        let now = Timestamp::now();
        let health = |f: &TokenFile| crate::model::health::assess(&servers[0], None, Some(f), now);
        assert_eq!(
            serde_json::to_string(&health(&files["A"])).unwrap(),
            serde_json::to_string(&health(&real)).unwrap()
        );
        assert_eq!(fs::metadata(store.summary_path()).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_directory_that_changed_just_now_is_not_vouched_for() {
        let (_tmp, store, servers) = store_with(&["A", "B"]);
        let hour = Some(Duration::from_secs(3600));
        for _ in 0..2 {
            let (files, how) = store.token_health_files_with(&servers, hour).unwrap();
            assert!(matches!(how, Source::Checked { .. }), "{how:?}");
            assert_eq!(files, truth(&store, &servers));
        }
    }

    #[test]
    fn a_torn_or_foreign_summary_and_a_killed_write_are_rebuilt_and_swept() {
        let (_tmp, store, servers) = store_with(&["A", "B"]);
        store.token_health_files_with(&servers, NOW).unwrap();
        let full = fs::read(store.summary_path()).unwrap();
        // A kill mid-write leaves a temporary file; a crash could leave a torn summary.
        let temp = store.dir().join(format!("{TEMP_PREFIX}{SUMMARY_FILE}.k1ll3d"));
        fs::write(&temp, &full[..full.len() / 2]).unwrap();
        // A cache of another layout (a key renamed) is rebuilt, never read with defaults.
        let renamed = String::from_utf8(full.clone())
            .unwrap()
            .replace("\"st\":", "\"stamp\":");
        for broken in [
            &full[..full.len() / 2],
            &b""[..],
            &b"{\"schema\": 99, \"entries\": {}}"[..],
            renamed.as_bytes(),
        ] {
            atomic_write(&store.summary_path(), broken);
            let (files, how) = store.token_health_files_with(&servers, NOW).unwrap();
            assert_eq!(how, Source::Checked { read: 2 });
            assert_eq!(files, truth(&store, &servers));
        }
        assert!(
            !temp.exists(),
            "the next summary write sweeps a killed one's temp file"
        );

        // A summary that lies about a file whose stamp changed is not believed.
        let lie = fs::read_to_string(store.summary_path())
            .unwrap()
            .replace("\"h\":true", "\"h\":false");
        fs::write(store.summary_path(), lie).unwrap();
        store
            .update_tokens(&servers[0], |f| {
                f.failures = 7;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let (files, _) = store.token_health_files_with(&servers, NOW).unwrap();
        assert_eq!(files["A"].failures, 7);
        assert!(files["A"].tokens.as_ref().unwrap().refresh_token.is_some());

        // A store write also sweeps a killed summary write's temp file.
        fs::write(&temp, b"{").unwrap();
        store
            .update(|c| {
                c.settings.listen_port = Some(9000);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert!(!temp.exists());
    }

    #[test]
    fn tokens_of_another_server_or_mailbox_are_not_shown() {
        let (_tmp, store, mut servers) = store_with(&["A", "B"]);
        // B now names another mailbox; a copy of A's file is planted under C's id.
        servers[1].username = "other@example.com".into();
        let c = server("C");
        fs::copy(store.tokens_path(&servers[0]), store.tokens_path(&c)).unwrap();
        servers.push(c);
        for _ in 0..2 {
            let (files, _) = store.token_health_files_with(&servers, NOW).unwrap();
            assert_eq!(files.keys().collect::<Vec<_>>(), vec!["A"]);
        }
    }

    #[test]
    fn a_damaged_token_file_is_the_same_error_as_for_token() {
        let (_tmp, store, servers) = store_with(&["A"]);
        store.token_health_files_with(&servers, NOW).unwrap();
        atomic_write(&store.tokens_path(&servers[0]), b"{\"schema\": 1, oops");
        let err = store.token_health_files_with(&servers, NOW).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        assert!(matches!(
            store.load_tokens(&servers[0]).unwrap_err(),
            StoreError::Corrupt { .. }
        ));
    }

    #[test]
    fn name_keys_never_order_names_otherwise_than_the_names() {
        let names = [
            "",
            "a",
            "a\0",
            "a\0b",
            "ab",
            "server-10",
            "server-9",
            "0123456789abcdef",
            "0123456789abcdef0",
            "0123456789abcdeF1",
            "Zürich",
            "Zz",
            "日本",
        ];
        for a in names {
            for b in names {
                let (ka, kb) = (name_key(a), name_key(b));
                assert!(ka == kb || ka.cmp(&kb) == a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn a_name_order_sorted_ahead_is_used_only_when_it_is_these_servers_order() {
        let (_tmp, store, servers) = store_with(&["b", "a", "c", "a2"]);
        let order = name_order(&servers);
        assert_eq!(order, vec![1, 3, 0, 2]);
        assert!(in_name_order(&servers, &order));
        for wrong in [
            vec![1, 3, 2, 0],
            vec![1, 3, 0],
            vec![1, 1, 0, 2],
            vec![1, 3, 0, 9],
            vec![],
        ] {
            assert!(!in_name_order(&servers, &wrong), "{wrong:?}");
        }
        let truth = truth(&store, &servers);
        store.token_health_files_with(&servers, NOW).unwrap();
        // Sorted ahead, for these servers or for others: the same files either way.
        for ahead in [
            NameOrder::of(&servers),
            NameOrder::of(&servers[1..]),
            NameOrder(vec![0, 1, 2, 3]),
        ] {
            let bytes = store.read_token_cache();
            let mut cache = bytes.parse();
            cache.set_name_order(ahead);
            assert_eq!(
                store.token_health_files_from(&servers, &mut cache).unwrap(),
                truth
            );
        }
    }

    fn atomic_write(path: &Path, bytes: &[u8]) {
        super::super::atomic::write_atomic(path, bytes).unwrap();
    }
}
