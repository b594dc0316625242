//! Redirect URI matching as Entra does it (microsoft-facts §2): the sent URI must equal a
//! registered one in scheme, host and path (case-sensitive; a bare `http://localhost` has
//! the path `/`); the port is ignored only for loopback hosts, where native apps listen on
//! an ephemeral port.

/// The redirect URI every inbound registration registers (under Web, or under "Mobile and
/// desktop applications" for a public client).
pub fn default_registered() -> Vec<String> {
    vec![crate::model::LOOPBACK_REDIRECT_URI.to_string()]
}

/// The sent `redirect_uri` parsed, when it matches one of `registered`.
pub fn matching(registered: &[String], sent: &str) -> Option<url::Url> {
    let sent_url = url::Url::parse(sent).ok()?;
    registered
        .iter()
        .filter_map(|r| url::Url::parse(r).ok())
        .any(|r| same(&r, &sent_url))
        .then_some(sent_url)
}

fn same(registered: &url::Url, sent: &url::Url) -> bool {
    let loopback = matches!(sent.host_str(), Some("localhost" | "127.0.0.1")) && sent.scheme() == "http";
    registered.scheme() == sent.scheme()
        && registered.host_str() == sent.host_str()
        && registered.path() == sent.path()
        && registered.query() == sent.query()
        && (loopback || registered.port_or_known_default() == sent.port_or_known_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_of_a_loopback_redirect_is_ignored_but_its_path_is_compared() {
        let reg = default_registered();
        assert!(matching(&reg, "http://localhost:8400/microsoft_outlook/confirm").is_some());
        assert!(matching(&reg, "http://localhost/microsoft_outlook/confirm").is_some());
        assert!(matching(&reg, "http://localhost:8400/").is_none());
        assert!(matching(&reg, "http://localhost:8400/microsoft_outlook/Confirm").is_none());
        assert!(matching(&reg, "http://127.0.0.1:8400/microsoft_outlook/confirm").is_none());
        let bare = vec!["http://localhost".to_string()];
        assert!(matching(&bare, "http://localhost:8400/microsoft_outlook/confirm").is_none());
        assert!(matching(&bare, "http://localhost:8400").is_some());
        let https = vec!["https://mail.example.com/microsoft_outlook/confirm".to_string()];
        assert!(matching(&https, "https://mail.example.com/microsoft_outlook/confirm").is_some());
        assert!(matching(&https, "https://mail.example.com:8443/microsoft_outlook/confirm").is_none());
        assert!(matching(&https, "https://evil.example/microsoft_outlook/confirm").is_none());
    }
}
