//! One server out of `config.json` without building every server: for `inbound token`, which
//! mail programs run on every connection. A store of 1,000 servers spent most of that
//! command's time building 999 servers it never looked at.
//!
//! One pass over the text builds the settings and the apps and keeps each server as its raw
//! JSON (checked as JSON, nothing built). Each server's name and id are then read from the
//! start of its own text, where the store writes them (so an ambiguous store is seen), and only
//! the named server is built. Anything unusual (an unknown schema, two servers or apps of one
//! name, two servers of one id, a server without a name, text that does not parse) gives
//! `None`, and the caller reads the whole file, which reports it exactly as before.

use super::summary::Text;
use super::{MAX_CONFIG_BYTES, Store, StoreError};
use crate::model::{AzureApp, CONFIG_SCHEMA, Config, Server, Settings};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// The configuration with every server left as its text.
#[derive(Deserialize)]
struct Outline<'a> {
    schema: u32,
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    apps: Vec<AzureApp>,
    #[serde(default, borrow)]
    servers: Vec<&'a RawValue>,
}

impl Store {
    /// The configuration narrowed to the server named `name` (settings and apps whole), or
    /// `None` when that cannot be vouched for cheaply: then read it all with [`Store::load`].
    /// Errors are those of reading the file (its owner, mode, kind or size).
    pub fn load_one(&self, name: &str) -> Result<Option<Config>, StoreError> {
        let path = self.config_path();
        let Some(bytes) = self.read_bytes(&path, MAX_CONFIG_BYTES)? else {
            return Ok(None);
        };
        let Some(mut config) = narrow(&bytes, name) else {
            return Ok(None);
        };
        self.locate_certificates(&mut config);
        Ok(Some(config))
    }
}

fn narrow(bytes: &[u8], name: &str) -> Option<Config> {
    let outline: Outline = serde_json::from_slice(bytes).ok()?;
    if outline.schema != CONFIG_SCHEMA {
        return None;
    }
    let idents = outline
        .servers
        .iter()
        .map(|raw| ident(raw))
        .collect::<Option<Vec<_>>>()?;
    let mut names = HashSet::with_capacity_and_hasher(idents.len(), foldhash::fast::FixedState::default());
    let mut ids = HashSet::with_capacity_and_hasher(idents.len(), foldhash::fast::FixedState::default());
    let mut index = None;
    for (i, (id, server_name)) in idents.iter().enumerate() {
        let unique_id = id.is_empty() || ids.insert(&**id);
        if !names.insert(&**server_name) || !unique_id {
            return None;
        }
        if server_name == name {
            index = Some(i);
        }
    }
    let server: Server = serde_json::from_str(outline.servers[index?].get()).ok()?;
    let mut app_names =
        HashSet::with_capacity_and_hasher(outline.apps.len(), foldhash::fast::FixedState::default());
    if !outline.apps.iter().all(|a| app_names.insert(a.name.as_str())) || server.name != name {
        return None;
    }
    Some(Config {
        schema: outline.schema,
        settings: outline.settings,
        apps: outline.apps,
        servers: vec![server],
        // Certificates waiting to be proven are not needed to serve one server's token.
        pending_certificates: Vec::new(),
    })
}

/// A server's id (empty when it has none) and name, read from its text only as far as both:
/// the store writes them first, so the rest of each server (already checked as JSON) is not
/// read again. `None`: no name, or something that is not a server.
fn ident(raw: &RawValue) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    let mut found = (None, None);
    let mut de = serde_json::Deserializer::from_str(raw.get());
    // Stopping early leaves the object unfinished, which serde_json reports as an error: what
    // was found before it is what counts.
    let _ = (&mut de).deserialize_map(Ident { found: &mut found });
    let (id, name) = found;
    Some((id.unwrap_or_default(), name?))
}

/// Reads keys until both `id` and `name` are found, storing them in `found` as it goes.
struct Ident<'f, 'de> {
    found: &'f mut (Option<Cow<'de, str>>, Option<Cow<'de, str>>),
}

impl<'de> Visitor<'de> for Ident<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a server object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            let slot = match &*key {
                "id" => &mut self.found.0,
                "name" => &mut self.found.1,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if slot.is_some() {
                // A key twice: the full read says what is wrong.
                *self.found = (None, None);
                return Ok(());
            }
            *slot = Some(map.next_value::<Text<'de>>()?.0);
            if self.found.0.is_some() && self.found.1.is_some() {
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuthKind;

    fn server(name: &str) -> Server {
        Server::for_tests(name, AuthKind::OAuth2)
    }

    fn text(config: &Config) -> Vec<u8> {
        serde_json::to_vec_pretty(config).unwrap()
    }

    fn config(names: &[&str]) -> Config {
        let mut c = Config {
            servers: names.iter().map(|n| server(n)).collect(),
            ..Config::default()
        };
        c.settings.listen_port = Some(9999);
        c
    }

    #[test]
    fn the_named_server_with_settings_and_apps_as_a_full_read_gives_them() {
        let full = config(&["A", "B \"quoted\" \\ é", "C"]);
        for s in &full.servers {
            let one = narrow(&text(&full), &s.name).unwrap();
            assert_eq!(one.servers, vec![s.clone()]);
            assert_eq!(
                (one.settings, one.apps),
                (full.settings.clone(), full.apps.clone())
            );
        }
        assert!(narrow(&text(&full), "D").is_none());
        // Escapes a hand edit may use are read as JSON means them.
        let escaped = String::from_utf8(text(&full))
            .unwrap()
            .replace("\"A\"", "\"\\u0041\"");
        assert_eq!(narrow(escaped.as_bytes(), "A").unwrap().servers[0].name, "A");
    }

    #[test]
    fn anything_ambiguous_or_unknown_is_left_to_the_full_read() {
        let mut dup = config(&["A", "B"]);
        dup.servers[1].name = "A".into();
        assert!(narrow(&text(&dup), "A").is_none(), "two servers named A");
        assert!(narrow(&text(&dup), "B").is_none(), "the store is ambiguous");
        let mut same_id = config(&["A", "B"]);
        same_id.servers[1].id = same_id.servers[0].id.clone();
        assert!(narrow(&text(&same_id), "A").is_none(), "two servers of one id");
        let mut newer = config(&["A"]);
        newer.schema = 99;
        assert!(narrow(&text(&newer), "A").is_none());
        let damaged = text(&config(&["A"]));
        assert!(narrow(&damaged[..damaged.len() - 3], "A").is_none());
        assert!(narrow(b"{}", "A").is_none());
    }

    #[test]
    fn the_store_reads_one_server_and_falls_back_when_absent() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        assert!(store.load_one("A").unwrap().is_none(), "no config.json yet");
        let full = config(&["A", "B"]);
        store
            .update(|c| {
                *c = full.clone();
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let loaded = store.load().unwrap();
        let one = store.load_one("B").unwrap().unwrap();
        assert_eq!(one.servers, vec![loaded.servers[1].clone()]);
    }

    #[test]
    fn names_and_ids_are_found_in_any_order_of_keys() {
        let full = config(&["A", "B"]);
        let mut text = serde_json::to_value(&full).unwrap();
        // A hand edit (or another tool) may order the keys otherwise: here alphabetically,
        // other keys before the id and the name.
        let bytes = serde_json::to_vec(&text).unwrap();
        assert_eq!(
            narrow(&bytes, "B").unwrap().servers,
            vec![full.servers[1].clone()]
        );
        let ids: Vec<_> = full.servers.iter().map(|s| s.id.clone()).collect();
        text["servers"][1]["id"] = ids[0].clone().into();
        assert!(
            narrow(&serde_json::to_vec(&text).unwrap(), "A").is_none(),
            "one id twice"
        );
        let twice =
            String::from_utf8(bytes)
                .unwrap()
                .replacen("\"name\":\"B\"", "\"name\":\"B\",\"name\":\"C\"", 1);
        assert!(
            narrow(twice.as_bytes(), "B").is_none(),
            "a key twice in the server asked for"
        );
    }
}
