//! The data cookie's name and attributes, taken from the manager's configuration so it
//! travels exactly like the session-id cookie.

use cookie::Cookie;
use session_core::{is_valid_cookie_name, ConfigError, CookieAttributes, ManagerConfig};

use crate::config::CookieConfig;
use crate::ENGINE;

/// Name and attributes of the data cookie.
#[derive(Debug, Clone)]
pub(crate) struct CookieSettings {
    pub name: String,
    attributes: CookieAttributes,
}

/// The data cookie's name when none is configured, or when the configured one is the
/// session-id cookie's.
fn derived_name(manager: &ManagerConfig) -> String {
    format!("{}-data", manager.cookie_name)
}

impl CookieSettings {
    pub(crate) fn new(manager: &ManagerConfig, config: &CookieConfig) -> Result<Self, ConfigError> {
        let name = match &config.cookie_name {
            // beego's cookie engine writes the session into the id cookie itself, so every
            // beego configuration of it names the manager's cookie here. Accepted as is;
            // the two cookies must not clobber each other, so the data gets its own.
            Some(name) if *name == manager.cookie_name => {
                let derived = derived_name(manager);
                tracing::info!(
                    engine = ENGINE,
                    session_cookie = %name,
                    data_cookie = %derived,
                    "providerConfig `cookieName` is the session-id cookie's name (as in beego's \
                     configurations); the session data travels in a cookie of its own"
                );
                derived
            }
            Some(name) => name.clone(),
            None => derived_name(manager),
        };
        if !is_valid_cookie_name(&name) {
            return Err(ConfigError::provider(
                ENGINE,
                format!("`cookieName` {name:?} is not a valid cookie name (visible ASCII, no separators)"),
            ));
        }
        let attributes = CookieAttributes::new(manager, manager.secure || config.secure);
        Ok(CookieSettings { name, attributes })
    }

    /// The data cookie carrying `value`; with a max age it has both `Max-Age` and `Expires`,
    /// like the session-id cookie, and none for a browser-session cookie.
    pub(crate) fn data_cookie(
        &self,
        value: String,
        max_age: Option<std::time::Duration>,
    ) -> Cookie<'static> {
        self.attributes
            .clone()
            .with_max_age(max_age)
            .cookie(&self.name, value)
    }

    /// A cookie that makes the browser forget the data cookie.
    pub(crate) fn removal_cookie(&self) -> Cookie<'static> {
        self.attributes.removal(&self.name)
    }
}

/// The `Set-Cookie` header value for `cookie`, as it will be sent.
pub(crate) fn header_text(cookie: &Cookie<'_>) -> String {
    cookie.encoded().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::SameSite;

    fn keys() -> CookieConfig {
        // `openssl rand -base64 32`
        CookieConfig::with_keys(["V1P8ezFtER1bn02dXPty0Iz1Ir2m6LrHlA17TNHWCck="]).unwrap()
    }

    #[test]
    fn follows_the_manager_attributes() {
        let manager = ManagerConfig {
            domain: "example.com".into(),
            secure: true,
            cookie_same_site: SameSite::Strict,
            cookie_life_time: 120,
            ..ManagerConfig::default()
        };
        let s = CookieSettings::new(&manager, &keys()).unwrap();
        assert_eq!(s.name, "beegosessionID-data");
        let text =
            header_text(&s.data_cookie("v".into(), Some(std::time::Duration::from_secs(120))));
        for part in [
            "beegosessionID-data=v",
            "Path=/",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Domain=example.com",
            "Max-Age=120",
            "Expires=",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
        let gone = header_text(&s.removal_cookie());
        for part in [
            "beegosessionID-data=",
            "Max-Age=0",
            "Path=/",
            "Domain=example.com",
            "Secure",
        ] {
            assert!(gone.contains(part), "{part} missing from {gone}");
        }
    }

    #[test]
    fn provider_options_override_and_browser_session_cookies() {
        let manager = ManagerConfig {
            disable_http_only: true,
            cookie_same_site: SameSite::Unset,
            cookie_life_time: 120,
            ..ManagerConfig::default()
        };
        let mut c = keys();
        c.cookie_name = Some("sd".into());
        c.secure = true;
        c.max_age = Some(0);
        let text = header_text(
            &CookieSettings::new(&manager, &c)
                .unwrap()
                .data_cookie("v".into(), None),
        );
        assert!(
            text.starts_with("sd=v") && text.contains("Secure"),
            "{text}"
        );
        for absent in ["HttpOnly", "SameSite", "Max-Age", "Expires", "Domain"] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
    }

    #[test]
    fn the_session_cookies_name_gives_the_data_cookie_a_derived_one() {
        // beego's configuration: the provider's cookieName is the manager's.
        let manager = ManagerConfig {
            cookie_name: "gosessionid".into(),
            ..ManagerConfig::default()
        };
        let mut c = keys();
        c.cookie_name = Some("gosessionid".into());
        let s = CookieSettings::new(&manager, &c).unwrap();
        assert_eq!(s.name, "gosessionid-data");
        // The same as leaving it out.
        c.cookie_name = None;
        assert_eq!(CookieSettings::new(&manager, &c).unwrap().name, s.name);
    }

    #[test]
    fn name_must_be_valid() {
        let manager = ManagerConfig::default();
        for bad in ["a b", "", "x;y"] {
            let mut c = keys();
            c.cookie_name = Some(bad.into());
            let e = CookieSettings::new(&manager, &c).unwrap_err();
            assert!(
                matches!(e, ConfigError::Provider { .. }) && e.to_string().contains("cookieName"),
                "{e}"
            );
        }
    }
}
