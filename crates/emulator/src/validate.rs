//! Input rules of the API that do not depend on state: endpoint URLs and custom headers.

use serde_json::{Map, Value};

/// At most this many custom headers per webhook.
pub(crate) const MAX_HEADERS: usize = 10;
/// A header value may have at most this many characters.
pub(crate) const MAX_HEADER_VALUE_CHARS: usize = 1024;
/// Header names a webhook may not set (compared case-insensitively): the platform sets them.
pub(crate) const RESERVED_HEADERS: [&str; 6] = [
    "x-signature",
    "host",
    "content-length",
    "content-type",
    "connection",
    "transfer-encoding",
];

/// The message for an endpoint that is not an absolute http(s) URL.
pub(crate) const MSG_BAD_ENDPOINT: &str =
    "endpoint must be an absolute http:// or https:// URL with a host";

/// True when `s` is an absolute `http` or `https` URL with a host, and no surrounding spaces.
pub(crate) fn is_http_url(s: &str) -> bool {
    if s.trim() != s {
        return false;
    }
    match url::Url::parse(s) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        }
        Err(_) => false,
    }
}

/// True when `name` is an RFC 7230 `token` (the grammar of a header field name).
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// True when `value` can be sent as a header value: no control characters other than
/// horizontal tab (a CR or LF would split the header).
fn is_header_value(value: &str) -> bool {
    value.chars().all(|c| c == '\t' || !c.is_control())
}

/// A header name for an error message: quoted, control characters escaped, long names cut.
pub(crate) fn shown(name: &str) -> String {
    const MAX: usize = 64;
    if name.chars().count() > MAX {
        let cut: String = name.chars().take(MAX).collect();
        format!("{cut:?}...")
    } else {
        format!("{name:?}")
    }
}

/// Checks a `headers` object of an update against every rule; the pairs in order, or one
/// message per violation. Values are never quoted in messages (they may be credentials).
pub(crate) fn headers(map: &Map<String, Value>) -> Result<Vec<(String, String)>, Vec<String>> {
    let mut errors = Vec::new();
    if map.len() > MAX_HEADERS {
        errors.push(format!(
            "headers: at most {MAX_HEADERS} custom headers are allowed, got {}",
            map.len()
        ));
    }
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(map.len());
    for (name, value) in map {
        let lower = name.to_ascii_lowercase();
        if !is_token(name) {
            errors.push(format!(
                "headers: {} is not a valid header name (it must be an RFC 7230 token)",
                shown(name)
            ));
        } else if RESERVED_HEADERS.contains(&lower.as_str()) {
            errors.push(format!(
                "headers: {} is a reserved header and cannot be set",
                shown(name)
            ));
        } else if pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            errors.push(format!(
                "headers: {} is given more than once (header names are case-insensitive)",
                shown(name)
            ));
        }
        match value {
            Value::String(v) => {
                if v.chars().count() > MAX_HEADER_VALUE_CHARS {
                    errors.push(format!(
                        "headers: the value of {} is longer than {MAX_HEADER_VALUE_CHARS} characters",
                        shown(name)
                    ));
                } else if !is_header_value(v) {
                    errors.push(format!(
                        "headers: the value of {} contains control characters",
                        shown(name)
                    ));
                }
                pairs.push((name.clone(), v.clone()));
            }
            _ => errors.push(format!(
                "headers: the value of {} must be a string",
                shown(name)
            )),
        }
    }
    if errors.is_empty() {
        Ok(pairs)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "https://example.com/hook",
            "http://127.0.0.1:9000/x?y=1",
            "https://[::1]/",
        ] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "",
            "example.com/hook",
            "/hook",
            "ftp://example.com/",
            "https://",
            "mailto:a@b.c",
            " https://example.com",
            "file:///etc/passwd",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }

    #[test]
    fn tokens() {
        assert!(is_token("X-Api-Key"));
        assert!(is_token("a!#$%&'*+-.^_`|~9"));
        for bad in ["", "a b", "a:b", "a\"b", "é", "a(b)", "a\r\nb"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn header_rules() {
        let m = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            headers(&m(serde_json::json!({"X-A": "1", "b": ""}))).unwrap(),
            vec![("X-A".into(), "1".into()), ("b".into(), "".into())]
        );
        let errs = headers(&m(serde_json::json!({
            "Host": "h", "bad name": "v", "x-n": 1, "x-long": "a".repeat(1025),
            "x-crlf": "a\r\nb", "X-Dup": "1", "x-dup": "2"
        })))
        .unwrap_err();
        assert_eq!(errs.len(), 6, "{errs:?}");
        assert!(!errs.iter().any(|e| e.contains("aaaa")));
        assert!(headers(&m(serde_json::json!({"x": "é".repeat(1024)}))).is_ok());
        let many: Map<String, Value> = (0..11)
            .map(|i| (format!("x-{i}"), Value::from("v")))
            .collect();
        assert_eq!(headers(&many).unwrap_err().len(), 1);
    }
}
