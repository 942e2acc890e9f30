//! Fuzzes config.json parsing, validation and conversion (`hull::spec::from_json`):
//! whatever the bytes, no panic, and every rejection is a clear error that names a
//! field (or says the document is not JSON).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bundle = std::env::temp_dir();
    if let Err(e) = hull::spec::from_json(data, &bundle) {
        let text = e.to_string();
        assert!(!text.is_empty());
        assert!(!text.contains('\n'), "an error is one line: {text:?}");
    }
});
