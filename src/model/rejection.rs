//! A refused app-only login, as data: the likely causes in order, each with the Exchange
//! Online line that fixes it (microsoft-facts §4.4 rows 3, 5 and 6). The test carries it
//! in its error; the CLI words it with its commands (`cli::fix`), the app with its keys.

use serde::Serialize;

/// Stands for the service principal's Object ID until a token has told us.
pub const PRINCIPAL_PLACEHOLDER: &str = "<enterprise-app-object-id>";

/// Why a retry may pass without any change.
pub const REPLICATION_NOTE: &str = "A new mailbox permission can take several minutes to replicate";

/// One likely cause of a refused app-only login, and the line that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedCause {
    pub what: String,
    pub line: Option<String>,
}

/// Why Exchange refused a valid app-only token, most likely cause first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub server: String,
    pub mailbox: String,
    /// The first words: what is known about the token.
    pub lead: String,
    pub causes: Vec<RejectedCause>,
    /// The app, while its service principal's Object ID is a placeholder (where to find it).
    pub placeholder_app: Option<String>,
    /// The setup could not be read (the causes are then words only): why.
    pub unread: Option<String>,
}

impl Rejection {
    /// The causes in one paragraph, with their Exchange lines; no command of ours (each face
    /// adds how to test again and where all the lines are).
    pub fn words(&self) -> String {
        let causes: Vec<String> = self
            .causes
            .iter()
            .enumerate()
            .map(|(i, c)| match &c.line {
                Some(line) => format!("({}) {}: {line}", i + 1, c.what),
                None => format!("({}) {}", i + 1, c.what),
            })
            .collect();
        let lead = if self.lead.is_empty() {
            String::new()
        } else {
            format!("{}. ", self.lead)
        };
        let mut words = format!(
            "{lead}In order: {}. {REPLICATION_NOTE}: {}",
            causes.join("; "),
            self.retry().advice()
        );
        if let Some(app) = &self.placeholder_app {
            words.push_str(&format!(
                ". {PRINCIPAL_PLACEHOLDER}: Enterprise applications → \"{app}\" → Object ID"
            ));
        }
        if let Some(why) = &self.unread {
            words.push_str(&format!(" (reading the setup failed: {why})"));
        }
        words
    }
}
