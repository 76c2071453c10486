//! The engine registry: engines register a name at link time (Go's `import _ "…/redis"`
//! becomes `use session_redis as _;`), apps may add their own at run time.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};

use crate::error::{RegistryError, Result};
use crate::provider::{ProviderFuture, ProviderInit};

#[doc(hidden)]
pub use linkme as __linkme;

/// A link-time registration, placed in [`PROVIDERS`] by [`register_provider!`](crate::register_provider).
#[derive(Debug)]
pub struct Registration {
    /// The engine name apps pass to [`Manager::new`](crate::Manager::new).
    pub name: &'static str,
    /// The crate that provides it, for error messages.
    pub crate_name: &'static str,
    /// Builds a provider instance. Each manager gets its own.
    pub factory: fn(ProviderInit) -> ProviderFuture,
}

/// Every engine linked into the program.
#[linkme::distributed_slice]
pub static PROVIDERS: [Registration];

/// Registers an engine at link time. Put it in the engine crate, at module level:
///
/// ```ignore
/// session_core::register_provider!(MEMORY, "memory", "session-memory", |init| {
///     Box::pin(async move { Ok(Arc::new(MemoryProvider::from_init(&init)) as Arc<dyn Provider>) })
/// });
/// ```
///
/// The arguments, in order:
/// 1. a name for the `static` the macro defines (any identifier unique in the module, by
///    convention the engine name in capitals);
/// 2. the engine's name, as apps ask for it (`Manager::new("memory", …)`): lowercase
///    letters, digits, `_` and `-`; registering one name twice is an error at start-up;
/// 3. the crate's name, which the "no such engine" error suggests adding;
/// 4. the factory: a closure taking a [`ProviderInit`] and returning a [`ProviderFuture`]
///    that builds one provider instance (each manager gets its own). It is stored as a
///    plain `fn` pointer, so it **may capture nothing**: take everything from `init`
///    (`init.config`, `init.lifetimes`, `init.manager`). For a factory that needs state of
///    its own, register it at run time with [`register`] instead.
#[macro_export]
macro_rules! register_provider {
    ($static_name:ident, $name:literal, $crate_name:literal, $factory:expr) => {
        #[$crate::registry::__linkme::distributed_slice($crate::registry::PROVIDERS)]
        #[linkme(crate = $crate::registry::__linkme)]
        static $static_name: $crate::registry::Registration = $crate::registry::Registration {
            name: $name,
            crate_name: $crate_name,
            factory: $factory,
        };
    };
}

type DynFactory = Arc<dyn Fn(ProviderInit) -> ProviderFuture + Send + Sync>;

fn runtime() -> &'static RwLock<BTreeMap<String, DynFactory>> {
    static RUNTIME: OnceLock<RwLock<BTreeMap<String, DynFactory>>> = OnceLock::new();
    RUNTIME.get_or_init(Default::default)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Registers an engine of the app's own under `name` (beego's `session.Register`).
///
/// Fails when the name is taken, by a linked engine or an earlier call: names are never
/// silently overwritten.
///
/// ```
/// use std::sync::Arc;
/// # use session_core::{register, Provider};
/// # fn my_provider() -> Arc<dyn Provider> { unimplemented!() }
/// register("own", |_init| Box::pin(async move { Ok(my_provider()) })).unwrap();
/// assert!(register("own", |_init| Box::pin(async move { Ok(my_provider()) })).is_err());
/// ```
pub fn register<F>(name: &str, factory: F) -> Result<(), RegistryError>
where
    F: Fn(ProviderInit) -> ProviderFuture + Send + Sync + 'static,
{
    if !valid_name(name) {
        return Err(RegistryError::InvalidName(name.to_owned()));
    }
    if PROVIDERS.iter().any(|r| r.name == name) {
        return Err(RegistryError::Duplicate(name.to_owned()));
    }
    let mut map = runtime().write().unwrap_or_else(|e| e.into_inner());
    if map.contains_key(name) {
        return Err(RegistryError::Duplicate(name.to_owned()));
    }
    map.insert(name.to_owned(), Arc::new(factory));
    Ok(())
}

/// The names of every registered engine, sorted.
pub fn registered_engines() -> Vec<String> {
    let mut names: Vec<String> = PROVIDERS.iter().map(|r| r.name.to_owned()).collect();
    names.extend(
        runtime()
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned(),
    );
    names.sort();
    names.dedup();
    names
}

/// Finds the factory for `name` (case-insensitive, as beego's `"MySQL"` works too).
pub(crate) fn lookup(
    name: &str,
) -> Result<Arc<dyn Fn(ProviderInit) -> ProviderFuture + Send + Sync>, RegistryError> {
    let wanted = name.to_ascii_lowercase();
    let mut linked = PROVIDERS.iter().filter(|r| r.name == wanted);
    if let Some(first) = linked.next() {
        if let Some(second) = linked.next() {
            tracing::error!(
                engine = %wanted,
                first = first.crate_name,
                second = second.crate_name,
                "two linked crates register the same session engine name"
            );
            return Err(RegistryError::Duplicate(wanted));
        }
        let factory = first.factory;
        return Ok(Arc::new(factory));
    }
    if let Some(f) = runtime()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&wanted)
    {
        return Ok(Arc::clone(f));
    }
    let suggested_crate = suggested_crate(&wanted);
    Err(RegistryError::Unknown {
        name: name.to_owned(),
        registered: {
            let names = registered_engines();
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        },
        suggested_path: suggested_crate.replace('-', "_"),
        suggested_crate,
    })
}

/// The in-tree crate that provides `name`, or the naming convention's guess.
fn suggested_crate(name: &str) -> String {
    match name {
        "postgresql" | "postgres" => "session-postgres".to_owned(),
        "redis_cluster" | "redis_sentinel" | "redis" => "session-redis".to_owned(),
        other => format!("session-{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_engine_error_says_what_to_add() {
        let err = match lookup("redis_cluster") {
            Err(e) => e.to_string(),
            Ok(_) => panic!("redis_cluster is not linked into core's tests"),
        };
        assert!(err.contains("session-redis"), "{err}");
        assert!(err.contains("use session_redis as _;"), "{err}");
    }

    #[test]
    fn bad_names_are_rejected() {
        let f = |_init: ProviderInit| -> ProviderFuture { unreachable!() };
        assert!(matches!(
            register("Bad Name", f),
            Err(RegistryError::InvalidName(_))
        ));
        assert!(register("core-test-dup", f).is_ok());
        assert!(matches!(
            register("core-test-dup", f),
            Err(RegistryError::Duplicate(_))
        ));
        assert!(registered_engines().contains(&"core-test-dup".to_owned()));
    }
}
