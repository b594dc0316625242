//! An id_token comes from the token endpoint, a network peer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = inbound::services::oauth::idtoken::account(s);
    }
});
