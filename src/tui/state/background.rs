//! Tokens of listed OAuth2 servers are refreshed ahead of expiry while the app is open.

use super::cmd::Cmd;
use super::msg::{Failure, RunId};
use super::{Model, Tone};
use crate::model::AuthKind;
use crate::model::health::needs_refresh;

impl Model {
    /// Starts a refresh for every OAuth2 server whose token is due (and not blocked).
    pub(crate) fn schedule_refreshes(&mut self) -> Vec<Cmd> {
        // Nothing is due before the earliest due time: skip the pass over every server.
        if self.derived.earliest_refresh.is_none_or(|t| self.now < t) {
            return Vec::new();
        }
        let due: Vec<String> = self
            .servers()
            .iter()
            .filter(|s| s.auth == AuthKind::OAuth2)
            .filter(|s| !self.refreshing.contains_key(&s.name))
            .filter(|s| {
                self.data.tokens.get(&s.name).is_some_and(|f| {
                    f.blocker.is_none()
                        && crate::ops::tokens::backoff_until(f).is_none_or(|t| t <= self.now)
                        && f.tokens
                            .as_ref()
                            .is_some_and(|t| t.refresh_token.is_some() && needs_refresh(t, self.now))
                })
            })
            .map(|s| s.name.clone())
            .collect();
        due.into_iter()
            .map(|server| {
                let run = self.run_id();
                self.refreshing.insert(server.clone(), run);
                Cmd::Refresh {
                    run,
                    server,
                    force: false,
                }
            })
            .collect()
    }

    pub(crate) fn on_refreshed(&mut self, run: RunId, server: &str, result: Result<(), Failure>) -> Vec<Cmd> {
        if self.refreshing.get(server) != Some(&run) {
            return Vec::new();
        }
        self.refreshing.remove(server);
        let rotation = self
            .rotation_report
            .as_ref()
            .is_some_and(|r| r.pending.contains_key(&run));
        if rotation {
            self.rotation_refreshed(run, &result);
            return vec![Cmd::Reload];
        }
        let manual = self.manual_refresh == Some(run);
        if manual {
            self.manual_refresh = None;
        }
        match result {
            Ok(()) => {
                if manual {
                    self.say(Tone::Ok, format!("Token of \"{server}\" refreshed."));
                }
            }
            Err(f) => {
                // The core recorded the failure and its back-off in the token file, which
                // comes back with the refresh (`Msg::TokensRead`).
                let hint = f.hint.map(|h| format!(" — {h}")).unwrap_or_default();
                self.say(
                    Tone::Error,
                    format!("Refresh of \"{server}\" failed: {}{hint}", f.message),
                );
            }
        }
        Vec::new()
    }

    /// One server's token file as a refresh left it: patched into the snapshot (at 10,000
    /// servers a whole read costs 100–200 ms; this, one file). When it could not be read,
    /// the whole store is.
    pub(crate) fn on_tokens_read(
        &mut self,
        server: &str,
        result: Result<Option<crate::model::TokenFile>, std::sync::Arc<crate::ops::Error>>,
    ) -> Vec<Cmd> {
        match result {
            Ok(file) => {
                self.data.patch_tokens(server, file);
                self.rederive();
                self.schedule_refreshes()
            }
            Err(e) => {
                tracing::warn!(server, error = %e, "token file not read after a refresh: reading the store");
                vec![Cmd::Reload]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tui::state::cmd::Cmd;
    use crate::tui::state::msg::{Failure, Msg};
    use crate::tui::testing;
    use jiff::SignedDuration;

    /// A background refresh patches the one server it wrote: no read of the whole store, the
    /// other servers as they were, and the back-off it recorded followed.
    #[test]
    fn a_refresh_patches_its_server_without_reading_the_store() {
        let mut m = testing::model(testing::populated());
        let cmds = m.update(Msg::Tick(testing::now()));
        let Some(run) = cmds.iter().find_map(|c| match c {
            Cmd::Refresh { run, server, .. } if server == "Helpdesk" => Some(*run),
            _ => None,
        }) else {
            panic!("{cmds:?}")
        };
        let before = m.data.clone();
        let mut written = before.tokens["Helpdesk"].clone();
        written.failures = 1;
        written.last_error = Some(crate::model::RecordedError {
            at: testing::now(),
            message: "network down".into(),
            hint: None,
            transient: true,
        });
        let cmds = m.update(Msg::TokensRead {
            server: "Helpdesk".into(),
            result: Ok(Some(written.clone())),
        });
        assert!(cmds.is_empty(), "{cmds:?}");
        let cmds = m.update(Msg::Refreshed {
            run,
            server: "Helpdesk".into(),
            result: Err(Failure::new("network down", None)),
        });
        assert!(!cmds.iter().any(|c| matches!(c, Cmd::Reload)), "{cmds:?}");
        assert_eq!(m.data.tokens["Helpdesk"], written);
        for (name, file) in &before.tokens {
            if name != "Helpdesk" {
                assert_eq!(&m.data.tokens[name], file, "{name}");
            }
        }
        assert_eq!(m.data.config, before.config);
        // The recorded back-off holds the next try off, then lets it go.
        let soon = m.update(Msg::Tick(testing::now() + SignedDuration::from_secs(10)));
        assert!(soon.is_empty(), "{soon:?}");
        let later = m.update(Msg::Tick(testing::now() + SignedDuration::from_mins(2)));
        assert!(matches!(later.as_slice(), [Cmd::Refresh { .. }]), "{later:?}");
    }

    #[test]
    fn an_unreadable_token_file_falls_back_to_reading_the_store() {
        let mut m = testing::model(testing::populated());
        let cmds = m.update(Msg::TokensRead {
            server: "Helpdesk".into(),
            result: Err(std::sync::Arc::new(crate::ops::Error::Io("gone".into()))),
        });
        assert!(matches!(cmds.as_slice(), [Cmd::Reload]), "{cmds:?}");
    }
}
