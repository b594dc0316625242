//! `inbound import FILE`: many servers at once from a CSV file (a header of `list --json` field
//! names) or the JSON `list --json` prints. Every row is checked as `add` checks it; a file with
//! any bad row imports nothing and names each bad row by its line and field. The good file is
//! written in one store transaction.

use crate::model::validate::Field;
use crate::model::{AuthKind, Config, Server};
use crate::ops::servers::{AppChoice, ServerInput, validate_server};
use crate::secret::Secret;
use crate::store::{Store, StoreError};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A file larger than this is no list of servers (and must not fill memory).
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// The columns a row may set (the `list --json` field names) and `password` for Basic.
const COLUMNS: [&str; 9] = [
    "name",
    "username",
    "host",
    "port",
    "ca_file",
    "app",
    "sign_in_as",
    "auth",
    "password",
];
/// Fields `list --json` prints that describe a stored server rather than set one: accepted, so
/// its output imports as it is, and ignored.
const OUTPUT_ONLY: [&str; 7] = [
    "server_type",
    "state",
    "ssl",
    "redirect_url",
    "last_test",
    "health",
    // The proxy's client settings: a local password is made per server, never imported.
    "proxy",
];

/// One bad field of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file the row starts on (the CSV header is line 1).
    pub line: usize,
    /// The column (`list --json` field name).
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.field, self.message)
    }
}

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is larger than {} MB: no list of servers is", path.display(), MAX_FILE / 1024 / 1024)]
    TooLarge { path: PathBuf },
    /// The file as a whole is not a list of servers (no header, broken JSON …).
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("{}: {} bad {}; nothing was imported", path.display(), rows.len(), if rows.len() == 1 { "field" } else { "fields" })]
    Rows { path: PathBuf, rows: Vec<RowError> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One row as read, before any check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub line: usize,
    pub fields: HashMap<&'static str, String>,
}

impl Row {
    fn get(&self, column: &str) -> Option<&str> {
        self.fields
            .get(column)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

/// What an import added (or, dry, would add).
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub servers: Vec<Server>,
    pub dry_run: bool,
}

/// Reads, checks and (unless `dry_run`) stores the servers of `path`.
pub fn import(store: &Store, path: &Path, dry_run: bool) -> Result<Imported, ImportError> {
    let text = read(path)?;
    let rows = parse(&text).map_err(|message| ImportError::Format {
        path: path.to_path_buf(),
        message,
    })?;
    let rows_error = |rows| ImportError::Rows {
        path: path.to_path_buf(),
        rows,
    };
    if dry_run {
        let config = store.load()?;
        let servers = plan(&config, &rows).map_err(rows_error)?;
        return Ok(Imported { servers, dry_run });
    }
    let servers = store.update(|config| {
        let servers = plan(config, &rows).map_err(rows_error)?;
        config.servers.extend(servers.iter().cloned());
        Ok::<_, ImportError>(servers)
    })?;
    Ok(Imported { servers, dry_run })
}

fn read(path: &Path) -> Result<String, ImportError> {
    use std::io::Read;
    let read_err = |source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut text = String::new();
    // One byte more than allowed tells a file at the limit from a larger one.
    file.take(MAX_FILE + 1)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    if text.len() as u64 > MAX_FILE {
        return Err(ImportError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// The rows of a CSV or JSON text (JSON when it starts with `[`).
pub fn parse(text: &str) -> Result<Vec<Row>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('[') {
        parse_json(text)
    } else {
        parse_csv(text)
    }
}

fn column(name: &str) -> Option<&'static str> {
    COLUMNS
        .iter()
        .find(|c| c.eq_ignore_ascii_case(name.trim()))
        .copied()
}

fn unknown_column(name: &str, line: usize) -> String {
    format!(
        "line {line}: unknown column \"{name}\"; the columns are the field names of the servers' JSON list: {}",
        COLUMNS.join(", ")
    )
}

fn parse_csv(text: &str) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| format!("line 1: not a CSV header: {e}"))?
        .clone();
    let mut columns = Vec::new();
    for name in header.iter() {
        match column(name) {
            Some(c) if columns.contains(&Some(c)) => {
                return Err(format!("line 1: the column \"{c}\" is named twice"));
            }
            Some(c) => columns.push(Some(c)),
            None if OUTPUT_ONLY.iter().any(|o| o.eq_ignore_ascii_case(name.trim())) => columns.push(None),
            None => return Err(unknown_column(name, 1)),
        }
    }
    for needed in ["name", "username"] {
        if !columns.contains(&Some(needed)) {
            return Err(format!(
                "line 1: the header has no \"{needed}\" column (a header of the JSON list's field names: name,username,app,…)"
            ));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.position() {
            Some(p) => format!("line {}: {e}", p.line()),
            None => e.to_string(),
        })?;
        let line = record.position().map_or(rows.len() + 2, |p| p.line() as usize);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let mut row = Row {
            line,
            fields: HashMap::new(),
        };
        if record.len() > columns.len() {
            return Err(format!(
                "line {line}: {} fields, but the header names {}",
                record.len(),
                columns.len()
            ));
        }
        for (value, col) in record.iter().zip(&columns) {
            if let Some(col) = col {
                row.fields.insert(col, value.to_string());
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The line each element of the top-level array starts on. serde_json keeps no positions for
/// the values it returns, so this walks the text once (strings and escapes respected).
fn element_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut line, mut depth, mut in_string, mut escaped) = (1usize, 0usize, false, false);
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => {
                if depth == 1 {
                    lines.push(line);
                }
                depth += 1;
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    lines
}

fn parse_json(text: &str) -> Result<Vec<Row>, String> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
        format!(
            "line {}: not the servers' JSON list (an array of servers): {e}",
            e.line()
        )
    })?;
    let lines = element_lines(text);
    let mut rows = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let Some(object) = value.as_object() else {
            return Err(format!("line {line}: element {} is not an object", i + 1));
        };
        let mut row = Row {
            line,
            fields: HashMap::new(),
        };
        for (key, value) in object {
            let Some(col) = column(key) else {
                if OUTPUT_ONLY.contains(&key.as_str()) {
                    continue;
                }
                return Err(unknown_column(key, line));
            };
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                // `list --json` prints the app as an object: its name is what a row refers to.
                serde_json::Value::Object(o) if col == "app" => match o.get("name") {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    _ => return Err(format!("line {line}: the app object has no name")),
                },
                other => other.to_string(),
            };
            row.fields.insert(col, text);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The column a field of the server form is read from.
fn column_of(field: Field) -> &'static str {
    match field {
        Field::Name => "name",
        Field::Username => "username",
        Field::SignInAs => "sign_in_as",
        Field::Host => "host",
        Field::Port => "port",
        Field::Password => "password",
        Field::CaFile => "ca_file",
        _ => "app",
    }
}

fn auth_of(value: Option<&str>) -> Result<AuthKind, String> {
    let Some(v) = value else {
        return Ok(AuthKind::OAuth2);
    };
    let v = v.to_ascii_lowercase();
    match v.as_str() {
        "oauth2.0" | "oauth2" => Ok(AuthKind::OAuth2),
        "oauth2.0 app-only" | "oauth2_app" | "app-only" => Ok(AuthKind::OAuth2App),
        "basic" => Ok(AuthKind::Basic),
        _ => Err("use OAuth2.0, OAuth2.0 app-only or Basic".into()),
    }
}

/// Checks every row against `config` and the rows before it: the servers to add, or every bad
/// field of every row.
pub fn plan(config: &Config, rows: &[Row]) -> Result<Vec<Server>, Vec<RowError>> {
    let scratch = Config {
        servers: Vec::new(),
        ..config.clone()
    };
    let existing: HashSet<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
    // Within the file, names also differ by more than case: two rows differing only in case
    // are surely one mailbox typed twice.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut errors = Vec::new();
    let mut servers = Vec::new();
    for row in rows {
        let err = |field: &'static str, message: String| RowError {
            line: row.line,
            field,
            message,
        };
        let mut row_errors = Vec::new();
        let auth = auth_of(row.get("auth")).unwrap_or_else(|m| {
            row_errors.push(err("auth", m));
            AuthKind::OAuth2
        });
        let app = row.get("app").map(|a| AppChoice::Existing(a.to_string()));
        if auth.is_oauth() && app.is_none() {
            row_errors.push(err(
                "app",
                "name a stored Azure app; import adds servers to apps you have".into(),
            ));
        }
        if auth == AuthKind::Basic && app.is_some() {
            row_errors.push(err(
                "app",
                "Basic authentication uses no Azure app: leave it empty".into(),
            ));
        }
        let password = row
            .get("password")
            // `list --json` masks passwords: a mask is no password.
            .filter(|p| !p.chars().all(|c| c == '•'))
            .map(Secret::new);
        let input = ServerInput {
            name: row.get("name").unwrap_or_default().to_string(),
            auth,
            host: row.get("host").unwrap_or(crate::model::DEFAULT_HOST).to_string(),
            port: row
                .get("port")
                .map_or_else(|| crate::model::DEFAULT_PORT.to_string(), str::to_string),
            username: row.get("username").unwrap_or_default().to_string(),
            sign_in_as: row.get("sign_in_as").map(str::to_string),
            app: if auth.is_oauth() { app } else { None },
            password,
            ca_file: row.get("ca_file").map(PathBuf::from),
        };
        let earlier = seen.get(&input.name.to_lowercase()).copied();
        // Servers are checked against the store alone (names below): the scratch config holds
        // no servers, so the name check of `validate_server` does not walk 10,000 each row.
        match validate_server(&input, &scratch) {
            Ok((server, _)) => {
                if let Some(first) = earlier {
                    row_errors.push(err(
                        "name",
                        format!("\"{}\" is also on line {first}", server.name),
                    ));
                } else if existing.contains(server.name.as_str()) {
                    row_errors.push(err(
                        "name",
                        format!("a server named \"{}\" already exists", server.name),
                    ));
                }
                if row_errors.is_empty() {
                    servers.push(server);
                }
            }
            Err(fields) => {
                for f in fields {
                    // The missing app is said once, in the import's words.
                    if auth.is_oauth() && row.get("app").is_none() && column_of(f.field) == "app" {
                        continue;
                    }
                    row_errors.push(err(column_of(f.field), f.message));
                }
            }
        }
        if earlier.is_none() && !input.name.trim().is_empty() {
            seen.insert(input.name.trim().to_lowercase(), row.line);
        }
        errors.extend(row_errors);
    }
    if errors.is_empty() {
        Ok(servers)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::testing;

    fn config() -> Config {
        testing::populated().config
    }

    #[test]
    fn csv_rows_become_drafts_with_defaults() {
        let rows = parse(
            "name,username,app\nDesk 1,desk1@contoso.com,Contoso mail\nDesk 2,desk2@contoso.com,Old app\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].line, 3);
        let servers = plan(&config(), &rows).unwrap();
        assert_eq!(servers[0].host, crate::model::DEFAULT_HOST);
        assert_eq!(servers[0].port, 993);
        assert_eq!(servers[1].app.as_deref(), Some("Old app"));
        assert_eq!(servers[1].state, crate::model::ServerState::Draft);
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_field() {
        let rows = parse(
            "name,username,port,app,auth\n\
             Good,good@contoso.com,993,Contoso mail,OAuth2.0\n\
             Bad port,p@contoso.com,99999,Contoso mail,\n\
             No app,x@contoso.com,,,\n\
             Good,again@contoso.com,,Contoso mail,\n\
             Support inbox,s@contoso.com,,Contoso mail,\n\
             Odd,o@contoso.com,,Nowhere,Kerberos\n",
        )
        .unwrap();
        let errors = plan(&config(), &rows).unwrap_err();
        let said: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            said,
            [
                (3, "port"),
                (4, "app"),
                (5, "name"),
                (6, "name"),
                (7, "auth"),
                (7, "app")
            ],
            "{errors:#?}"
        );
        assert!(errors[2].message.contains("also on line 2"), "{}", errors[2]);
        assert!(errors[3].message.contains("already exists"), "{}", errors[3]);
        assert_eq!(errors[0].to_string().split(':').next(), Some("line 3, port"));
    }

    #[test]
    fn json_as_list_prints_it_with_lines() {
        let text = r#"[
  {
    "name": "Desk \"1\" {x}",
    "server_type": "IMAP",
    "state": "Confirmed",
    "auth": "OAuth2.0",
    "host": "outlook.office365.com",
    "port": 993,
    "ssl": true,
    "username": "desk1@contoso.com",
    "sign_in_as": null,
    "password": null,
    "ca_file": null,
    "app": { "name": "Contoso mail", "client_id": "x" },
    "last_test": null,
    "health": { "level": "OK" }
  },
  {
    "name": "Legacy 2",
    "auth": "Basic",
    "username": "old2@contoso.com",
    "password": "••••••••"
  }
]"#;
        let rows = parse(text).unwrap();
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 18]);
        assert_eq!(rows[0].get("app"), Some("Contoso mail"));
        let errors = plan(&config(), &rows).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!((errors[0].line, errors[0].field), (18, "password"));
    }

    #[test]
    fn whole_file_problems_say_where() {
        assert!(
            parse("name,mailbox\n")
                .unwrap_err()
                .contains("unknown column \"mailbox\"")
        );
        assert!(
            parse("username\nx@y\n")
                .unwrap_err()
                .contains("no \"name\" column")
        );
        assert!(parse("[ {\"name\": 1,, } ]").unwrap_err().starts_with("line 1"));
        assert!(parse("name,username\na,b,c\n").unwrap_err().starts_with("line 2"));
        assert_eq!(parse("name,username\n").unwrap(), Vec::new());
    }
}
