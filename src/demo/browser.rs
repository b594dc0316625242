//! Plays the user's browser against the stand-in sign-in service: opens the authorization
//! URL, presses "Sign in and accept" on its page, and follows the redirect to the app's
//! listener, exactly as a browser would. It talks to loopback addresses only.

use oauth2::reqwest;
use std::net::IpAddr;
use std::time::Duration;
use thiserror::Error;

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Error)]
pub enum BrowserError {
    #[error("{0} is not a loopback address; the demo browser visits only the stand-ins")]
    NotLoopback(String),
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("the sign-in service answered {status} instead of a redirect: {text}")]
    NoRedirect { status: u16, text: String },
}

/// The listener's answer at the end of a sign-in.
#[derive(Debug, Clone)]
pub struct Visit {
    pub status: u16,
    pub body: String,
}

fn client() -> Result<reqwest::Client, BrowserError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| BrowserError::Http {
            url: String::new(),
            message: chain(&e),
        })
}

/// Signs in at `auth_url` and visits the redirect, returning the listener's page.
pub async fn sign_in(auth_url: &str) -> Result<Visit, BrowserError> {
    visit(&authorize_redirect(auth_url).await?).await
}

/// GETs `url` (no redirects followed): where a browser goes after a sign-in redirect.
pub async fn visit(url: &str) -> Result<Visit, BrowserError> {
    let target = loopback(url)?;
    let resp = client()?.get(target).send().await.map_err(|e| http(url, &e))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| http(url, &e))?;
    Ok(Visit { status, body })
}

/// Signs in at `auth_url` and returns where the browser is sent next (the app's redirect
/// URI with `code` and `state`, or `error`), without going there: what a person would paste
/// back.
pub async fn authorize_redirect(auth_url: &str) -> Result<String, BrowserError> {
    let c = client()?;
    let url = loopback(auth_url)?;
    let resp = c.get(url.clone()).send().await.map_err(|e| http(auth_url, &e))?;
    if let Some(l) = location(&resp) {
        // Already signed in: the service redirects at once.
        return Ok(l);
    }
    let status = resp.status().as_u16();
    let page = resp.text().await.map_err(|e| http(auth_url, &e))?;
    // "Need admin approval" has no form, only the way back to the app: a person takes it.
    if let Some(back) = back_link(&page) {
        return Ok(back);
    }
    let Some(action) = form_action(&page) else {
        return Err(BrowserError::NoRedirect {
            status,
            text: first_words(&page),
        });
    };
    let target = url.join(&action).map_err(|e| BrowserError::Http {
        url: action.clone(),
        message: e.to_string(),
    })?;
    let target = loopback(target.as_str())?;
    let resp = c
        .post(target.clone())
        .form(&[("consent", "accept")])
        .send()
        .await
        .map_err(|e| http(target.as_str(), &e))?;
    match location(&resp) {
        Some(l) => Ok(l),
        None => Err(BrowserError::NoRedirect {
            status: resp.status().as_u16(),
            text: first_words(&resp.text().await.unwrap_or_default()),
        }),
    }
}

/// Enters `user_code` on the device-code page at `verification_uri`; returns the page text.
pub async fn enter_device_code(verification_uri: &str, user_code: &str) -> Result<String, BrowserError> {
    let c = client()?;
    let url = loopback(verification_uri)?;
    let resp = c
        .post(url)
        .form(&[("user_code", user_code)])
        .send()
        .await
        .map_err(|e| http(verification_uri, &e))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| http(verification_uri, &e))?;
    if status == 200 {
        Ok(text)
    } else {
        Err(BrowserError::NoRedirect {
            status,
            text: first_words(&text),
        })
    }
}

/// The demo's player of the person at the browser, given to the app: the sign-in key visits
/// the stand-in's pages through the functions above.
pub struct ScriptedUser;

impl crate::tui::app::stand_in::StandInUser for ScriptedUser {
    fn visit(
        &self,
        visit: crate::tui::state::cmd::StandInVisit,
    ) -> futures_util::future::BoxFuture<'static, Result<(), String>> {
        use crate::tui::state::cmd::StandInVisit;
        Box::pin(async move {
            let done = match visit {
                StandInVisit::Link(url) => sign_in(&url).await.map(drop),
                StandInVisit::DeviceCode { uri, user_code } => {
                    enter_device_code(&uri, &user_code).await.map(drop)
                }
            };
            done.map_err(|e| e.to_string())
        })
    }
}

fn location(resp: &reqwest::Response) -> Option<String> {
    resp.status()
        .is_redirection()
        .then(|| {
            resp.headers()
                .get(reqwest::header::LOCATION)?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .flatten()
}

/// The URL, if its host is a loopback address (`localhost` included).
fn loopback(raw: &str) -> Result<url::Url, BrowserError> {
    let url = url::Url::parse(raw).map_err(|e| BrowserError::Http {
        url: raw.to_string(),
        message: e.to_string(),
    })?;
    let ok = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    if ok && matches!(url.scheme(), "http" | "https") {
        Ok(url)
    } else {
        Err(BrowserError::NotLoopback(raw.chars().take(80).collect()))
    }
}

/// The `action` of the page's POST form, unescaped.
fn form_action(page: &str) -> Option<String> {
    let form = page.find("<form method=\"post\" action=\"")?;
    let rest = &page[form + "<form method=\"post\" action=\"".len()..];
    Some(unescape(&rest[..rest.find('"')?]))
}

/// The "Return to the application" link of a page that offers nothing else, unescaped.
fn back_link(page: &str) -> Option<String> {
    const BACK: &str = "<a id=\"back\" href=\"";
    if page.contains("<form") {
        return None;
    }
    let rest = &page[page.find(BACK)? + BACK.len()..];
    Some(unescape(&rest[..rest.find('"')?]))
}

fn unescape(raw: &str) -> String {
    raw.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The start of a page's text, tags dropped, for an error message.
fn first_words(page: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            // Page text goes to the screen: no control characters (escape sequences).
            c if !in_tag && !c.is_control() => out.push(c),
            _ if !in_tag => out.push(' '),
            _ => {}
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    words.join(" ").chars().take(300).collect()
}

fn http(url: &str, e: &reqwest::Error) -> BrowserError {
    BrowserError::Http {
        url: url.chars().take(80).collect(),
        message: chain(e),
    }
}

/// An error with its causes (reqwest's own message hides e.g. "connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_visited() {
        assert!(loopback("http://127.0.0.1:1/x").is_ok());
        assert!(loopback("http://localhost:1/x").is_ok());
        assert!(loopback("http://[::1]:1/x").is_ok());
        assert!(loopback("https://login.microsoftonline.com/x").is_err());
        assert!(loopback("file:///etc/passwd").is_err());
    }

    #[test]
    fn form_action_is_unescaped() {
        let page = "<form method=\"post\" action=\"/t/oauth2/v2.0/authorize?a=1&amp;b=2\">";
        assert_eq!(
            form_action(page).as_deref(),
            Some("/t/oauth2/v2.0/authorize?a=1&b=2")
        );
        assert_eq!(form_action("<p>no form</p>"), None);
    }

    #[test]
    fn the_way_back_is_taken_only_from_a_page_without_a_form() {
        let page = "<h1>Need admin approval</h1><p><a id=\"back\" href=\"http://localhost:1/c?error=access_denied&amp;state=s\">Return</a></p>";
        assert_eq!(
            back_link(page).as_deref(),
            Some("http://localhost:1/c?error=access_denied&state=s")
        );
        assert_eq!(
            back_link("<form method=\"post\" action=\"/x\"><a id=\"back\" href=\"/y\">"),
            None
        );
    }
}
