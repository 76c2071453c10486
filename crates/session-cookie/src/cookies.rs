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

impl CookieSettings {
    pub(crate) fn new(manager: &ManagerConfig, config: &CookieConfig) -> Result<Self, ConfigError> {
        let name = config
            .cookie_name
            .clone()
            .unwrap_or_else(|| format!("{}-data", manager.cookie_name));
        if !is_valid_cookie_name(&name) {
            return Err(ConfigError::provider(
                ENGINE,
                format!("`cookieName` {name:?} is not a valid cookie name (visible ASCII, no separators)"),
            ));
        }
        if name == manager.cookie_name {
            return Err(ConfigError::provider(
                ENGINE,
                format!(
                    "`cookieName` {name:?} is also the manager's session-id cookie; the data \
                     cookie needs a name of its own (e.g. \"{name}-data\")"
                ),
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
        CookieConfig::with_keys(["k".repeat(32)]).unwrap()
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
    fn name_must_be_valid_and_differ_from_the_session_cookie() {
        let manager = ManagerConfig::default();
        for bad in ["beegosessionID", "a b", "", "x;y"] {
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
