//! Replacing an app's credentials (a new secret and its expiry, another client ID, tenant or
//! authority): the new ones are proven with Microsoft before they replace the old ones, so a
//! mistyped secret never takes the place of a working one. Both faces call [`replace`]: the
//! CLI's `edit --app`, the app's secret rotation, and `add` when it renews a stored app.

use super::preflight::{self, Checklist, PreflightOptions, Progress};
use super::servers::{self, AppPatch};
use super::{Error, Result};
use crate::model::AzureApp;
use crate::store::Store;

/// How much proof the new credentials need before they are saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Microsoft must accept them; when it cannot be asked (offline, no answer), nothing is
    /// saved and [`Error::Unverified`] says so, so the person can choose to save unchecked.
    Required,
    /// The person chose to save without asking Microsoft.
    Skip,
}

/// What was saved, and what Microsoft said about it (`None` when nothing was checked).
#[derive(Debug, Clone)]
pub struct Replaced {
    pub app: AzureApp,
    pub checklist: Option<Checklist>,
}

/// Checks the app as `patch` would leave it, and saves the patch only when Microsoft accepted
/// the credentials (or `proof` is [`Proof::Skip`]). A refusal is [`Error::Preflight`]; no
/// answer is [`Error::Unverified`]; in both the stored app is untouched.
pub async fn replace(
    store: &Store,
    app: &str,
    patch: &AppPatch,
    proof: Proof,
    opts: &PreflightOptions,
    progress: impl FnMut(Progress),
) -> Result<Replaced> {
    let checklist = prove(store, app, patch, proof, opts, progress).await?;
    let app = servers::edit_app(store, app, patch)?;
    Ok(Replaced { app, checklist })
}

/// The proof [`replace`] needs, without saving: `None` when nothing needed checking.
pub async fn prove(
    store: &Store,
    app: &str,
    patch: &AppPatch,
    proof: Proof,
    opts: &PreflightOptions,
    progress: impl FnMut(Progress),
) -> Result<Option<Checklist>> {
    // Validates the patch (every field error at once) before anything is asked.
    let candidate = preflight::app_after_patch(store, app, patch)?;
    if proof == Proof::Skip || !preflight::patch_changes_credentials(patch) {
        return Ok(None);
    }
    let list = preflight::run(&candidate, opts, progress).await;
    judge(list).map(Some)
}

/// A refused check is an error; so is one Microsoft could not answer (the old credentials
/// stay until the new ones are proven).
pub fn judge(list: Checklist) -> Result<Checklist> {
    if !list.passed() {
        return Err(Error::Preflight(Box::new(list)));
    }
    if list.unanswered() {
        return Err(Error::Unverified(Box::new(list)));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::preflight::{CheckItem, Outcome};

    fn list(secret: Outcome) -> Checklist {
        let mut l = Checklist::default();
        l.set(
            CheckItem::Tenant,
            Outcome::Passed {
                detail: "found".into(),
            },
        );
        l.set(
            CheckItem::App,
            Outcome::Passed {
                detail: "found".into(),
            },
        );
        l.set(CheckItem::Secret, secret);
        l
    }

    #[test]
    fn only_an_accepted_secret_passes() {
        let ok = judge(list(Outcome::Passed {
            detail: "accepted".into(),
        }));
        assert!(ok.is_ok());
        let refused = judge(list(Outcome::Failed {
            headline: "refused".into(),
            reason: "AADSTS7000215".into(),
            fix: "paste the Value".into(),
            field: None,
        }));
        assert!(matches!(refused, Err(Error::Preflight(_))));
        let offline = judge(list(Outcome::Unknown {
            why: "could not reach login.microsoftonline.com".into(),
        }));
        let Err(e @ Error::Unverified(_)) = offline else {
            panic!("{offline:?}")
        };
        let text = e.to_string();
        assert!(text.contains("could not reach") && text.contains("old"), "{text}");
    }
}
