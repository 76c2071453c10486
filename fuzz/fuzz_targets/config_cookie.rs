//! Fuzz target: see `beego_session_fuzz::targets::configs::cookie`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| beego_session_fuzz::targets::configs::cookie(data));
