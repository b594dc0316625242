//! Arguments turned into the core's inputs: secrets read from stdin or a file, the auth kind.

use crate::cli::AuthArg;
use crate::model::AuthKind;
use crate::ops::Error;
use crate::secret::Secret;
use std::path::Path;

pub(super) fn read_secret(stdin: bool, file: Option<&Path>, what: &str) -> Result<Option<Secret>, Error> {
    use crate::services::input::{self, Source};
    // Bounded: a secret is short, and `--secret-file /dev/zero` must not fill memory. A pipe
    // is fine (`--secret-file <(pass show …)` keeps it off the disk) but is waited on for a
    // bounded time only, and one with nothing writing to it is refused at once.
    const MAX: u64 = 64 * 1024;
    let source = if stdin {
        Source::Stdin
    } else if let Some(path) = file {
        crate::model::validate::not_a_setup_code(
            crate::model::validate::Field::Secret,
            &path.to_string_lossy(),
        )?;
        Source::Path(path)
    } else {
        return Ok(None);
    };
    let bytes = input::read_all(source, MAX, "a secret", input::PIPE_WAIT).map_err(|e| {
        Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Secret,
            format!("reading the {what}: {e}"),
        ))
    })?;
    let s = String::from_utf8(bytes).map_err(|_| {
        Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Secret,
            format!("the {what} read is not text"),
        ))
    })?;
    let text = s;
    let trimmed = text.trim_end_matches(['\r', '\n']).to_string();
    if trimmed.is_empty() {
        return Err(Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Secret,
            format!("the {what} read was empty"),
        )));
    }
    Ok(Some(Secret::new(trimmed)))
}

pub(super) fn auth_kind(a: AuthArg) -> AuthKind {
    match a {
        AuthArg::Oauth2 => AuthKind::OAuth2,
        AuthArg::Oauth2App => AuthKind::OAuth2App,
        AuthArg::Basic => AuthKind::Basic,
    }
}
