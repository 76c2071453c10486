//! `BENCHMARKS.md`: each binary rewrites its own section, between
//! `<!-- begin NAME -->` and `<!-- end NAME -->`, and leaves the rest of the file alone.

use std::fs;
use std::path::{Path, PathBuf};

/// The file's head, written when the file is new.
const HEAD: &str = "# Benchmarks\n\n\
Whole requests as a user sees them, through axum, written by `bench/peers` \
(`cargo xtask bench --peers`). Each section comes from one run of one binary and says \
its command and machine. The machine is a shared 2-core VM with other builds running (its \
load average is in each section): absolute wall-clock figures drift (2x from hour to hour), \
so only ratios between contenders measured in the same run, in alternating batches, mean \
anything. The steadiest figures are the thread CPU times of the in-process stores and the \
instruction counts under callgrind.\n";

/// The sections in the order a new file gets them.
pub const SECTIONS: [&str; 4] = ["side-by-side", "scale", "over-http", "profile"];

/// The repository's `BENCHMARKS.md`: `PEERS_BENCH_OUT` if set, else two levels above this
/// crate.
pub fn path() -> PathBuf {
    std::env::var_os("PEERS_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../BENCHMARKS.md"))
}

/// `text` with the section `name` replaced by `body` (added at its place when missing).
pub fn replace_section(text: &str, name: &str, body: &str) -> String {
    let begin = format!("<!-- begin {name} -->");
    let end = format!("<!-- end {name} -->");
    let block = format!("{begin}\n{}\n{end}", body.trim_end());
    if let (Some(start), Some(stop)) = (text.find(&begin), text.find(&end)) {
        if start < stop {
            return format!("{}{block}{}", &text[..start], &text[stop + end.len()..]);
        }
    }
    // Missing: put it before the first later section that exists, else at the end.
    let position = SECTIONS
        .iter()
        .position(|s| *s == name)
        .unwrap_or(SECTIONS.len());
    let next = SECTIONS[position.saturating_add(1).min(SECTIONS.len())..]
        .iter()
        .find_map(|later| text.find(&format!("<!-- begin {later} -->")));
    match next {
        Some(at) => format!("{}{block}\n\n{}", &text[..at], &text[at..]),
        None => format!("{}\n\n{block}\n", text.trim_end()),
    }
}

/// Rewrites section `name` of [`path`] with `body`.
pub fn write_section(name: &str, body: &str) -> std::io::Result<PathBuf> {
    let path = path();
    let text = fs::read_to_string(&path).unwrap_or_else(|_| HEAD.to_owned());
    fs::write(&path, replace_section(&text, name, body))?;
    Ok(path)
}

/// A Markdown table.
pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

/// Nanoseconds with thousands separators: `2,430`.
pub fn ns(value: f64) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_in_place_and_added_in_order() {
        let text = "# B\n";
        let text = replace_section(text, "over-http", "http 1");
        let text = replace_section(&text, "side-by-side", "sbs 1");
        assert!(text.find("sbs 1").unwrap() < text.find("http 1").unwrap());
        let text = replace_section(&text, "over-http", "http 2");
        assert!(text.contains("http 2") && !text.contains("http 1"));
        assert!(text.contains("sbs 1"));
        assert_eq!(text.matches("<!-- begin over-http -->").count(), 1);
        assert_eq!(ns(1234567.4), "1,234,567");
        assert_eq!(ns(890.0), "890");
    }
}
