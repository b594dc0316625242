//! Small types that messages, commands and the state of every screen share. They sit below
//! all of those, so none of them imports another for these.

use crate::model::validate::Field;
use crate::services::oauth::CredentialField;

/// Identifies one started piece of work; results of older runs are ignored.
pub type RunId = u64;

/// A field of the server form (the guide's steps type into some of them too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FieldId {
    Name,
    ServerType,
    Auth,
    Host,
    Port,
    Ssl,
    Username,
    /// The delegate who signs in to a shared mailbox (optional, OAuth2.0).
    SignInAs,
    App,
    Secret,
    ClientId,
    Tenant,
    Expires,
    /// National cloud: a choice that sets Authority and Server Name together.
    Cloud,
    Authority,
    Password,
    CaFile,
}

impl FieldId {
    pub fn label(self) -> &'static str {
        match self {
            FieldId::Name => "Name",
            FieldId::ServerType => "Server Type",
            FieldId::Auth => "Authentication",
            FieldId::Host => "Server Name",
            FieldId::Port => "Port",
            FieldId::Ssl => "SSL/TLS",
            FieldId::Username => "Username",
            FieldId::SignInAs => "Sign in as",
            FieldId::Cloud => "Cloud",
            FieldId::App => "Azure app",
            FieldId::Secret => "Secret",
            FieldId::ClientId => "Azure Client ID",
            FieldId::Tenant => "Tenant",
            FieldId::Expires => "Secret expires",
            FieldId::Authority => "Authority",
            FieldId::Password => "Password",
            FieldId::CaFile => "CA file",
        }
    }

    /// Fields shown but not editable.
    pub fn locked(self) -> bool {
        matches!(self, FieldId::ServerType | FieldId::Ssl)
    }

    pub fn is_choice(self) -> bool {
        matches!(self, FieldId::Auth | FieldId::App | FieldId::Cloud)
    }

    /// The field a credential the core names (pre-flight, a refused sign-in) is typed in.
    pub fn from_credential(f: CredentialField) -> FieldId {
        match f {
            CredentialField::ClientId => FieldId::ClientId,
            CredentialField::Tenant => FieldId::Tenant,
            CredentialField::Secret => FieldId::Secret,
        }
    }

    pub fn is_secret(self) -> bool {
        matches!(self, FieldId::Secret | FieldId::Password)
    }

    /// The field a core validation error belongs to.
    /// The core's field this form field sets (choices that cannot be wrong have none).
    pub fn core_field(self) -> Option<Field> {
        Some(match self {
            FieldId::Name => Field::Name,
            FieldId::Host => Field::Host,
            FieldId::Port => Field::Port,
            FieldId::Username => Field::Username,
            FieldId::SignInAs => Field::SignInAs,
            FieldId::App => Field::AzureApp,
            FieldId::ClientId => Field::ClientId,
            FieldId::Tenant => Field::Tenant,
            FieldId::Secret => Field::Secret,
            FieldId::Expires => Field::SecretExpires,
            FieldId::Authority => Field::Authority,
            FieldId::Password => Field::Password,
            FieldId::CaFile => Field::CaFile,
            _ => return None,
        })
    }

    pub fn from_core(field: Field) -> Option<FieldId> {
        Some(match field {
            Field::Name | Field::AppName => FieldId::Name,
            Field::Host => FieldId::Host,
            Field::Port => FieldId::Port,
            Field::Username => FieldId::Username,
            Field::SignInAs => FieldId::SignInAs,
            Field::AzureApp => FieldId::App,
            Field::ClientId => FieldId::ClientId,
            Field::Tenant => FieldId::Tenant,
            Field::Secret => FieldId::Secret,
            Field::SecretExpires => FieldId::Expires,
            Field::Authority => FieldId::Authority,
            Field::Password => FieldId::Password,
            Field::CaFile => FieldId::CaFile,
            _ => return None,
        })
    }
}
