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
                // The core recorded the failure and its back-off in the token file; the
                // reload below brings it here.
                let hint = f.hint.map(|h| format!(" — {h}")).unwrap_or_default();
                self.say(
                    Tone::Error,
                    format!("Refresh of \"{server}\" failed: {}{hint}", f.message),
                );
            }
        }
        vec![Cmd::Reload]
    }
}
