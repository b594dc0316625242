//! `/healthz`: 200 while every server is OK or WARNING, 503 naming each failing server
//! otherwise (a load balancer or uptime checker needs only the status; a person reads the
//! lines).

use crate::model::health::Level;
use crate::services::status_http::Answer;

/// The servers as last assessed: name, level, one-line summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Board {
    pub servers: Vec<(String, Level, String)>,
}

impl Board {
    pub fn answer(&self) -> Answer {
        let count = |l: Level| self.servers.iter().filter(|(_, level, _)| *level == l).count();
        let failing: Vec<String> = self
            .servers
            .iter()
            .filter(|(_, level, _)| *level >= Level::Critical)
            .map(|(name, level, summary)| {
                format!(
                    "{} {name}: {}",
                    level.label(),
                    crate::sanitize::peer_text(summary)
                )
            })
            .collect();
        let counts = format!(
            "{} servers: {} OK, {} WARNING, {} CRITICAL",
            self.servers.len(),
            count(Level::Ok),
            count(Level::Warning),
            count(Level::Critical) + count(Level::Unknown)
        );
        if failing.is_empty() {
            Answer {
                status: 200,
                content_type: "text/plain; charset=utf-8",
                body: format!("OK: {counts}\n"),
            }
        } else {
            Answer {
                status: 503,
                content_type: "text/plain; charset=utf-8",
                body: format!("CRITICAL: {counts}\n{}\n", failing.join("\n")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_healthy_and_a_critical_server_is_named() {
        let mut b = Board {
            servers: vec![
                ("A".into(), Level::Ok, "healthy".into()),
                ("B".into(), Level::Warning, "secret expires in 20 d".into()),
            ],
        };
        assert_eq!(b.answer().status, 200);
        b.servers
            .push(("C".into(), Level::Critical, "needs re-consent".into()));
        let a = b.answer();
        assert_eq!(a.status, 503);
        assert!(a.body.contains("CRITICAL C: needs re-consent"), "{}", a.body);
        assert!(!a.body.contains("B:"), "{}", a.body);
    }
}
