//! A pasted address is whatever the user's clipboard held.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = inbound::core::paste::parse(s);
        let _ = inbound::sanitize::peer_text(s);
    }
});
