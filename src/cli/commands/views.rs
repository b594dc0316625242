//! The servers as `list`, `show` and `check` read them: the core's snapshot, judged as the app
//! judges it.

use crate::cli::output::{self, ServerView};
use crate::model::health;
use crate::ops::Error;
use crate::ops::snapshot::Snapshot;
use crate::parallel;
use crate::store::{Store, TokenCache};
use jiff::Timestamp;

/// The servers (all, or those `names` names) as `list`, `show` and `check` print them, read
/// through the core's snapshot (the TUI's read model) so health is judged as the app does.
pub(super) fn views(store: &Store, names: Option<&[String]>) -> Result<Vec<ServerView>, Error> {
    let snapshot = snapshot(store)?;
    let now = Timestamp::now();
    let servers = picked(&snapshot.config, names)?;
    let views = parallel::map(&servers, |s| ServerView::new(&snapshot, s, now));
    drop(servers);
    exiting(snapshot);
    Ok(views)
}

/// `list`'s table, the five columns straight from the snapshot (as [`views`] judges health);
/// `None` when there is no server.
pub(super) fn table(store: &Store) -> Result<Option<String>, Error> {
    let snapshot = snapshot(store)?;
    if snapshot.config.servers.is_empty() {
        return Ok(None);
    }
    let now = Timestamp::now();
    let tz = jiff::tz::TimeZone::system();
    let rows = parallel::map(&snapshot.config.servers, |s| {
        output::row_cells(
            &output::Row {
                name: &s.name,
                state: s.state.label(),
                token: snapshot.token_line(s, now),
                username: &s.username,
                host: &s.host,
                port: s.port,
            },
            now,
            &tz,
        )
    });
    let table = output::table(&rows);
    exiting((snapshot, rows));
    Ok(Some(table))
}

/// The snapshot `list` and `show` print from, read with the token cache beside the
/// configuration. The cache (its bytes and what is left of its parse once the token files
/// are taken out) is left to the process's exit as the snapshot is.
fn snapshot(store: &Store) -> Result<Snapshot, Error> {
    let cache_bytes = store.read_token_cache();
    let (config, mut cache) = store.load_with_token_cache(&cache_bytes)?;
    let snapshot = Snapshot::for_health(store, config, &mut cache)?;
    exiting(cache);
    exiting(cache_bytes);
    Ok(snapshot)
}

/// Leaves `data` to the process's exit instead of freeing it: each of these reads runs once,
/// just before `inbound` exits, and freeing the allocations of 10,000 servers one by one
/// took milliseconds of `list` for nothing.
pub(super) fn exiting<T>(data: T) {
    std::mem::forget(data);
}

/// The health of the servers (all, or those `names` names) as `check` reports it: the same
/// snapshot and judgement as [`views`], without the rest of each server's view.
pub(super) fn healths_of(
    store: &Store,
    config: crate::model::Config,
    cache: &mut TokenCache<'_>,
    names: Option<&[String]>,
) -> Result<Vec<health::Health>, Error> {
    let snapshot = Snapshot::for_health(store, config, cache)?;
    let now = Timestamp::now();
    let servers = picked(&snapshot.config, names)?;
    let healths = parallel::map(&servers, |s| snapshot.health(s, now));
    drop(servers);
    exiting(snapshot);
    Ok(healths)
}

/// The servers `names` names (all when `None`), in the store's order; an unknown name is an
/// error.
fn picked<'a>(
    config: &'a crate::model::Config,
    names: Option<&[String]>,
) -> Result<Vec<&'a crate::model::Server>, Error> {
    if let Some(names) = names
        && let Some(missing) = names.iter().find(|n| config.server(n).is_none())
    {
        return Err(Error::NotFound {
            kind: "server",
            name: missing.clone(),
        });
    }
    Ok(config
        .servers
        .iter()
        .filter(|s| names.is_none_or(|n| n.contains(&s.name)))
        .collect())
}
