//! The servers as `list`, `show` and `check` read them: the core's snapshot, judged as the app
//! judges it.

use crate::cli::output::ServerView;
use crate::model::health;
use crate::ops::Error;
use crate::ops::snapshot::Snapshot;
use crate::store::Store;
use jiff::Timestamp;

/// The servers (all, or those `names` names) as `list`, `show` and `check` print them, read
/// through the core's snapshot (the TUI's read model) so health is judged as the app does.
pub(super) fn views(store: &Store, names: Option<&[String]>) -> Result<Vec<ServerView>, Error> {
    views_of(store, store.load()?, names)
}

/// `list`'s table, the five columns straight from the snapshot (as [`views`] judges health);
/// `None` when there is no server.
pub(super) fn table(store: &Store) -> Result<Option<String>, Error> {
    let snapshot = Snapshot::for_health(store, store.load()?)?;
    if snapshot.config.servers.is_empty() {
        return Ok(None);
    }
    let now = Timestamp::now();
    let rows = snapshot.config.servers.iter().map(|s| crate::cli::output::Row {
        name: &s.name,
        state: s.state.label(),
        health: snapshot.health(s, now),
        username: &s.username,
        host: &s.host,
        port: s.port,
    });
    Ok(Some(crate::cli::output::table(rows, now)))
}

/// As [`views`], from a configuration the caller just read.
fn views_of(
    store: &Store,
    config: crate::model::Config,
    names: Option<&[String]>,
) -> Result<Vec<ServerView>, Error> {
    let snapshot = Snapshot::for_health(store, config)?;
    let now = Timestamp::now();
    Ok(picked(&snapshot.config, names)?
        .map(|s| ServerView::new(&snapshot, s, now))
        .collect())
}

/// The health of the servers (all, or those `names` names) as `check` reports it: the same
/// snapshot and judgement as [`views`], without the rest of each server's view.
pub(super) fn healths_of(
    store: &Store,
    config: crate::model::Config,
    names: Option<&[String]>,
) -> Result<Vec<health::Health>, Error> {
    let snapshot = Snapshot::for_health(store, config)?;
    let now = Timestamp::now();
    Ok(picked(&snapshot.config, names)?
        .map(|s| snapshot.health(s, now))
        .collect())
}

/// The servers `names` names (all when `None`), in the store's order; an unknown name is an
/// error.
fn picked<'a>(
    config: &'a crate::model::Config,
    names: Option<&'a [String]>,
) -> Result<impl Iterator<Item = &'a crate::model::Server>, Error> {
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
        .filter(move |s| names.is_none_or(|n| n.contains(&s.name))))
}
