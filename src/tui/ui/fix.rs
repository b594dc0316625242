//! The app's wording of a fix: the core says what fixes something as data ([`Fix`]); here
//! alone it becomes the key that does it on the screen shown, or the field to go to. The app
//! never shows a command line (the CLI's wording is `cli::fix`).

use crate::model::health::{Advice, AppField, Fix, Mismatch, ServerField};
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::form::FieldId;

/// The action that does a fix, where one does.
pub fn action(fix: &Fix) -> Option<Action> {
    match fix {
        Fix::Connect { .. } | Fix::SignIn { .. } => Some(Action::Connect),
        Fix::NewSecret { .. } => Some(Action::Rotate),
        Fix::AppCredentials { .. }
        | Fix::ChooseApp { .. }
        | Fix::CaFile { .. }
        | Fix::Tenant { .. }
        | Fix::Password { .. }
        | Fix::SignInAs { .. }
        | Fix::ChooseCloud { .. }
        | Fix::EditServer { .. }
        | Fix::EditApp { .. } => Some(Action::Edit),
        Fix::Refresh { .. } => Some(Action::Refresh),
        Fix::Test { .. } | Fix::RetryLater { .. } => Some(Action::Test),
        Fix::ExchangeSetup { .. } | Fix::ExchangeRefused(_) => Some(Action::Exchange),
        Fix::PublicUrl { .. } => Some(Action::Settings),
        // Certificates are made and uploaded outside the app; admin consent and the browser
        // sign-in are steps of the sign-in, reached from there; the rest is the portal's.
        Fix::NewCertificate { .. }
        | Fix::UseCertificate { .. }
        | Fix::UploadCertificate { .. }
        | Fix::AdminConsent { .. }
        | Fix::BrowserSignIn { .. }
        | Fix::PublicClient
        | Fix::AllowPublicClientFlows
        | Fix::MailboxPermission { .. }
        | Fix::SetupScript
        | Fix::Advice(_) => None,
    }
}

/// The form field a fix is about, for a screen where no key does it (a form open already).
pub fn field(fix: &Fix) -> Option<FieldId> {
    Some(match fix {
        Fix::SignInAs { .. } => FieldId::SignInAs,
        Fix::ChooseCloud { .. }
        | Fix::EditApp {
            field: AppField::Cloud,
            ..
        } => FieldId::Cloud,
        Fix::Tenant { .. }
        | Fix::EditApp {
            field: AppField::Tenant,
            ..
        } => FieldId::Tenant,
        Fix::EditApp {
            field: AppField::ClientId,
            ..
        } => FieldId::ClientId,
        Fix::CaFile { .. } => FieldId::CaFile,
        Fix::Password { .. } => FieldId::Password,
        Fix::ChooseApp { .. }
        | Fix::EditServer {
            field: ServerField::App,
            ..
        } => FieldId::App,
        Fix::EditServer {
            field: ServerField::Host,
            ..
        } => FieldId::Host,
        Fix::EditServer {
            field: ServerField::Username,
            ..
        } => FieldId::Username,
        _ => return None,
    })
}

/// How to act on a fix here: "press e", or "the Cloud field" (None: only words).
pub fn how(model: &Model, fix: &Fix) -> Option<String> {
    action(fix)
        .and_then(|a| model.key(a))
        .map(|k| format!("press {k}"))
        .or_else(|| field(fix).map(|f| format!("the {} field", f.label())))
}

/// "sign in again (press c)": the fix's words and how to act on it here.
pub fn text(model: &Model, fix: &Fix) -> String {
    with_how(model, fix.advice(), Some(fix))
}

/// Words followed by their fix: "…, set Sign in as (press e)".
pub fn advice(model: &Model, a: &Advice) -> String {
    let words = match (&a.fix, a.words.is_empty()) {
        (Some(f), true) => f.advice(),
        _ => a.words.clone(),
    };
    with_how(model, words, a.fix.as_ref())
}

/// The identity mismatch, with the key that records the delegate where one does (its words
/// name the field already).
pub fn mismatch(model: &Model, m: &Mismatch) -> String {
    let key = m.fix().as_ref().and_then(action).and_then(|a| model.key(a));
    match key {
        Some(k) => format!("{} (press {k})", m.words()),
        None => m.words(),
    }
}

fn with_how(model: &Model, words: String, fix: Option<&Fix>) -> String {
    match fix.and_then(|f| how(model, f)) {
        Some(how) => format!("{words} ({how})"),
        None => words,
    }
}
