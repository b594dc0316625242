//! The pre-flight result as data: one check per credential, each passed, failed (with the
//! reason, the fix and the field to correct), skipped or unknown (not answered). The form
//! renders it as "✔ tenant contoso.com = 6f1e…  ✔ app found  ✔ secret accepted"; the CLI
//! prints it; doctor embeds it.

use crate::model::health::Advice;
use crate::services::oauth::CredentialField;
use serde::{Serialize, Serializer};

/// What is checked, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckItem {
    /// The tenant exists (OpenID discovery), and its ID.
    Tenant,
    /// The client ID is an app of that tenant.
    App,
    /// The stored secret is accepted for that app.
    Secret,
}

impl CheckItem {
    pub fn label(self) -> &'static str {
        match self {
            CheckItem::Tenant => "tenant",
            CheckItem::App => "app",
            CheckItem::Secret => "secret",
        }
    }
}

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Passed {
        /// e.g. `contoso.com = 6f1e…`, `found`, `accepted`.
        detail: String,
    },
    Failed {
        /// A word or two for the one-line checklist, e.g. `refused`, `not found`.
        headline: String,
        /// Microsoft's words, cleaned.
        reason: String,
        /// What to do (each face words its fix).
        fix: Advice,
        /// The form field to correct (the TUI moves the cursor there).
        #[serde(serialize_with = "field_name")]
        field: Option<CredentialField>,
    },
    /// Not checked, on purpose (a public client has no secret to prove, …).
    Skipped { why: String },
    /// Not answered (offline, timeout, a server without discovery): a warning, never a block.
    Unknown { why: String },
}

fn field_name<S: Serializer>(f: &Option<CredentialField>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        Some(f) => s.serialize_str(&format!("{f:?}")),
        None => s.serialize_none(),
    }
}

impl Outcome {
    pub fn glyph(&self) -> &'static str {
        match self {
            Outcome::Passed { .. } => "✔",
            Outcome::Failed { .. } => "✖",
            Outcome::Skipped { .. } => "–",
            Outcome::Unknown { .. } => "?",
        }
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }

    /// The text after the glyph and item in the one-line checklist.
    fn short(&self) -> &str {
        match self {
            Outcome::Passed { detail } => detail,
            Outcome::Failed { headline, .. } => headline,
            Outcome::Skipped { .. } => "skipped",
            Outcome::Unknown { .. } => "unchecked",
        }
    }

    /// The full sentence for a line of its own (None for a pass: the one line says it all).
    pub fn explanation(&self) -> Option<(String, Option<&Advice>)> {
        match self {
            Outcome::Passed { .. } => None,
            Outcome::Failed { reason, fix, .. } => Some((reason.clone(), Some(fix))),
            Outcome::Skipped { why } | Outcome::Unknown { why } => Some((why.clone(), None)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub item: CheckItem,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Every check, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Checklist {
    pub checks: Vec<Check>,
    /// The Directory (tenant) ID discovery resolved the tenant to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

impl Checklist {
    pub fn set(&mut self, item: CheckItem, outcome: Outcome) {
        match self.checks.iter_mut().find(|c| c.item == item) {
            Some(c) => c.outcome = outcome,
            None => self.checks.push(Check { item, outcome }),
        }
    }

    pub fn get(&self, item: CheckItem) -> Option<&Outcome> {
        self.checks.iter().find(|c| c.item == item).map(|c| &c.outcome)
    }

    /// The first failed check: what blocks saving.
    pub fn failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.outcome.is_failed())
    }

    pub fn passed(&self) -> bool {
        self.failure().is_none()
    }

    /// Some check went unanswered (offline): warn, do not block.
    pub fn unanswered(&self) -> bool {
        self.checks
            .iter()
            .any(|c| matches!(c.outcome, Outcome::Unknown { .. }))
    }

    /// The field the first failure is about, for the form's cursor.
    pub fn field_to_fix(&self) -> Option<CredentialField> {
        self.checks.iter().find_map(|c| match &c.outcome {
            Outcome::Failed { field, .. } => *field,
            _ => None,
        })
    }

    /// `✔ tenant contoso.com = 6f1e…  ✔ app found  ✔ secret accepted`
    pub fn line(&self) -> String {
        self.checks
            .iter()
            .map(|c| format!("{} {} {}", c.outcome.glyph(), c.item.label(), c.outcome.short()))
            .collect::<Vec<_>>()
            .join("  ")
    }
}

/// `6f1e2d3c-…` → `6f1e…`: enough to recognise a tenant ID in one line.
pub fn short_guid(id: &str) -> String {
    let head: String = id.chars().take(4).collect();
    if id.chars().count() > 4 {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Checklist {
        let mut c = Checklist::default();
        c.set(
            CheckItem::Tenant,
            Outcome::Passed {
                detail: "contoso.com = 6f1e…".into(),
            },
        );
        c.set(
            CheckItem::App,
            Outcome::Passed {
                detail: "found".into(),
            },
        );
        c.set(
            CheckItem::Secret,
            Outcome::Passed {
                detail: "accepted".into(),
            },
        );
        c
    }

    #[test]
    fn renders_as_one_line() {
        let c = list();
        assert_eq!(
            c.line(),
            "✔ tenant contoso.com = 6f1e…  ✔ app found  ✔ secret accepted"
        );
        assert!(c.passed() && !c.unanswered());
        assert_eq!(c.field_to_fix(), None);
        assert_eq!(short_guid("6f1e2d3c-0000"), "6f1e…");
    }

    #[test]
    fn a_failure_names_its_field_and_serialises_flat() {
        let mut c = list();
        c.set(
            CheckItem::Secret,
            Outcome::Failed {
                headline: "refused".into(),
                reason: "AADSTS7000215".into(),
                fix: "paste the Value".into(),
                field: Some(CredentialField::Secret),
            },
        );
        assert!(!c.passed());
        assert_eq!(c.failure().map(|f| f.item), Some(CheckItem::Secret));
        assert_eq!(c.field_to_fix(), Some(CredentialField::Secret));
        assert!(c.line().ends_with("✖ secret refused"), "{}", c.line());
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["checks"][2]["status"], "failed");
        assert_eq!(json["checks"][2]["item"], "secret");
        assert_eq!(json["checks"][2]["field"], "Secret");
    }
}
