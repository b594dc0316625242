//! The pages a person sees at the stand-in: the sign-in page of an authorization request and
//! the device-code page. Every value from the request is escaped.

use super::http::{Response, html_escape, page};
use super::{Authorization, DEVICE_LOGIN_PATH};

/// The sign-in page: one account, "Sign in and accept" or "Cancel". The form posts back to
/// the same URL, so the request is checked again when the choice arrives.
pub(super) fn sign_in(a: &Authorization, account: &str) -> Response {
    let action = format!("/{}/oauth2/v2.0/authorize?{}", a.tenant, a.query);
    page(
        200,
        "Sign in to your account",
        &format!(
            "<h1>Sign in</h1>\
             <p>Demo sign-in service (a stand-in for Microsoft's). No password is needed.</p>\
             <p>Account: <b id=\"account\">{}</b></p>\
             <p>The app <code>{}</code> asks to read your mail over IMAP and to stay signed in \
             (<code>IMAP.AccessAsUser.All offline_access</code>).</p>\
             <form method=\"post\" action=\"{}\">\
             <button type=\"submit\" name=\"consent\" value=\"accept\">Sign in and accept</button> \
             <button type=\"submit\" name=\"consent\" value=\"cancel\">Cancel</button>\
             </form>",
            html_escape(account),
            html_escape(&a.client_id),
            html_escape(&action)
        ),
    )
}

pub(super) fn device_form(problem: Option<&str>) -> Response {
    let note = problem
        .map(|p| format!("<p id=\"error\">{}</p>", html_escape(p)))
        .unwrap_or_default();
    page(
        if problem.is_some() { 400 } else { 200 },
        "Enter code",
        &format!(
            "<h1>Enter code</h1>{note}<p>Enter the code displayed on your app or device.</p>\
             <form method=\"post\" action=\"{DEVICE_LOGIN_PATH}\">\
             <input name=\"user_code\" autocomplete=\"off\" autofocus> \
             <button type=\"submit\">Next</button></form>"
        ),
    )
}

pub(super) fn device_done(account: &str) -> Response {
    page(
        200,
        "Signed in",
        &format!(
            "<h1>You're signed in</h1><p>Signed in as <b id=\"account\">{}</b>. You have \
             signed in to the app on your device; you may now close this window.</p>",
            html_escape(account)
        ),
    )
}
