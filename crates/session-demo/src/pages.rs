//! The HTML pages: plain strings, every user-supplied value escaped.

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} - session demo</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}</style></head>\
         <body><h1>{title}</h1>\n{body}\n<hr><nav><a href=\"/\">counter</a> | \
         <a href=\"/login\">log in</a> | <a href=\"/sessions\">active sessions</a></nav></body></html>\n"
    )
}

/// beego's counter page: `count` is the value of `asta` before this visit; `remembered`
/// when the session lives by "remember me".
pub fn counter(count: u64, user: Option<&str>, remembered: bool, engine: &str) -> String {
    let remembered = if remembered {
        " <span id=\"remembered\">(remembered for 30 days)</span>"
    } else {
        ""
    };
    let who = match user {
        Some(name) => format!(
            "<p>Logged in as <b id=\"user\">{}</b>{remembered}.</p>\
             <form method=\"post\" action=\"/logout\"><button id=\"logout\" type=\"submit\">Log out</button></form>",
            escape(name)
        ),
        None => "<p id=\"anonymous\">Not logged in. <a id=\"login-link\" href=\"/login\">Log in</a></p>".to_owned(),
    };
    let body = format!(
        "<p>You have visited this page <span id=\"count\">{count}</span> time(s) before \
         (session key <code>asta</code>; reload to count).</p>\n{who}\n\
         <p>Session engine: <code id=\"engine\">{}</code></p>",
        escape(engine)
    );
    layout("Session counter", &body)
}

/// The login form, with an optional error message.
pub fn login(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p id=\"error\" style=\"color:#b00\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "{error}<form method=\"post\" action=\"/login\">\
         <label>User name <input id=\"name\" name=\"user\" maxlength=\"64\" autofocus></label> \
         <label><input id=\"remember\" type=\"checkbox\" name=\"remember\"> Remember me for 30 days</label> \
         <button id=\"login\" type=\"submit\">Log in</button></form>\
         <p>Logging in stores the name in the session and gives the session a new id.</p>"
    );
    layout("Log in", &body)
}

/// The active-sessions page; `None` when the engine cannot count.
pub fn sessions(active: Option<usize>, engine: &str) -> String {
    let count = match active {
        Some(n) => format!("<span id=\"active\">{n}</span>"),
        None => {
            "<span id=\"active\">unknown</span> (this engine cannot count its sessions)".to_owned()
        }
    };
    let body = format!(
        "<p>Active sessions in engine <code>{}</code>: {count}</p>",
        escape(engine)
    );
    layout("Active sessions", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert!(counter(1, Some("<script>"), false, "memory").contains("&lt;script&gt;"));
        assert!(login(Some("<b>")).contains("&lt;b&gt;"));
    }
}
