//! Admin consent at the stand-in: the tenant switch that keeps users from consenting to IMAP
//! themselves (microsoft-facts §9), the v2 `/{tenant}/v2.0/adminconsent` endpoint and the
//! simple `/{tenant}/adminconsent?client_id=…` link (§8).
//!
//! The answers follow §8: granted is `admin_consent=True&tenant=…&scope=…&state=…`, cancelled
//! is `admin_consent=True&error=consent_required&error_description=AADSTS65004…`. Microsoft
//! documents no redirect for a non-admin who opens the v2 endpoint (its page says "Need admin
//! approval", AADSTS90094 "AdminConsentRequired" in §5); the stand-in models the way back to
//! the app as `error=access_denied` with that code. A user sign-in that stops at the same page
//! comes back by its "Return to the application" link as Entra sends it:
//! `error=access_denied&error_subcode=cancel` with AADSTS65004, the code of a declined consent.

use super::http::{self, ErrorResponse, HttpRequest, Response, get, html_escape, page};
use super::ids::{DEFAULT_TENANT_ID, looks_like_guid};
use super::{Authorization, Entra};
use hyper::Method;

/// What an admin who is not allowed to grant, or a user on a locked tenant, runs into.
pub const ADMIN_REQUIRED: &str = "AADSTS90094: Administrator consent is required. The \
     signed-in user is not allowed to consent to the permissions this app requests \
     (IMAP.AccessAsUser.All) on behalf of the organization.";

/// A checked admin consent request.
pub struct AdminRequest {
    /// `None` for the simple form (no redirect URI: the answer is a page).
    redirect: Option<url::Url>,
    state: Option<String>,
    client_id: String,
    tenant: String,
    scope: String,
    v2: bool,
    query: String,
}

impl Entra {
    /// Whether authorize must stop at "Need admin approval" for `client_id`.
    pub fn needs_admin_consent(&self, client_id: &str) -> bool {
        !self.settings.user_consent_allowed && !self.admin_consented.contains(client_id)
    }

    /// Whether an admin consented for `client_id`.
    pub fn has_admin_consent(&self, client_id: &str) -> bool {
        self.admin_consented.contains(client_id)
    }

    /// Records tenant-wide consent for `client_id` (as the portal's *Grant admin consent*).
    pub fn grant_admin_consent(&mut self, client_id: &str) {
        self.admin_consented.insert(client_id.to_owned());
    }

    /// Both admin consent endpoints: GET shows the page (or, without sign-in pages, decides at
    /// once as the signed-in admin would: accept); POST carries the choice.
    pub(super) fn admin_consent(&mut self, tenant: &str, v2: bool, req: &HttpRequest) -> Response {
        let r = match self.check_admin_consent(tenant, v2, &req.query_pairs()) {
            Ok(r) => r,
            Err(page) => return *page,
        };
        match req.method {
            Method::GET if self.settings.sign_in_page => consent_page(&r),
            Method::GET => self.answer_admin_consent(r, true),
            Method::POST => {
                let accepted = get(&req.form_pairs(), "consent") == Some("accept");
                self.answer_admin_consent(r, accepted)
            }
            _ => http::text(405, "method not allowed"),
        }
    }

    /// Checks an admin consent request: what cannot be redirected back about is an error page.
    pub fn check_admin_consent(
        &self,
        tenant: &str,
        v2: bool,
        params: &[(String, String)],
    ) -> Result<AdminRequest, ErrorResponse> {
        let p = |name: &str| get(params, name).unwrap_or_default().to_owned();
        if let Some(msg) = self.tenant_error(tenant) {
            return Err(Box::new(http::error_page(&msg)));
        }
        if v2 && tenant.eq_ignore_ascii_case("common") {
            return Err(Box::new(http::error_page(
                "The v2 admin consent endpoint needs the organization: use the tenant ID or a \
                 verified domain instead of 'common'.",
            )));
        }
        let client_id = p("client_id");
        if !self.knows_app(&client_id) {
            return Err(Box::new(http::error_page(&format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the \
                 directory '{tenant}'."
            ))));
        }
        let redirect = if v2 {
            let redirect_uri = p("redirect_uri");
            if redirect_uri.is_empty() {
                return Err(Box::new(http::error_page(
                    "AADSTS900144: The request body must contain the following parameter: \
                     'redirect_uri'.",
                )));
            }
            match super::redirect::matching(&self.settings.redirect_uris, &redirect_uri) {
                Some(u) => Some(u),
                None => {
                    return Err(Box::new(http::error_page(&format!(
                        "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request \
                         does not match the redirect URIs configured for the application \
                         '{client_id}'."
                    ))));
                }
            }
        } else {
            None
        };
        let scope = p("scope");
        if v2 && scope.trim().is_empty() {
            return Err(Box::new(http::error_page(
                "AADSTS900144: The request body must contain the following parameter: 'scope'.",
            )));
        }
        Ok(AdminRequest {
            redirect,
            state: get(params, "state").map(str::to_owned),
            client_id,
            tenant: tenant.to_owned(),
            scope,
            v2,
            query: url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish(),
        })
    }

    /// The admin's decision, answered as Microsoft does (see the module comment).
    pub fn answer_admin_consent(&mut self, r: AdminRequest, accepted: bool) -> Response {
        let (pairs, text): (Vec<(&str, String)>, &str) = if !self.settings.signed_in_user_is_admin {
            (
                vec![
                    ("admin_consent", "True".into()),
                    ("error", "access_denied".into()),
                    ("error_description", ADMIN_REQUIRED.into()),
                ],
                "Need admin approval: the account that signed in cannot grant consent for the \
                 organization.",
            )
        } else if !accepted {
            (
                vec![
                    ("admin_consent", "True".into()),
                    ("error", "consent_required".into()),
                    (
                        "error_description",
                        "AADSTS65004: User declined to consent to access the app.".into(),
                    ),
                ],
                "Consent was declined.",
            )
        } else {
            self.admin_consented.insert(r.client_id.clone());
            let tid = if looks_like_guid(&r.tenant) {
                r.tenant.to_ascii_lowercase()
            } else {
                DEFAULT_TENANT_ID.to_owned()
            };
            (
                vec![
                    ("admin_consent", "True".into()),
                    ("tenant", tid),
                    ("scope", r.scope.clone()),
                ],
                "Permissions granted for the organization.",
            )
        };
        let Some(mut target) = r.redirect else {
            // The simple link has nowhere to go back to: Microsoft then shows AADSTS500113,
            // harmless after a granted consent (§8).
            return page(
                200,
                "Admin consent",
                &format!(
                    "<h1>{}</h1><p id=\"error\">AADSTS500113: No reply address is registered for \
                     the application.</p>",
                    html_escape(text)
                ),
            );
        };
        {
            let mut q = target.query_pairs_mut();
            for (k, v) in &pairs {
                q.append_pair(k, v);
            }
            if let Some(s) = &r.state {
                q.append_pair("state", s);
            }
        }
        http::redirect(target.as_str())
    }
}

/// The consent prompt an admin sees: "Accept for your organization" or "Cancel".
fn consent_page(r: &AdminRequest) -> Response {
    let path = if r.v2 {
        format!("/{}/v2.0/adminconsent", r.tenant)
    } else {
        format!("/{}/adminconsent", r.tenant)
    };
    let action = format!("{path}?{}", r.query);
    page(
        200,
        "Permissions requested",
        &format!(
            "<h1>Permissions requested · Accept for your organization</h1>\
             <p>Demo sign-in service (a stand-in for Microsoft's).</p>\
             <p>The app <code>{}</code> asks, for every user of the organization: read their \
             mail over IMAP and stay signed in (<code>IMAP.AccessAsUser.All offline_access</code>).</p>\
             <form method=\"post\" action=\"{}\">\
             <button type=\"submit\" name=\"consent\" value=\"accept\">Accept</button> \
             <button type=\"submit\" name=\"consent\" value=\"cancel\">Cancel</button>\
             </form>",
            html_escape(&r.client_id),
            html_escape(&action)
        ),
    )
}

/// What the "Return to the application" link of the "Need admin approval" page brings back.
pub const DECLINED: &str = "AADSTS65004: User declined to consent to access the app.";

/// A user sign-in on a tenant that lets no user consent: the "Need admin approval" page, whose
/// way back to the app redirects as a declined consent (`access_denied`, subcode `cancel`,
/// AADSTS65004): Entra's answer does not say that admin approval was the reason.
pub(super) fn approval_required(a: Authorization, with_page: bool) -> Response {
    let back = super::deny_with(a, "access_denied", Some("cancel"), DECLINED);
    if !with_page {
        return back;
    }
    let location = back
        .headers()
        .get(hyper::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    page(
        200,
        "Need admin approval",
        &format!(
            "<h1>Need admin approval</h1><p>This app needs permission to access resources in \
             your organization that only an admin can grant. Ask an admin to grant permission \
             to this app before you can use it.</p><p id=\"error\">{}</p>\
             <p><a id=\"back\" href=\"{}\">Return to the application without granting consent</a></p>",
            html_escape(ADMIN_REQUIRED),
            html_escape(&location)
        ),
    )
}
