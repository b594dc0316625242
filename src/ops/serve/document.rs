//! The JSON document of one notification (docs/json.md, "inbound serve notification"): the
//! same for the notify command (stdin) and the webhook (POST body), with a `text` line that a
//! Slack or Teams incoming webhook shows as it is.

use super::alerts::{Announce, Reason};
use crate::model::health::{Finding, Health, Level, ShellWording};
use jiff::Timestamp;
use serde::Serialize;

/// Version of the document; bumped only when a field changes meaning.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub schema: u32,
    pub reason: Reason,
    pub server: String,
    pub username: String,
    pub level: Level,
    pub previous: Option<Level>,
    pub since: Timestamp,
    pub at: Timestamp,
    pub summary: String,
    pub findings: Vec<Finding>,
    /// The machine that sent it (several serve instances can share one webhook).
    pub host: String,
    /// The store serve watches.
    pub store: String,
    pub text: String,
}

/// The host name, for the `host` field (empty when unknown). Linux keeps it in /proc.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| crate::sanitize::peer_text(h.trim()))
        .unwrap_or_default()
}

impl Notification {
    /// `wording` words the first fix in `text` (the CLI's: the document is read at a shell).
    pub fn new(
        a: &Announce,
        username: &str,
        health: &Health,
        store: &str,
        at: Timestamp,
        wording: ShellWording,
    ) -> Self {
        let findings: Vec<Finding> = health
            .findings
            .iter()
            .filter(|f| f.level > Level::Ok)
            .cloned()
            .collect();
        let summary = if a.level == Level::Ok {
            "healthy again".to_string()
        } else {
            health.summary()
        };
        let mut n = Notification {
            schema: SCHEMA,
            reason: a.reason,
            server: health.server.clone(),
            username: username.into(),
            level: a.level,
            previous: a.previous,
            since: a.since,
            at,
            summary,
            findings,
            host: host_name(),
            store: store.into(),
            text: String::new(),
        };
        n.text = n.line(Some(wording));
        n
    }

    /// `serve --test-notify`: a sample that says it is one.
    pub fn sample(server: &str, store: &str, at: Timestamp) -> Self {
        let mut n = Notification {
            schema: SCHEMA,
            reason: Reason::Test,
            server: server.into(),
            username: String::new(),
            level: Level::Ok,
            previous: None,
            since: at,
            at,
            summary: "a test of the notification path: nothing is wrong".into(),
            findings: Vec::new(),
            host: host_name(),
            store: store.into(),
            text: String::new(),
        };
        n.text = n.line(None);
        n
    }

    /// One readable line: glyph, level, server, mailbox, why, and the first fix.
    fn line(&self, wording: Option<ShellWording>) -> String {
        let who = if self.username.is_empty() {
            self.server.clone()
        } else {
            format!("{} ({})", self.server, self.username)
        };
        let lead = match self.reason {
            Reason::Reminder => "still ",
            _ => "",
        };
        let fix = self
            .findings
            .iter()
            .max_by_key(|f| f.level)
            .map(|f| {
                let fix = wording.map_or_else(|| f.fix.advice(), |w| (w.text)(&f.fix));
                format!(" → {fix}")
            })
            .unwrap_or_default();
        format!(
            "{} {lead}{} {who}: {}{fix} [inbound on {}]",
            self.level.glyph(),
            self.level.label(),
            self.summary,
            self.host
        )
    }
}
