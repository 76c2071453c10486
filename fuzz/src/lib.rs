//! The fuzz targets' logic, one module per target under [`targets`], and what they share:
//! inputs with a password in a known place ([`secret`]), a capture of everything logged
//! ([`logs`]) and the harness every `providerConfig` parser runs under ([`provider`]).
//!
//! Each binary in `fuzz_targets/` is one line calling its `targets::*::run`. Besides "no
//! panic", every target asserts what its input promises: decoding round trips, a sealed
//! cookie opens to what was sealed and nothing else does, an id the manager returns passes
//! the id policy, a parsed configuration validates, and no error, log line or `Debug`
//! output holds a password the input carried.

pub mod logs;
pub mod provider;
pub mod secret;
pub mod targets;
