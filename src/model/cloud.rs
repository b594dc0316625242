//! National clouds: each is a separate Entra ID with its own sign-in authority, and a separate
//! Exchange Online with its own IMAP host. Choosing one sets both together.
//!
//! Sources (Microsoft's own references):
//! * Authorities: "National clouds" (learn.microsoft.com/entra/identity-platform/
//!   authentication-national-cloud), table "Microsoft Entra authentication endpoints":
//!   `login.microsoftonline.com` (global), `login.microsoftonline.us` (Azure Government, which
//!   serves both GCC High and DoD), `login.partner.microsoftonline.cn` (operated by 21Vianet).
//! * IMAP hosts: the Office 365 endpoint lists (MicrosoftDocs/microsoft-365-docs,
//!   `microsoft-365/includes/office-365-u.s.-government-gcc-high-endpoints.md`: Exchange Online
//!   `outlook.office365.us` TCP 993; `…-dod-endpoints.md`: `outlook-dod.office365.us` TCP 993;
//!   `…-21vianet-endpoints.md`: `partner.outlook.cn`, `*.partner.outlook.cn`). The global host
//!   is microsoft-facts §3.3. The 21Vianet list names the host but not port 993, which we assume
//!   as everywhere else.
//! * The IMAP *scope*: Microsoft's IMAP/OAuth article documents only
//!   `https://outlook.office.com/IMAP.AccessAsUser.All`; it is silent on national clouds.
//!   Third-party clients use `https://outlook.office365.us/…` (GCC High and DoD) and
//!   `https://partner.outlook.cn/…` (21Vianet). Until Microsoft documents it we keep the
//!   global scope everywhere, as the docs say.
//! * GCC (moderate, not High) tenants live in the global cloud: they choose Global.

use serde::{Deserialize, Serialize};

/// Where a tenant lives. Serialised as [`Cloud::key`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, Default)]
pub enum Cloud {
    /// Microsoft 365 worldwide (including GCC).
    #[default]
    #[serde(rename = "global")]
    Global,
    /// Microsoft 365 US Government GCC High.
    #[serde(rename = "usgov")]
    UsGov,
    /// Microsoft 365 US Government DoD.
    #[serde(rename = "usgov-dod")]
    UsGovDod,
    /// Microsoft 365 operated by 21Vianet (China).
    #[serde(rename = "china")]
    China,
}

impl Cloud {
    pub const ALL: [Cloud; 4] = [Cloud::Global, Cloud::UsGov, Cloud::UsGovDod, Cloud::China];

    /// The sign-in authority (no trailing slash).
    pub fn authority(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.partner.microsoftonline.cn",
        }
    }

    /// Exchange Online's IMAP host (port 993, implicit TLS).
    pub fn imap_host(self) -> &'static str {
        match self {
            Cloud::Global => "outlook.office365.com",
            Cloud::UsGov => "outlook.office365.us",
            Cloud::UsGovDod => "outlook-dod.office365.us",
            Cloud::China => "partner.outlook.cn",
        }
    }

    /// The word on the command line (`--cloud usgov`) and in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::UsGov => "usgov",
            Cloud::UsGovDod => "usgov-dod",
            Cloud::China => "china",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Cloud::Global => "Global (worldwide, GCC)",
            Cloud::UsGov => "US Government (GCC High)",
            Cloud::UsGovDod => "US Government (DoD)",
            Cloud::China => "China (21Vianet)",
        }
    }

    /// `global`, `usgov`, `usgov-dod` or `china` (also a few spellings people use).
    pub fn parse(s: &str) -> Option<Cloud> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "global" | "worldwide" | "public" | "gcc" => Some(Cloud::Global),
            "usgov" | "us-gov" | "gcc-high" | "gcchigh" => Some(Cloud::UsGov),
            "usgov-dod" | "us-gov-dod" | "dod" => Some(Cloud::UsGovDod),
            "china" | "21vianet" | "cn" => Some(Cloud::China),
            _ => None,
        }
    }

    /// The cloud a stored authority belongs to; `None` for any other identity provider (a
    /// local stand-in, a standards-compliant server). US Government is one authority for
    /// GCC High and DoD, so it reads as GCC High; the IMAP host tells them apart.
    pub fn of_authority(authority: &str) -> Option<Cloud> {
        // As stored by inbound (every server of an app asks this): no URL to parse.
        let plain = authority.trim().trim_end_matches('/');
        if let Some(c) = Cloud::ALL.into_iter().find(|c| c.authority() == plain) {
            return Some(c);
        }
        let host = url::Url::parse(authority.trim())
            .ok()?
            .host_str()?
            .to_ascii_lowercase();
        Cloud::ALL.into_iter().find(|c| {
            url::Url::parse(c.authority())
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                == Some(host.clone())
        })
    }

    /// The cloud whose Exchange Online an IMAP host is, if it is one of them.
    pub fn of_imap_host(host: &str) -> Option<Cloud> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        Cloud::ALL.into_iter().find(|c| c.imap_host() == host)
    }

    /// Whether an app of this cloud can sign in to a server on `other`'s IMAP host (one
    /// Entra ID serves both US Government Exchange environments).
    pub fn same_directory(self, other: Cloud) -> bool {
        self.authority() == other.authority()
    }
}

impl std::fmt::Display for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_sets_authority_and_host_together() {
        assert_eq!(Cloud::default(), Cloud::Global);
        assert_eq!(Cloud::Global.authority(), crate::model::DEFAULT_AUTHORITY);
        assert_eq!(Cloud::Global.imap_host(), crate::model::DEFAULT_HOST);
        assert_eq!(Cloud::UsGov.imap_host(), "outlook.office365.us");
        assert_eq!(Cloud::UsGovDod.imap_host(), "outlook-dod.office365.us");
        assert_eq!(
            Cloud::China.authority(),
            "https://login.partner.microsoftonline.cn"
        );
        for c in Cloud::ALL {
            assert_eq!(Cloud::parse(c.key()), Some(c));
            assert_eq!(Cloud::of_imap_host(c.imap_host()), Some(c));
            assert!(crate::model::validate::authority(c.authority()).is_ok());
        }
    }

    #[test]
    fn authorities_are_recognised_and_others_are_not() {
        assert_eq!(
            Cloud::of_authority("https://login.microsoftonline.us/"),
            Some(Cloud::UsGov)
        );
        assert_eq!(
            Cloud::of_authority("https://LOGIN.partner.microsoftonline.cn"),
            Some(Cloud::China)
        );
        assert_eq!(Cloud::of_authority("http://127.0.0.1:4000"), None);
        assert_eq!(Cloud::of_authority("not a url"), None);
        assert_eq!(Cloud::parse("GCC_High"), Some(Cloud::UsGov));
        assert_eq!(Cloud::parse("mars"), None);
        assert!(Cloud::UsGov.same_directory(Cloud::UsGovDod));
        assert!(!Cloud::UsGov.same_directory(Cloud::Global));
    }

    #[test]
    fn stored_by_key() {
        for c in Cloud::ALL {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.key()));
        }
    }
}
