//! Fuzz target: see `beego_session_fuzz::targets::configs::file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| beego_session_fuzz::targets::configs::file(data));
