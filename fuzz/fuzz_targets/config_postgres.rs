//! Fuzz target: see `beego_session_fuzz::targets::configs::postgres`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| beego_session_fuzz::targets::configs::postgres(data));
