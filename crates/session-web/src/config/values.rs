//! How beego reads a value as a boolean or a number, and what its numbers mean.

use session_core::SameSite;

use super::keys::Kind;

/// The spellings beego's `ParseBool` reads as true (core/config/config.go:322).
const TRUE: &[&str] = &[
    "1", "t", "T", "true", "TRUE", "True", "YES", "yes", "Yes", "Y", "y", "ON", "on", "On",
];
/// The spellings beego's `ParseBool` reads as false (core/config/config.go:324).
const FALSE: &[&str] = &[
    "0", "f", "F", "false", "FALSE", "False", "NO", "no", "No", "N", "n", "OFF", "off", "Off",
];

/// beego's `ParseBool`: exactly these spellings, so `tRue` is not a boolean.
pub(crate) fn go_bool(value: &str) -> Option<bool> {
    if TRUE.contains(&value) {
        Some(true)
    } else if FALSE.contains(&value) {
        Some(false)
    } else {
        None
    }
}

/// Go's `strconv.ParseInt(value, 10, 64)` (ini.go:273): an optional sign and decimal digits,
/// nothing else.
pub(crate) fn go_int(value: &str) -> Option<i64> {
    value.parse().ok()
}

/// Why beego cannot read `value` as `kind`, for a warning (the value itself is quoted by the
/// caller, masked).
pub(crate) fn why_unreadable(kind: Kind, value: &str) -> String {
    let mut why = match kind {
        _ if value.is_empty() => "is empty".to_owned(),
        Kind::Bool => format!(
            "is not one of the booleans beego reads ({} / {})",
            TRUE.join(", "),
            FALSE.join(", ")
        ),
        Kind::Int => {
            "is not a whole number beego reads (decimal digits only: no arithmetic, units or spaces)"
                .to_owned()
        }
        Kind::Text => "is not readable".to_owned(),
    };
    if has_inline_comment(value) {
        why.push_str("; beego has no inline comments, so the `#`/`;` part is part of the value");
    }
    why
}

/// True when `value` holds what looks like a trailing comment (` # …` or ` ; …`).
pub(crate) fn has_inline_comment(value: &str) -> bool {
    value.contains(" #") || value.contains(" ;") || value.contains("\t#") || value.contains("\t;")
}

/// Go's `http.SameSite` numbers, as beego's `SessionCookieSameSite` holds them:
/// 1 `SameSiteDefaultMode` (no attribute), 2 lax, 3 strict, 4 none. 0 is Go's zero value,
/// "not set", and gives this library's default, Lax. Other numbers write no attribute in
/// Go; `None` for them.
pub(crate) fn same_site_from_go(number: i64) -> Option<SameSite> {
    match number {
        0 | 2 => Some(SameSite::Lax),
        1 => Some(SameSite::Unset),
        3 => Some(SameSite::Strict),
        4 => Some(SameSite::None),
        _ => None,
    }
}

/// The Go number for a SameSite name, for a hint.
pub(crate) fn same_site_number(name: &str) -> Option<u8> {
    match name.to_ascii_lowercase().as_str() {
        "default" => Some(1),
        "lax" => Some(2),
        "strict" => Some(3),
        "none" => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_are_beegos_spellings_only() {
        assert_eq!(go_bool("TRUE"), Some(true));
        assert_eq!(go_bool("Off"), Some(false));
        assert_eq!(go_bool("tRue"), None);
        assert_eq!(go_bool("1.0"), None);
        assert_eq!(go_bool(""), None);
    }

    #[test]
    fn numbers_are_go_parse_int() {
        assert_eq!(go_int("+60"), Some(60));
        assert_eq!(go_int("-1"), Some(-1));
        assert_eq!(go_int("3600 * 24"), None);
        assert_eq!(go_int("1_000"), None);
        assert_eq!(go_int("0x10"), None);
        assert_eq!(go_int(""), None);
    }

    #[test]
    fn same_site_numbers_are_gos() {
        assert_eq!(same_site_from_go(3), Some(SameSite::Strict));
        assert_eq!(same_site_from_go(1), Some(SameSite::Unset));
        assert_eq!(same_site_from_go(7), None);
        assert_eq!(same_site_number("Strict"), Some(3));
    }
}
