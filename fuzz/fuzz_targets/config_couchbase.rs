//! Fuzz target: see `beego_session_fuzz::targets::configs::couchbase`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| beego_session_fuzz::targets::configs::couchbase(data));
