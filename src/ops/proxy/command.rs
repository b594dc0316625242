//! The few IMAP commands the proxy understands before login, parsed from bounded input.
//!
//! Hand-written: the proxy reads only CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN and
//! AUTHENTICATE PLAIN, with strings as atoms, quoted strings or literals. A full IMAP parser
//! (imap-proto, which async-imap uses, parses server responses, not client commands) would
//! accept far more than these must, and every byte here comes from an unauthenticated peer.

/// Longest command line before login: a LOGIN with long quoted strings fits many times over.
pub const MAX_LINE: usize = 8 * 1024;
/// Longest literal before login (a user name or password).
pub const MAX_LITERAL: usize = 8 * 1024;
/// Most tokens in one command (ID sends a list; everything else needs four).
pub const MAX_TOKENS: usize = 64;

/// One argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A bare word (command names, atoms, NIL, base64).
    Atom(String),
    /// A quoted string or a literal.
    Text(Vec<u8>),
    /// `(` or `)` of a list (ID's parameters).
    Paren,
}

impl Token {
    /// The bytes of a string argument (an atom counts, as `astring` allows).
    pub fn astring(&self) -> Option<&[u8]> {
        match self {
            Token::Atom(a) => Some(a.as_bytes()),
            Token::Text(t) => Some(t),
            Token::Paren => None,
        }
    }
}

/// A literal announced at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal {
    pub len: usize,
    /// `{n}`: the client waits for a `+` before sending the bytes.
    pub synchronizing: bool,
}

/// Why a line cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// An unterminated quoted string, a bad escape, a stray character.
    Syntax(&'static str),
    /// A literal longer than [`MAX_LITERAL`].
    LiteralTooLong(usize),
    TooManyTokens,
}

/// Splits one line (without its CRLF) into tokens, appending to `out`; returns the literal
/// the line announces at its end, if any (its bytes follow the line).
pub fn tokenize(line: &[u8], out: &mut Vec<Token>) -> Result<Option<Literal>, LineError> {
    let mut i = 0;
    while i < line.len() {
        if out.len() >= MAX_TOKENS {
            return Err(LineError::TooManyTokens);
        }
        match line[i] {
            b' ' => i += 1,
            b'(' | b')' => {
                out.push(Token::Paren);
                i += 1;
            }
            b'"' => {
                let mut text = Vec::new();
                i += 1;
                loop {
                    match line.get(i) {
                        None => return Err(LineError::Syntax("unterminated quoted string")),
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => match line.get(i + 1) {
                            Some(&c @ (b'"' | b'\\')) => {
                                text.push(c);
                                i += 2;
                            }
                            _ => return Err(LineError::Syntax("bad escape in a quoted string")),
                        },
                        Some(&c) => {
                            text.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Text(text));
            }
            b'{' => {
                let rest = &line[i + 1..];
                let close = rest
                    .iter()
                    .position(|&b| b == b'}')
                    .ok_or(LineError::Syntax("unterminated literal length"))?;
                if i + 1 + close + 1 != line.len() {
                    return Err(LineError::Syntax("a literal must end its line"));
                }
                let spec = &rest[..close];
                let (digits, synchronizing) = match spec.strip_suffix(b"+") {
                    Some(d) => (d, false),
                    None => (spec, true),
                };
                if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
                    return Err(LineError::Syntax("bad literal length"));
                }
                let len: usize = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .ok_or(LineError::Syntax("bad literal length"))?;
                if len > MAX_LITERAL {
                    return Err(LineError::LiteralTooLong(len));
                }
                return Ok(Some(Literal { len, synchronizing }));
            }
            _ => {
                let start = i;
                while i < line.len() && !matches!(line[i], b' ' | b'(' | b')' | b'"' | b'{') {
                    i += 1;
                }
                let word = &line[start..i];
                if word.iter().any(|b| b.is_ascii_control() || *b >= 0x80) {
                    return Err(LineError::Syntax(
                        "a control or non-ASCII character outside a string",
                    ));
                }
                out.push(Token::Atom(String::from_utf8_lossy(word).into_owned()));
            }
        }
    }
    Ok(None)
}

/// A command the proxy answers before login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Capability,
    Noop,
    Logout,
    Id,
    StartTls,
    Login {
        user: Vec<u8>,
        password: Vec<u8>,
    },
    /// `AUTHENTICATE PLAIN`, with its initial response (base64) when SASL-IR sent one.
    AuthenticatePlain {
        initial: Option<String>,
    },
    /// Anything else, or a known command with wrong arguments: `BAD` with this text.
    Bad(String),
}

/// A tag as RFC 9051 allows it (an atom without `+`).
pub fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 64
        && tag.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']' | b'+')
        })
}

/// Reads a whole command (tag already taken off).
pub fn parse(tokens: &[Token]) -> Command {
    let Some(Token::Atom(name)) = tokens.first() else {
        return Command::Bad("missing command".into());
    };
    let args = &tokens[1..];
    let name = name.to_ascii_uppercase();
    let none = |c: Command| {
        if args.is_empty() {
            c
        } else {
            Command::Bad(format!("{name} takes no arguments"))
        }
    };
    match name.as_str() {
        "CAPABILITY" => none(Command::Capability),
        "NOOP" => none(Command::Noop),
        "LOGOUT" => none(Command::Logout),
        "STARTTLS" => none(Command::StartTls),
        "ID" => Command::Id,
        "LOGIN" => match args {
            [user, password] => match (user.astring(), password.astring()) {
                (Some(u), Some(p)) => Command::Login {
                    user: u.to_vec(),
                    password: p.to_vec(),
                },
                _ => Command::Bad("LOGIN needs a user name and a password".into()),
            },
            _ => Command::Bad("LOGIN needs a user name and a password".into()),
        },
        "AUTHENTICATE" => match args {
            [Token::Atom(m)] if m.eq_ignore_ascii_case("PLAIN") => {
                Command::AuthenticatePlain { initial: None }
            }
            [Token::Atom(m), Token::Atom(ir)] if m.eq_ignore_ascii_case("PLAIN") => {
                Command::AuthenticatePlain {
                    initial: Some(ir.clone()),
                }
            }
            [Token::Atom(m), ..] => Command::Bad(format!(
                "AUTHENTICATE {} is not offered: use PLAIN or LOGIN with the proxy password",
                crate::sanitize::peer_text(m)
            )),
            _ => Command::Bad("AUTHENTICATE needs a mechanism".into()),
        },
        _ => Command::Bad(format!(
            "{} is not available before login (log in with LOGIN or AUTHENTICATE PLAIN first)",
            crate::sanitize::peer_text(&name)
        )),
    }
}

/// The user and password of a SASL PLAIN response (`authzid NUL authcid NUL passwd`), base64.
/// An authorization identity other than the user is refused: the proxy logs in as one server.
pub fn plain_response(b64: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let mut parts = raw.split(|&b| b == 0);
    let authz = parts.next()?;
    let user = parts.next()?;
    let password = parts.next()?;
    if parts.next().is_some() || user.is_empty() || (!authz.is_empty() && authz != user) {
        return None;
    }
    Some((user.to_vec(), password.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(line: &str) -> (Vec<Token>, Option<Literal>) {
        let mut out = Vec::new();
        let lit = tokenize(line.as_bytes(), &mut out).unwrap();
        (out, lit)
    }

    #[test]
    fn login_with_atoms_quoted_strings_and_literals() {
        let (t, lit) = toks(r#"LOGIN "Support inbox" "p\"w\\d""#);
        assert_eq!(lit, None);
        assert_eq!(
            parse(&t),
            Command::Login {
                user: b"Support inbox".to_vec(),
                password: br#"p"w\d"#.to_vec()
            }
        );
        let (mut t, lit) = toks("LOGIN user {5}");
        assert_eq!(
            lit,
            Some(Literal {
                len: 5,
                synchronizing: true
            })
        );
        t.push(Token::Text(b"s3cr3".to_vec()));
        assert!(matches!(parse(&t), Command::Login { .. }));
        assert_eq!(
            toks("LOGIN user {5+}").1,
            Some(Literal {
                len: 5,
                synchronizing: false
            })
        );
    }

    #[test]
    fn hostile_lines_are_errors_not_panics() {
        let mut out = Vec::new();
        assert!(tokenize(b"LOGIN \"open", &mut out).is_err());
        assert!(tokenize(b"LOGIN {99999999999}", &mut out).is_err());
        assert_eq!(
            tokenize(b"LOGIN {9000}", &mut Vec::new()),
            Err(LineError::LiteralTooLong(9000))
        );
        assert!(tokenize(b"LOGIN {5} trailing", &mut Vec::new()).is_err());
        assert!(tokenize(b"x \x1b[2J", &mut Vec::new()).is_err());
        assert_eq!(
            tokenize(" a".repeat(100).as_bytes(), &mut Vec::new()),
            Err(LineError::TooManyTokens)
        );
        assert!(matches!(parse(&toks("SELECT INBOX").0), Command::Bad(_)));
        assert!(matches!(
            parse(&toks("AUTHENTICATE XOAUTH2 abc").0),
            Command::Bad(_)
        ));
        assert!(matches!(parse(&toks("CAPABILITY x").0), Command::Bad(_)));
        assert!(!valid_tag("a+b") && !valid_tag("") && valid_tag("A001"));
    }

    #[test]
    fn sasl_plain_responses() {
        use base64::Engine as _;
        let enc = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            plain_response(&enc(b"\0user\0pw")),
            Some((b"user".to_vec(), b"pw".to_vec()))
        );
        assert_eq!(
            plain_response(&enc(b"user\0user\0pw")),
            Some((b"user".to_vec(), b"pw".to_vec()))
        );
        assert_eq!(plain_response(&enc(b"admin\0user\0pw")), None);
        assert_eq!(plain_response("not base64!"), None);
        assert_eq!(
            parse(&toks("AUTHENTICATE plain AGEAYg==").0),
            Command::AuthenticatePlain {
                initial: Some("AGEAYg==".into())
            }
        );
    }
}
