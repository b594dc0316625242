//! Pre-flight: prove tenant, client ID and secret before any browser opens.
//!
//! 1. OpenID discovery of the tenant resolves a domain to its tenant ID (and catches
//!    AADSTS90002, an unknown tenant or the wrong cloud).
//! 2. A client-credentials request for `https://outlook.office.com/.default` with the stored
//!    secret proves client ID + secret + tenant together: any confidential app of the tenant
//!    may ask for it whatever its permissions, so the answer speaks only of the credentials
//!    (7000215 Secret ID instead of Value, 7000222 expired, 700016 app not in this tenant,
//!    700025 public client). The token is thrown away.
//!
//! A public client (no secret) cannot use client credentials. Its app could be probed with a
//! device-code request, but that starts a real device-code sign-in in the tenant's logs (and
//! tenants are told to block device code), so it is not done: the app is checked at sign-in.
//! Offline, every check is "unknown": a warning, never a block.

mod checklist;
mod retry;

pub use checklist::{Check, CheckItem, Checklist, Outcome, short_guid};
pub use retry::{DEFAULT_BACKOFF, Wait, is_replication_lag};

use super::servers::{self, AppChoice, AppPatch, ServerInput};
use super::{Error, Result};
use crate::model::health::{Advice, Fix};
use crate::model::validate::is_guid;
use crate::model::{AzureApp, Cloud};
use crate::services::oauth::client_credentials::{PREFLIGHT_SCOPE, client_credentials};
use crate::services::oauth::{CredentialField, MsError, OAuthError, diagnose, discovery};
use crate::store::Store;
use std::time::Duration;

/// How to run the checks.
#[derive(Debug, Clone)]
pub struct PreflightOptions {
    /// The app or secret was created moments ago (setup code): wait out replication lag on
    /// 700016 / 7000215 with [`PreflightOptions::backoff`].
    pub just_created: bool,
    /// The waits between retries when `just_created`.
    pub backoff: Vec<Duration>,
}

impl PreflightOptions {
    /// Just after a setup code: retry for at most `total` (the default back-off, cut short).
    pub fn just_created_within(total: Duration) -> Self {
        let mut used = Duration::ZERO;
        let backoff = DEFAULT_BACKOFF
            .iter()
            .copied()
            .take_while(|d| {
                used += *d;
                used <= total
            })
            .collect();
        Self {
            just_created: true,
            backoff,
        }
    }
}

impl Default for PreflightOptions {
    fn default() -> Self {
        Self {
            just_created: false,
            backoff: DEFAULT_BACKOFF.to_vec(),
        }
    }
}

/// Progress, for a spinner and the "waiting" line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Checking(CheckItem),
    /// Replication lag: Microsoft does not know the new app yet.
    Waiting(Wait),
}

/// Runs the checks for `app`.
pub async fn run(app: &AzureApp, opts: &PreflightOptions, progress: impl FnMut(Progress)) -> Checklist {
    run_with(app, opts, progress, tokio::time::sleep).await
}

/// [`run`] with the sleep between retries injected (tests pass one that returns at once).
pub async fn run_with<S, SF>(
    app: &AzureApp,
    opts: &PreflightOptions,
    mut progress: impl FnMut(Progress),
    sleep: S,
) -> Checklist
where
    S: FnMut(Duration) -> SF,
    SF: Future<Output = ()>,
{
    let mut list = Checklist::default();
    progress(Progress::Checking(CheckItem::Tenant));
    match discovery::discover(app).await {
        Ok(info) => {
            let detail = match &info.tenant_id {
                Some(id) if id.eq_ignore_ascii_case(&app.tenant) => format!("{} found", short_guid(id)),
                Some(id) => format!("{} = {}", app.tenant, short_guid(id)),
                None => format!("{} (any work account's tenant)", app.tenant),
            };
            list.tenant_id = info.tenant_id.clone();
            match other_cloud(app, &info) {
                Some(why) => list.set(
                    CheckItem::Tenant,
                    Outcome::Unknown {
                        why: format!("{detail}, but {why}"),
                    },
                ),
                None => list.set(CheckItem::Tenant, Outcome::Passed { detail }),
            }
        }
        Err(OAuthError::Network(e)) => {
            let why = format!(
                "could not reach {} ({e}); nothing was checked, and sign-in will check again",
                app.authority
            );
            for item in [CheckItem::Tenant, CheckItem::App, CheckItem::Secret] {
                list.set(item, Outcome::Unknown { why: why.clone() });
            }
            return list;
        }
        Err(e) if tenant_refused(&e) => {
            list.set(CheckItem::Tenant, tenant_failure(app, &e));
            skip_rest(&mut list, "fix the tenant first");
            return list;
        }
        // A standards-compliant server without discovery, a proxy's error page, a 5xx.
        Err(e) => list.set(
            CheckItem::Tenant,
            Outcome::Unknown {
                why: format!("the tenant's OpenID discovery did not answer usably: {e}"),
            },
        ),
    }
    if !crate::services::oauth::credential::has_credential(app) {
        list.set(
            CheckItem::App,
            Outcome::Skipped {
                why: "a public client has no secret to prove it with; Microsoft checks the app at sign-in"
                    .into(),
            },
        );
        list.set(
            CheckItem::Secret,
            Outcome::Skipped {
                why: "none stored (public client: device code, or Mobile and desktop)".into(),
            },
        );
        return list;
    }
    if !is_guid(&app.tenant) && !app.tenant.contains('.') {
        // organizations / common: client credentials need one tenant.
        skip_rest(
            &mut list,
            "client credentials need a tenant ID or domain, not a multi-tenant alias; checked at sign-in",
        );
        return list;
    }
    progress(Progress::Checking(CheckItem::App));
    let waits: &[Duration] = if opts.just_created { &opts.backoff } else { &[] };
    let answer = retry::with_backoff(
        waits,
        || client_credentials(app, PREFLIGHT_SCOPE),
        |e| matches!(e, OAuthError::Microsoft(ms) if is_replication_lag(&ms.codes())),
        |w| progress(Progress::Waiting(w)),
        sleep,
    )
    .await;
    match answer {
        Ok(_token) => {
            list.set(
                CheckItem::App,
                Outcome::Passed {
                    detail: "found".into(),
                },
            );
            list.set(
                CheckItem::Secret,
                Outcome::Passed {
                    detail: "accepted".into(),
                },
            );
        }
        Err(e) if tenant_refused(&e) => {
            list.set(CheckItem::Tenant, tenant_failure(app, &e));
            skip_rest(&mut list, "fix the tenant first");
        }
        Err(OAuthError::Microsoft(ms)) => credentials_refused(&mut list, &ms),
        Err(e) => {
            let why = format!("the test token request did not get an answer: {e}; sign-in will check again");
            list.set(CheckItem::App, Outcome::Unknown { why: why.clone() });
            list.set(CheckItem::Secret, Outcome::Unknown { why });
        }
    }
    list
}

/// A tenant of the US Government cloud found through the global authority (Entra answers
/// discovery across clouds and says where the tenant lives in `cloud_instance_name`; this is
/// observed behaviour, not documented, so it warns and never blocks).
fn other_cloud(app: &AzureApp, info: &discovery::TenantInfo) -> Option<String> {
    let instance = info.cloud_instance.as_deref()?.to_ascii_lowercase();
    let cloud = app.cloud()?;
    let host = url::Url::parse(cloud.authority()).ok()?.host_str()?.to_string();
    if host.ends_with(&instance) {
        return None;
    }
    let hint = if instance == "microsoftonline.us" {
        format!(" ({} or {})", Cloud::UsGov.label(), Cloud::UsGovDod.label())
    } else {
        String::new()
    };
    Some(format!(
        "Microsoft says this tenant lives in the {instance} cloud while the app signs in at {host}{hint}; if sign-in fails, choose the tenant's cloud"
    ))
}

fn skip_rest(list: &mut Checklist, why: &str) {
    for item in [CheckItem::App, CheckItem::Secret] {
        if list.get(item).is_none() {
            list.set(item, Outcome::Skipped { why: why.into() });
        }
    }
}

fn tenant_refused(e: &OAuthError) -> bool {
    matches!(e, OAuthError::Microsoft(ms)
        if ms.error == "invalid_tenant" || ms.codes().iter().any(|c| matches!(c, 90002 | 900023)))
}

fn tenant_failure(app: &AzureApp, e: &OAuthError) -> Outcome {
    let (reason, hint) = match e {
        OAuthError::Microsoft(ms) => (ms.short_description(), ms.hint()),
        other => (other.to_string(), None),
    };
    let mut fix = Advice::from(hint.unwrap_or("check the Directory (tenant) ID or domain"));
    // A national-cloud tenant is "not found" in the global directory and vice versa (only
    // said for Microsoft's own authorities: another identity provider has no clouds).
    if let Some(current) = app.cloud() {
        let clouds: Vec<Cloud> = Cloud::ALL
            .into_iter()
            .filter(|c| !c.same_directory(current) && *c != Cloud::UsGovDod)
            .collect();
        fix.words
            .push_str(" If the tenant is in another cloud, choose it");
        fix.fix = Some(Fix::ChooseCloud {
            app: None,
            server: None,
            clouds,
        });
    }
    Outcome::Failed {
        headline: "not found".into(),
        reason,
        fix,
        field: Some(CredentialField::Tenant),
    }
}

/// Maps Microsoft's refusal of the test token to the app and secret checks.
fn credentials_refused(list: &mut Checklist, ms: &MsError) {
    let codes = ms.codes();
    let reason = ms.short_description();
    let has = |c: u64| codes.contains(&c);
    let hint = |c: u64| diagnose::aadsts_hint(c).unwrap_or_default().to_string();
    let fail = |headline: &str, fix: String, field: CredentialField| Outcome::Failed {
        fix: fix.into(),
        headline: headline.into(),
        reason: if reason.is_empty() {
            ms.to_string()
        } else {
            reason.clone()
        },
        field: Some(field),
    };
    let found = Outcome::Passed {
        detail: "found".into(),
    };
    if has(700016) {
        list.set(
            CheckItem::App,
            fail(
                "not found in this tenant",
                hint(700016),
                CredentialField::ClientId,
            ),
        );
        skip_rest(list, "fix the client ID first");
    } else if has(7000215) {
        list.set(CheckItem::App, found);
        list.set(
            CheckItem::Secret,
            fail("refused", hint(7000215), CredentialField::Secret),
        );
    } else if has(7000222) {
        list.set(CheckItem::App, found);
        list.set(
            CheckItem::Secret,
            fail("expired", hint(7000222), CredentialField::Secret),
        );
    } else if has(700025) || has(90023) {
        list.set(CheckItem::App, found);
        list.set(
            CheckItem::Secret,
            fail(
                "not wanted (public client)",
                "The registration is a public client (its redirect URL is under Mobile and desktop): register http://localhost/microsoft_outlook/confirm under Web to use this secret, or remove the secret and sign in with device code.".into(),
                CredentialField::Secret,
            ),
        );
    } else if has(7000218) {
        list.set(CheckItem::App, found);
        list.set(
            CheckItem::Secret,
            fail("missing", hint(7000218), CredentialField::Secret),
        );
    } else if ms.error == "invalid_client" {
        list.set(CheckItem::App, found);
        let fix = ms
            .hint()
            .unwrap_or("check the secret Value (Certificates & secrets)")
            .to_string();
        list.set(CheckItem::Secret, fail("refused", fix, CredentialField::Secret));
    } else if ms.error == "unauthorized_client" {
        let fix = ms
            .hint()
            .unwrap_or("check the Azure Client ID and the tenant")
            .to_string();
        list.set(CheckItem::App, fail("refused", fix, CredentialField::ClientId));
        skip_rest(list, "fix the client ID first");
    } else {
        // Not about the credentials (no Exchange Online in the tenant, a policy, an outage):
        // the client was not refused, but no token proves the secret either.
        let mut why = format!("Microsoft issued no test token: {ms}");
        if let Some(h) = ms.hint() {
            why.push_str(&format!(". {h}"));
        }
        why.push_str("; sign-in will check again");
        list.set(CheckItem::App, Outcome::Unknown { why: why.clone() });
        list.set(CheckItem::Secret, Outcome::Unknown { why });
    }
}

/// The app a new server would use (a new one from the input, or the stored one it names),
/// after validating the whole input exactly as adding it would. `None` for Basic.
pub fn app_for_input(store: &Store, input: &ServerInput) -> Result<Option<AzureApp>> {
    let config = store.load()?;
    let (_, new_app) = servers::validate_server(input, &config).map_err(Error::Invalid)?;
    if !input.auth.is_oauth() {
        return Ok(None);
    }
    Ok(match (new_app, &input.app) {
        (Some(app), _) => Some(app),
        (None, Some(AppChoice::Existing(name))) => config.app(name).cloned(),
        (None, Some(AppChoice::New(typed))) => servers::same_registration(typed, &config).cloned(),
        (None, None) => None,
    })
}

/// The app as `patch` would leave it, without saving anything.
pub fn app_after_patch(store: &Store, name: &str, patch: &AppPatch) -> Result<AzureApp> {
    let config = store.load()?;
    let mut app = config.app(name).cloned().ok_or_else(|| Error::NotFound {
        kind: "Azure app",
        name: name.into(),
    })?;
    servers::apply_app_patch(&mut app, patch)?;
    Ok(app)
}

/// Validates a new server's input as adding it would, then runs the checks for the app it
/// would use (`None` for Basic). For the form: call before saving, render
/// [`Checklist::line`], move the cursor to [`Checklist::field_to_fix`] on a failure. When the
/// input renews a stored app (same registration, new secret) and Microsoft could not be
/// asked, it is [`Error::Unverified`]: the stored secret is not replaced unchecked.
pub async fn check_input(
    store: &Store,
    input: &ServerInput,
    opts: &PreflightOptions,
    progress: impl FnMut(Progress),
) -> Result<Option<Checklist>> {
    let renewing = servers::renews(input, &store.load()?).is_some();
    match app_for_input(store, input)? {
        Some(app) => {
            let list = run(&app, opts, progress).await;
            if renewing && list.passed() && list.unanswered() {
                return Err(Error::Unverified(Box::new(list)));
            }
            Ok(Some(list))
        }
        None => Ok(None),
    }
}

/// Whether a patch touches what pre-flight proves.
pub fn patch_changes_credentials(patch: &AppPatch) -> bool {
    patch.client_id.is_some() || patch.tenant.is_some() || patch.secret.is_some() || patch.authority.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(authority: &str) -> AzureApp {
        AzureApp {
            public_client: false,
            admin_consent_at: None,
            name: "a".into(),
            client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
            tenant: "contoso.com".into(),
            secret: None,
            secret_expires: None,
            authority: authority.into(),
            certificate: None,
        }
    }

    fn unknown_tenant() -> OAuthError {
        OAuthError::Microsoft(Box::new(MsError {
            error: "invalid_tenant".into(),
            error_description: Some("AADSTS90002: Tenant 'contoso.com' not found.".into()),
            error_codes: vec![90002],
            timestamp: None,
            trace_id: None,
            correlation_id: None,
            error_uri: None,
            suberror: None,
        }))
    }

    #[test]
    fn an_unknown_tenant_suggests_the_other_clouds() {
        let fix = |authority: &str| match tenant_failure(&app(authority), &unknown_tenant()) {
            Outcome::Failed { fix, field, .. } => {
                assert_eq!(field, Some(CredentialField::Tenant));
                fix
            }
            other => panic!("{other:?}"),
        };
        let clouds = |authority: &str| match fix(authority).fix {
            Some(Fix::ChooseCloud { clouds, .. }) => clouds,
            other => panic!("{other:?}"),
        };
        assert_eq!(clouds(Cloud::Global.authority()), [Cloud::UsGov, Cloud::China]);
        assert_eq!(clouds(Cloud::UsGov.authority()), [Cloud::Global, Cloud::China]);
        assert!(fix(Cloud::Global.authority()).words.ends_with("choose it"));
        assert_eq!(fix("http://127.0.0.1:4000").fix, None);
    }

    #[test]
    fn a_tenant_of_another_cloud_is_a_warning() {
        let info = |instance: &str| discovery::TenantInfo {
            tenant_id: None,
            issuer: String::new(),
            cloud_instance: Some(instance.into()),
        };
        let global = app(Cloud::Global.authority());
        assert_eq!(other_cloud(&global, &info("microsoftonline.com")), None);
        let why = other_cloud(&global, &info("microsoftonline.us")).unwrap_or_default();
        assert!(why.contains(Cloud::UsGov.label()), "{why}");
        assert_eq!(
            other_cloud(&app(Cloud::UsGov.authority()), &info("microsoftonline.us")),
            None
        );
        assert_eq!(
            other_cloud(&app("http://127.0.0.1:1"), &info("microsoftonline.us")),
            None
        );
    }

    #[test]
    fn refusals_land_on_the_right_check() {
        let refusal = |codes: Vec<u64>, error: &str| {
            let mut list = Checklist::default();
            let ms = MsError {
                error: error.into(),
                error_description: Some(format!("AADSTS{}: x", codes[0])),
                error_codes: codes,
                timestamp: None,
                trace_id: None,
                correlation_id: None,
                error_uri: None,
                suberror: None,
            };
            credentials_refused(&mut list, &ms);
            list
        };
        let l = refusal(vec![7000222], "invalid_client");
        assert!(matches!(l.get(CheckItem::App), Some(Outcome::Passed { .. })));
        assert_eq!(l.field_to_fix(), Some(CredentialField::Secret));
        assert!(l.line().contains("✖ secret expired"), "{}", l.line());
        let l = refusal(vec![500011], "invalid_resource");
        assert!(l.passed() && l.unanswered(), "{l:?}");
        let l = refusal(vec![700016], "unauthorized_client");
        assert_eq!(l.field_to_fix(), Some(CredentialField::ClientId));
    }
}

#[cfg(test)]
mod wait_tests {
    use super::*;

    #[test]
    fn the_replication_wait_cuts_the_back_off_short() {
        let total = |o: PreflightOptions| o.backoff.iter().sum::<Duration>();
        assert!(
            PreflightOptions::just_created_within(Duration::ZERO)
                .backoff
                .is_empty()
        );
        assert_eq!(
            total(PreflightOptions::just_created_within(Duration::from_secs(60))),
            DEFAULT_BACKOFF.iter().sum::<Duration>()
        );
        let short = PreflightOptions::just_created_within(Duration::from_secs(10));
        assert!(short.just_created && total(short) <= Duration::from_secs(10));
    }
}
