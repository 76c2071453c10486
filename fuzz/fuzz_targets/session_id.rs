//! Fuzz target: see `beego_session_fuzz::targets::session_id`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| beego_session_fuzz::targets::session_id::run(data));
