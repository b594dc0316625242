//! Store files are read from disk that anyone with access may have edited.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = inbound::store::parse_config(Path::new("config.json"), data);
    let _ = inbound::store::parse_token_file(Path::new("token.json"), data);
});
