//! One module per fuzz target; `fuzz_targets/<name>.rs` calls `<name>::run`.

pub mod app_conf;
pub mod configs;
pub mod cookie_open;
pub mod manager_config;
pub mod request_cookie;
pub mod session_id;
pub mod stored_session;
