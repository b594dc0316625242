//! Property tests: the store round-trips whatever a person can type, and the parsers that
//! see untrusted input (store files, pasted addresses, id_tokens) never panic.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use inbound::model::{AuthKind, Config, Server, ServerState, ServerType};
use inbound::ops::paste::{self, Pasted};
use inbound::secret::Secret;
use inbound::services::oauth::idtoken;
use inbound::store::{Store, StoreError, parse_config, parse_token_file};
use proptest::prelude::*;
use std::path::Path;

fn server_strategy() -> impl Strategy<Value = Server> {
    (
        "[^\\x00-\\x1f]{1,40}",
        "[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,20}\\.[a-z]{2,6}",
        any::<u16>(),
        proptest::option::of(".{0,40}"),
        any::<bool>(),
    )
        .prop_map(|(name, username, port, password, confirmed)| Server {
            id: inbound::model::new_server_id(),
            name,
            server_type: ServerType::Imap,
            auth: AuthKind::Basic,
            host: "imap.example.com".into(),
            port,
            ssl: true,
            username,
            sign_in_as: None,
            app: None,
            password: password.map(Secret::new),
            ca_file: None,
            state: if confirmed {
                ServerState::Confirmed
            } else {
                ServerState::Draft
            },
            last_test: None,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_store_round_trips_every_server(servers in proptest::collection::vec(server_strategy(), 0..6)) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let mut unique = Vec::new();
        for s in servers {
            if !unique.iter().any(|u: &Server| u.name == s.name) {
                unique.push(s);
            }
        }
        store.update(|c| { c.servers = unique.clone(); Ok::<_, StoreError>(()) }).unwrap();
        let back = store.load().unwrap();
        prop_assert_eq!(back.servers, unique);
    }

    #[test]
    fn config_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_config(Path::new("config.json"), &bytes);
        let _ = parse_token_file(Path::new("t.json"), &bytes);
    }

    #[test]
    fn config_parsing_of_json_shaped_text_never_panics(text in "\\{\"schema\": ?1, ?\"(servers|apps)\": ?\\[(\\{\"name\": ?\"[a-zA-Z\\\\\"]{0,5}\"\\},?){0,4}\\]\\}") {
        let _ = parse_config(Path::new("config.json"), text.as_bytes());
    }

    #[test]
    fn pasted_addresses_never_panic(input in "\\PC{0,300}") {
        let _ = paste::parse(&input);
    }

    #[test]
    fn a_pasted_redirect_gives_back_its_code_and_state(
        code in "[A-Za-z0-9._~-]{1,200}",
        state in "[A-Za-z0-9_-]{1,60}",
        port in 1u16..,
        wrap in 0usize..40,
    ) {
        let url = format!("http://localhost:{port}/microsoft_outlook/confirm?code={code}&state={state}&session_state=x");
        // Terminals wrap long lines; a paste may carry the breaks.
        let pasted = if wrap > 0 && wrap < url.len() {
            let (a, b) = url.split_at(wrap);
            format!("{a}\n{b}")
        } else {
            url.clone()
        };
        match paste::parse(&pasted) {
            Ok(Pasted::Code { code: c, state: s, .. }) => {
                prop_assert_eq!(c, code);
                prop_assert_eq!(s.as_deref(), Some(state.as_str()));
            }
            other => prop_assert!(false, "{pasted:?} gave {other:?}"),
        }
    }

    #[test]
    fn id_token_decoding_never_panics(input in "\\PC{0,400}") {
        let _ = idtoken::account(&input);
    }

    #[test]
    fn id_tokens_give_back_their_account(account in "[^\\x00-\\x1f\"\\\\]{1,60}") {
        let payload = serde_json::json!({ "preferred_username": account, "tid": "t" }).to_string();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
        let jwt = format!("eyJhbGciOiJub25lIn0.{b64}.sig");
        prop_assert_eq!(idtoken::account(&jwt).unwrap(), account);
    }
}

#[test]
fn an_empty_config_is_the_default() {
    assert_eq!(
        parse_config(Path::new("c"), br#"{"schema": 1}"#).unwrap(),
        Config::default()
    );
}
