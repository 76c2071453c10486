//! Fuzz target: see `beego_session_fuzz::targets::manager_config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| beego_session_fuzz::targets::manager_config::run(data));
