//! `SessionData::decode` / `decode_stored` on any bytes.
//!
//! Asserts: what decodes re-encodes to bytes that decode to an equal session; a newer
//! format is `Error::NewerFormat` from `decode_stored` (never an empty session), anything
//! else that fails to decode is an empty session; the log never holds the session id.

use session_core::{Error, FormatError, SessionData, FORMAT_MAGIC, FORMAT_VERSION};

use crate::logs;

/// A session id as engines pass it: the log may only show its fingerprint.
const SID: &str = "0123456789abcdef0123456789abcdef";

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    logs::install();
    match SessionData::decode(data) {
        Ok(session) => {
            let encoded = session.encode();
            let again = SessionData::decode(&encoded)
                .unwrap_or_else(|e| panic!("re-encoded session does not decode: {e}"));
            assert_eq!(again, session, "decode(encode(decode(x))) differs");
            assert!(encoded.starts_with(&[FORMAT_MAGIC, FORMAT_VERSION]));
            let stored = SessionData::decode_stored(data, "fuzz", SID)
                .unwrap_or_else(|e| panic!("decode_stored fails where decode succeeds: {e}"));
            assert_eq!(stored, session);
        }
        Err(FormatError::Version(version)) => {
            assert!(data[0] == FORMAT_MAGIC && version > FORMAT_VERSION);
            match SessionData::decode_stored(data, "fuzz", SID) {
                Err(Error::NewerFormat { version: v, .. }) => assert_eq!(v, version),
                other => panic!("a newer format must fail the request, got {other:?}"),
            }
        }
        Err(_) => {
            let stored = SessionData::decode_stored(data, "fuzz", SID)
                .unwrap_or_else(|e| panic!("corrupt bytes must read as empty, got {e}"));
            assert!(stored.is_empty() && stored.meta() == Default::default());
        }
    }
    let log = logs::take();
    assert!(!log.contains(SID), "the log holds the session id: {log}");
}
