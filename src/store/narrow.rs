//! One server out of `config.json` without building every server: for `inbound token`, which
//! mail programs run on every connection. A store of 1,000 servers spent most of that
//! command's time building 999 servers it never looked at.
//!
//! Two passes over the text, neither of which allocates per server: the first borrows every
//! server's name and id (so an ambiguous store is seen), the second builds the settings, the
//! apps and the one server. Anything unusual (an unknown schema, two servers or apps of one
//! name, two servers of one id, text that does not parse) gives `None`, and the caller reads
//! the whole file, which reports it exactly as before.

use super::{MAX_CONFIG_BYTES, Store, StoreError};
use crate::model::{AzureApp, CONFIG_SCHEMA, Config, Server, Settings};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// Every server's name and id, borrowed from the text where it has no escapes.
#[derive(Deserialize)]
struct Outline<'a> {
    schema: u32,
    #[serde(default, borrow)]
    servers: Vec<Ident<'a>>,
}

#[derive(Deserialize)]
struct Ident<'a> {
    #[serde(default, borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
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
    let mut names = HashSet::with_capacity(outline.servers.len());
    let mut ids = HashSet::with_capacity(outline.servers.len());
    let mut index = None;
    for (i, s) in outline.servers.iter().enumerate() {
        let unique_id = s.id.is_empty() || ids.insert(&*s.id);
        if !names.insert(&*s.name) || !unique_id {
            return None;
        }
        if s.name == name {
            index = Some(i);
        }
    }
    let index = index?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let (settings, apps, server) = Narrow { index }.deserialize(&mut de).ok()?;
    let mut app_names = HashSet::with_capacity(apps.len());
    if !apps.iter().all(|a| app_names.insert(a.name.as_str())) || server.name != name {
        return None;
    }
    Some(Config {
        schema: outline.schema,
        settings,
        apps,
        servers: vec![server],
        // Certificates waiting to be proven are not needed to serve one server's token.
        pending_certificates: Vec::new(),
    })
}

/// The top-level object with only the server at `index` built.
struct Narrow {
    index: usize,
}

impl<'de> DeserializeSeed<'de> for Narrow {
    type Value = (Settings, Vec<AzureApp>, Server);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Narrow {
    type Value = (Settings, Vec<AzureApp>, Server);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a configuration object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut settings, mut apps, mut server) = (None, None, None);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "settings" => settings = Some(map.next_value()?),
                "apps" => apps = Some(map.next_value()?),
                "servers" => server = map.next_value_seed(Nth { index: self.index })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let server = server.ok_or_else(|| <A::Error as serde::de::Error>::custom("no such server"))?;
        Ok((settings.unwrap_or_default(), apps.unwrap_or_default(), server))
    }
}

/// The element at `index` of the servers array, built; the others only checked as JSON.
struct Nth {
    index: usize,
}

impl<'de> DeserializeSeed<'de> for Nth {
    type Value = Option<Server>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Nth {
    type Value = Option<Server>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of servers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let mut i = 0;
        loop {
            if i == self.index {
                match seq.next_element::<Server>()? {
                    Some(s) => found = Some(s),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(found)
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
}
