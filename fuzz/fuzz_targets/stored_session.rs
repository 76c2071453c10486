//! Fuzz target: see `beego_session_fuzz::targets::stored_session`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| beego_session_fuzz::targets::stored_session::run(data));
