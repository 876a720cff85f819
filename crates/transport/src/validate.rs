//! Client-side checks of the documented rules, run before any I/O.

use std::collections::HashSet;

use atoms_webhook_models::{ApiKey, EventType, HeadersUpdate};

use crate::error::ValidationError;

/// Most custom headers a webhook may have.
pub const MAX_HEADERS: usize = 10;

/// Longest custom header value, in characters.
pub const MAX_HEADER_VALUE_CHARS: usize = 1024;

/// Header names the API refuses as custom headers (compared case-insensitively).
pub const RESERVED_HEADERS: [&str; 6] = [
    "x-signature",
    "host",
    "content-length",
    "content-type",
    "connection",
    "transfer-encoding",
];

/// An id that goes into a path segment or the query: not empty, no `/`, no whitespace or
/// control characters, not `.` or `..`. The 24-hex ObjectId form is left to the server, which
/// answers "The provided Webhook ID is invalid." for it.
#[inline]
pub fn id(field: &str, id: &str) -> Result<(), ValidationError> {
    // The usual id, decided in one pass over its bytes: visible ASCII (no whitespace, no
    // control characters), no `/`, and not a dot segment. Anything else takes the checks
    // of `check_id_in_full`, which say what is wrong.
    if !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
        && id != "."
        && id != ".."
    {
        return Ok(());
    }
    check_id_in_full(field, id)
}

#[cold]
#[inline(never)]
fn check_id_in_full(field: &str, id: &str) -> Result<(), ValidationError> {
    if id.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if id.contains('/') {
        return Err(ValidationError::new(field, "must not contain '/'"));
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ValidationError::new(
            field,
            "must not contain whitespace or control characters",
        ));
    }
    if id == "." || id == ".." {
        return Err(ValidationError::new(field, "must not be '.' or '..'"));
    }
    Ok(())
}

/// A call id of the documented form `CALL-{13-digit epoch milliseconds}-{6 hex}`
/// (`CALL-1737000000000-abc123`). Anything else is refused before any I/O: the API answers
/// `400 Invalid call ID format` for it (a log's Mongo `_id`, for instance).
pub fn call_id(field: &str, id: &str) -> Result<(), ValidationError> {
    let ok = id.strip_prefix("CALL-").is_some_and(|rest| {
        let b = rest.as_bytes();
        b.len() == 13 + 1 + 6
            && b[..13].iter().all(u8::is_ascii_digit)
            && b[13] == b'-'
            && b[14..].iter().all(u8::is_ascii_hexdigit)
    });
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "must have the form CALL-{13-digit epoch milliseconds}-{6 hex characters}",
        ))
    }
}

/// An absolute `http` or `https` URL with a host.
pub fn http_url(field: &str, value: &str) -> Result<url::Url, ValidationError> {
    let url = url::Url::parse(value).map_err(|e| {
        ValidationError::new(field, format!("must be an absolute http(s) URL ({e})")).with_source(e)
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ValidationError::new(
            field,
            format!(
                "must be an absolute http(s) URL (scheme is `{}`)",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ValidationError::new(
            field,
            "must be an absolute http(s) URL with a host",
        ));
    }
    Ok(url)
}

/// The base URL: an absolute http(s) URL without query or fragment.
pub fn base_url(value: &str) -> Result<url::Url, ValidationError> {
    let url = http_url("base_url", value)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ValidationError::new(
            "base_url",
            "must not have a query or a fragment",
        ));
    }
    Ok(url)
}

/// The API key: present and usable as a header value.
pub fn api_key(key: &ApiKey) -> Result<(), ValidationError> {
    if key.expose().trim().is_empty() {
        return Err(ValidationError::new("api_key", "must not be empty"));
    }
    // Never echo the key: only say what is wrong with it.
    if key.expose().bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(ValidationError::new(
            "api_key",
            "must not contain control characters or line breaks",
        ));
    }
    Ok(())
}

/// An event type must not be the empty string.
pub fn event_type(field: &str, e: &EventType) -> Result<(), ValidationError> {
    if e.as_str().trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    Ok(())
}

/// True for an RFC 7230 `token` (the form of a header name).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
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

/// The custom headers of an update: at most 10, names RFC 7230 tokens, not reserved, not
/// repeated, values at most 1024 characters without control characters.
pub fn headers(update: &HeadersUpdate) -> Result<(), ValidationError> {
    let HeadersUpdate::Replace(pairs) = update else {
        return Ok(());
    };
    if pairs.len() > MAX_HEADERS {
        return Err(ValidationError::new(
            "headers",
            format!(
                "at most {MAX_HEADERS} custom headers are allowed, got {}",
                pairs.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    for (name, value) in pairs {
        let field = format!("headers.{name}");
        if !is_token(name) {
            return Err(ValidationError::new(
                field,
                "header name must be an RFC 7230 token (letters, digits and !#$%&'*+-.^_`|~)",
            ));
        }
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(ValidationError::new(
                field,
                format!(
                    "`{name}` is reserved (reserved: {})",
                    RESERVED_HEADERS.join(", ")
                ),
            ));
        }
        if !seen.insert(lower) {
            return Err(ValidationError::new(
                field,
                "header name given twice (names are case-insensitive)",
            ));
        }
        let chars = value.chars().count();
        if chars > MAX_HEADER_VALUE_CHARS {
            return Err(ValidationError::new(
                field,
                format!("value is {chars} characters long, at most {MAX_HEADER_VALUE_CHARS} are allowed"),
            ));
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ValidationError::new(
                field,
                "value must not contain control characters or line breaks",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(pairs: &[(&str, &str)]) -> HeadersUpdate {
        HeadersUpdate::Replace(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn ids() {
        assert!(id("id", "64f0c0ffee0000000000abcd").is_ok());
        assert!(id("id", "not-hex-is-left-to-the-server").is_ok());
        for bad in ["", "a/b", "a b", "a\tb", "a\nb", ".", "..", " "] {
            let e = id("id", bad).unwrap_err();
            assert_eq!(e.field(), "id", "{bad:?}");
        }
    }

    #[test]
    fn urls() {
        assert!(http_url("endpoint", "https://example.com/hook?x=1").is_ok());
        assert!(http_url("endpoint", "http://127.0.0.1:9/").is_ok());
        for bad in [
            "",
            "example.com/hook",
            "/relative",
            "ftp://example.com",
            "mailto:a@b.c",
            "file:///etc/passwd",
            "http://",
        ] {
            let e = http_url("endpoint", bad).unwrap_err();
            assert!(e.to_string().contains("absolute http(s) URL"), "{bad}: {e}");
        }
        assert!(base_url("https://api.smallest.ai/atoms/v1/").is_ok());
        assert!(base_url("https://api.smallest.ai/atoms/v1?x=1").is_err());
        assert!(base_url("https://api.smallest.ai/#frag").is_err());
    }

    #[test]
    fn header_rules() {
        assert!(headers(&HeadersUpdate::Keep).is_ok());
        assert!(headers(&HeadersUpdate::Clear).is_ok());
        assert!(headers(&replace(&[
            ("X-Token", "abc"),
            ("Authorization", "Bearer x")
        ]))
        .is_ok());

        let eleven: Vec<(String, String)> =
            (0..11).map(|i| (format!("X-H{i}"), "v".into())).collect();
        let e = headers(&HeadersUpdate::Replace(eleven)).unwrap_err();
        assert!(e.message().contains("at most 10"), "{e}");
        let ten: Vec<(String, String)> = (0..10).map(|i| (format!("X-H{i}"), "v".into())).collect();
        assert!(headers(&HeadersUpdate::Replace(ten)).is_ok());

        let long = "é".repeat(1025);
        let e = headers(&replace(&[("X-Long", &long)])).unwrap_err();
        assert_eq!(e.field(), "headers.X-Long");
        assert!(headers(&replace(&[("X-Ok", &"é".repeat(1024))])).is_ok());

        for name in ["X Bad", "X:Bad", "", "X(y)", "Ünï"] {
            let e = headers(&replace(&[(name, "v")])).unwrap_err();
            assert!(e.message().contains("RFC 7230"), "{name}: {e}");
        }
        for name in [
            "X-Signature",
            "HOST",
            "content-length",
            "Content-Type",
            "Connection",
            "Transfer-Encoding",
        ] {
            let e = headers(&replace(&[(name, "v")])).unwrap_err();
            assert!(e.message().contains("reserved"), "{name}: {e}");
        }
        let e = headers(&replace(&[("X-A", "1"), ("x-a", "2")])).unwrap_err();
        assert!(e.message().contains("twice"), "{e}");
        let e = headers(&replace(&[("X-A", "a\r\nInjected: 1")])).unwrap_err();
        assert!(e.message().contains("control"), "{e}");
    }

    #[test]
    fn api_keys() {
        assert!(api_key(&ApiKey::new("sk-1")).is_ok());
        assert!(api_key(&ApiKey::new("")).is_err());
        let e = api_key(&ApiKey::new("sk-secret\n")).unwrap_err();
        assert!(!e.to_string().contains("sk-secret"));
    }
}
