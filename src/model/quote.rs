//! Quoting for the lines we print for someone to paste into a shell: Exchange Online
//! PowerShell (`exchange-setup`, the app's Exchange step, the diagnosis of a refused app-only
//! login), the setup scripts (bash and PowerShell) and the `inbound …` commands in hints.
//! Every value that goes into such a line goes through this module, and nowhere else.
//!
//! Written by hand: the shell-quoting crates quote for POSIX sh only, and none knows that
//! PowerShell takes five characters as a single quote.

/// The characters PowerShell's tokenizer takes as a single quote: the ASCII apostrophe and
/// the four typographic ones (the PowerShell language specification's `single-quote-character`).
pub const POWERSHELL_SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// True for any of PowerShell's five single-quote characters.
pub fn is_powershell_quote(c: char) -> bool {
    POWERSHELL_SINGLE_QUOTES.contains(&c)
}

/// A PowerShell verbatim (single-quoted) string: nothing inside expands, and a single-quote
/// character, whichever of the five, is doubled (two in a row are one literal quote).
pub fn powershell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if is_powershell_quote(c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A POSIX sh / bash single-quoted word: nothing inside expands; a `'` ends the quoting, is
/// given escaped, and the quoting starts again (`'\''`).
pub fn posix(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// An argument of an `inbound …` command shown in a hint (a server or app name): in double
/// quotes as people write it when nothing inside is special to the shell there, otherwise
/// single-quoted as [`posix`], so that pasting the hint runs exactly that command.
pub fn arg(s: &str) -> String {
    let special = |c: char| matches!(c, '"' | '$' | '`' | '\\' | '!') || c.is_control();
    if s.is_empty() || s.chars().any(special) {
        posix(s)
    } else {
        format!("\"{s}\"")
    }
}

/// A word of a hint that is usually plain (a mail address from a sign-in): as it is when
/// every character is plain, otherwise single-quoted as [`posix`].
pub fn word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@._+-=:/,%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        posix(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value that ends a naively quoted PowerShell string with a typographic quote.
    const HOSTILE_OID: &str =
        "x\u{2019}; Remove-Mailbox -Identity ceo@contoso.com -Confirm:$false; \u{2018}y";

    /// Reads one PowerShell single-quoted string at the start of `s` as the tokenizer does;
    /// returns its value and what follows it.
    fn powershell_read(s: &str) -> (String, &str) {
        let mut chars = s.char_indices().peekable();
        assert_eq!(chars.next().map(|(_, c)| is_powershell_quote(c)), Some(true));
        let mut value = String::new();
        while let Some((i, c)) = chars.next() {
            if is_powershell_quote(c) {
                match chars.peek() {
                    Some(&(_, n)) if is_powershell_quote(n) => {
                        value.push(n);
                        chars.next();
                    }
                    _ => return (value, &s[i + c.len_utf8()..]),
                }
            } else {
                value.push(c);
            }
        }
        panic!("unterminated string in {s:?}");
    }

    #[test]
    fn powershell_doubles_all_five_quotes() {
        for q in POWERSHELL_SINGLE_QUOTES {
            let v = format!("a{q}b");
            assert_eq!(powershell(&v), format!("'a{q}{q}b'"));
        }
        let quoted = powershell(HOSTILE_OID);
        let line = format!("{quoted} -AccessRights FullAccess");
        let (value, rest) = powershell_read(&line);
        assert_eq!(
            rest, " -AccessRights FullAccess",
            "the string ended early: {quoted}"
        );
        // The value read back keeps one of each pair: the typographic quotes come back as the
        // tokenizer's literal quote characters, never as the end of the string.
        assert_eq!(value.chars().count(), HOSTILE_OID.chars().count());
        assert_eq!(powershell_read(&powershell("o\u{2019}brien@contoso.com")).1, "");
        assert_eq!(powershell("Contoso's mail"), "'Contoso''s mail'");
    }

    #[test]
    fn posix_quotes_survive_a_real_shell() {
        let hostile = "https://x.example/';touch /tmp/x;'$(id)`id`\"\\";
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", posix(hostile)))
            .output()
            .expect("sh runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout), hostile);
    }

    #[test]
    fn hint_arguments_stay_readable_and_safe() {
        assert_eq!(arg("Support inbox"), "\"Support inbox\"");
        assert_eq!(arg("O\u{2019}Brien"), "\"O\u{2019}Brien\"");
        assert_eq!(arg("x$(rm -rf ~)"), "'x$(rm -rf ~)'");
        assert_eq!(arg("it's \"q\""), "'it'\\''s \"q\"'");
        assert_eq!(arg(""), "''");
        assert_eq!(word("support@contoso.com"), "support@contoso.com");
        assert_eq!(word("a;rm -rf ~@x.com"), "'a;rm -rf ~@x.com'");
    }
}
