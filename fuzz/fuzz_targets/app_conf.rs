//! Fuzz target: see `beego_session_fuzz::targets::app_conf`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| beego_session_fuzz::targets::app_conf::run(data));
