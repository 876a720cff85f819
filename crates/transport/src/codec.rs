//! `build`: endpoint → `http::Request`; `decode`: `http::Response` → typed result.

use std::time::{Duration, SystemTime};

use atoms_webhook_models::{ApiErrorBody, ApiResponse, ParseError};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::uri::{Authority, Parts, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderValue, Request, Response, Uri};

use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::error::{ApiError, Error, ValidationError};

/// The `User-Agent` of every request: `atoms-webhook-rust/<version>`.
pub const USER_AGENT_VALUE: &str = concat!("atoms-webhook-rust/", env!("CARGO_PKG_VERSION"));

/// The longest body snippet kept in errors, in characters.
pub const SNIPPET_CHARS: usize = 200;

/// The full URL of a request: the base URL (with or without a trailing `/`, with any path
/// prefix) joined with the endpoint's path and query.
pub fn url<R: Endpoint + ?Sized>(base_url: &str, endpoint: &R) -> String {
    let mut url = String::with_capacity(base_url.len() + 64);
    url.push_str(base_url.trim_end_matches('/'));
    endpoint.write_path_and_query(&mut url);
    url
}

/// Validates `endpoint` and the configuration, then builds the HTTP request: URL, method,
/// `Authorization: Bearer` (marked sensitive), `User-Agent`, `Accept`, and the JSON body with
/// its `Content-Type`. No I/O. (A client builds through a [`Prepared`] it keeps, so that the
/// configuration is checked once, not on every request.)
///
/// ```
/// use atoms_webhook_transport::{build, Config, endpoint::GetWebhook};
/// let config = Config::new("sk-1").base_url("https://api.smallest.ai/atoms/v1/");
/// let req = build(&config, &GetWebhook::new("64f0c0ffee0000000000abcd"))?;
/// assert_eq!(
///     req.uri(),
///     "https://api.smallest.ai/atoms/v1/webhook?webhookId=64f0c0ffee0000000000abcd"
/// );
/// assert!(req.headers()["authorization"].is_sensitive());
/// # Ok::<(), atoms_webhook_transport::Error>(())
/// ```
pub fn build<R: Endpoint + ?Sized>(
    config: &Config,
    endpoint: &R,
) -> Result<Request<Vec<u8>>, Error> {
    Prepared::new(config)?.build(endpoint)
}

/// A [`Config`] checked once, with what every request repeats computed up front: the base URL
/// without its trailing `/` and the sensitive `Authorization` value. The clients keep one and
/// build each request from it ([`crate::Call::prepared`]).
///
/// ```
/// use atoms_webhook_transport::{Config, Prepared, endpoint::ListWebhooks};
/// let prepared = Prepared::new(&Config::new("sk-1").base_url("http://127.0.0.1:8080/"))?;
/// assert_eq!(prepared.build(&ListWebhooks::new())?.uri(), "http://127.0.0.1:8080/webhook");
/// # Ok::<(), atoms_webhook_transport::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Prepared {
    base_url: String,
    /// The headers of every request (`Authorization`, sensitive; `User-Agent`; `Accept`),
    /// and the same with `Content-Type` for a request with a body: copied per request instead
    /// of inserted (hashed, placed) one by one.
    headers: HeaderMap,
    headers_with_body: HeaderMap,
    /// The base URL's scheme, authority and path prefix (no trailing `/`), parsed once, so
    /// that a request parses only its own path and query; `None` when the http crate does
    /// not take the base URL (then each build parses the whole URL and reports why).
    base: Option<(Scheme, Authority, String)>,
}

/// `base_url` (no trailing `/`) as scheme, authority and path prefix, when it is an absolute
/// URI the http crate takes, without a query.
fn split_base(base_url: &str) -> Option<(Scheme, Authority, String)> {
    let parts = Uri::try_from(base_url).ok()?.into_parts();
    let (scheme, authority) = (parts.scheme?, parts.authority?);
    let prefix = match &parts.path_and_query {
        Some(pq) if pq.query().is_some() => return None,
        Some(pq) => pq.path().trim_end_matches('/').to_owned(),
        None => String::new(),
    };
    Some((scheme, authority, prefix))
}

impl Prepared {
    /// Validates `config` (as [`Config::validate`]) and prepares it.
    pub fn new(config: &Config) -> Result<Self, Error> {
        config.validate()?;
        let mut auth = HeaderValue::try_from(format!("Bearer {}", config.api_key.expose()))
            .map_err(|e| {
                ValidationError::new("api_key", "is not a valid header value").with_source(e)
            })?;
        auth.set_sensitive(true);
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut headers_with_body = headers.clone();
        headers_with_body.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(Self {
            base: split_base(&base_url),
            base_url,
            headers,
            headers_with_body,
        })
    }

    /// Validates `endpoint` and builds its request, as [`build`] does.
    pub fn build<R: Endpoint + ?Sized>(&self, endpoint: &R) -> Result<Request<Vec<u8>>, Error> {
        endpoint.validate()?;
        let body = endpoint.body().map_err(|e| {
            ValidationError::new("body", "could not be serialized as JSON").with_source(e)
        })?;
        let unusable = |e: http::Error| {
            // Only reachable with a base URL the url crate accepts and the http crate does not,
            // or a path an endpoint of the caller's wrote wrongly.
            Error::Validation(
                ValidationError::new("base_url", "could not be used to build a request")
                    .with_source(e),
            )
        };
        let uri = match &self.base {
            Some((scheme, authority, prefix)) => {
                let mut path = String::with_capacity(prefix.len() + 64);
                path.push_str(prefix);
                endpoint.write_path_and_query(&mut path);
                let mut parts = Parts::default();
                parts.scheme = Some(scheme.clone());
                parts.authority = Some(authority.clone());
                parts.path_and_query =
                    Some(PathAndQuery::try_from(path).map_err(|e| unusable(e.into()))?);
                Uri::from_parts(parts).map_err(|e| unusable(e.into()))?
            }
            None => Uri::try_from(url(&self.base_url, endpoint)).map_err(|e| unusable(e.into()))?,
        };
        // Set directly rather than through `Request::builder`, whose per-step `Result`
        // plumbing showed in the profile of a loopback call.
        let has_body = body.is_some();
        let mut request = Request::new(body.unwrap_or_default());
        *request.method_mut() = endpoint.method();
        *request.uri_mut() = uri;
        *request.headers_mut() = if has_body {
            self.headers_with_body.clone()
        } else {
            self.headers.clone()
        };
        Ok(request)
    }
}

/// Reads the answer to `endpoint` as [`decode`] does, then checks it against the request
/// ([`Endpoint::check`]: a by-id answer about another webhook is
/// [`Error::UnexpectedResponse`]). What a client should call. No I/O.
///
/// ```
/// use atoms_webhook_transport::{decode_for, endpoint::GetWebhook, Error};
/// let other = http::Response::builder()
///     .status(200)
///     .body(br#"{"status":true,"data":{"_id":"64f0c0ffee00000000000bbb"}}"#.to_vec())
///     .unwrap();
/// let err = decode_for(&GetWebhook::new("64f0c0ffee00000000000aaa"), other).unwrap_err();
/// assert!(matches!(err, Error::UnexpectedResponse { .. }));
/// ```
pub fn decode_for<R: Endpoint + ?Sized>(
    endpoint: &R,
    response: Response<impl AsRef<[u8]>>,
) -> Result<R::Output, Error> {
    decode_for_at(endpoint, response, SystemTime::now())
}

/// [`decode_for`] with the current time given, for a `Retry-After` that is an HTTP date.
pub fn decode_for_at<R: Endpoint + ?Sized>(
    endpoint: &R,
    response: Response<impl AsRef<[u8]>>,
    now: SystemTime,
) -> Result<R::Output, Error> {
    decode_for_with(endpoint, response, || now)
}

/// [`decode_for_at`] reading the clock only when an error needs it (for a `Retry-After` that
/// is an HTTP date): a success reads no clock.
pub(crate) fn decode_for_with<R: Endpoint + ?Sized>(
    endpoint: &R,
    response: Response<impl AsRef<[u8]>>,
    now: impl FnOnce() -> SystemTime,
) -> Result<R::Output, Error> {
    let output = decode_with::<R>(response, now)?;
    endpoint.check(&output)?;
    Ok(output)
}

/// Reads a response: unwraps `{"status": true, "data": ...}` into the endpoint's output, and
/// turns everything else (an error status, `"status": false` even with a 2xx, a body that is
/// not the documented JSON) into an [`Error`]. No I/O.
///
/// This reads the answer alone: it cannot tell an answer about another webhook from the
/// right one. With the request at hand, use [`decode_for`].
///
/// ```
/// use atoms_webhook_transport::{decode, endpoint::CreateWebhook};
/// let ok = http::Response::builder()
///     .status(201)
///     .body(br#"{"status":true,"data":"64f0c0ffee0000000000abcd"}"#.to_vec())
///     .unwrap();
/// assert_eq!(decode::<CreateWebhook>(ok)?.as_str(), "64f0c0ffee0000000000abcd");
/// # Ok::<(), atoms_webhook_transport::Error>(())
/// ```
pub fn decode<R: Endpoint + ?Sized>(
    response: Response<impl AsRef<[u8]>>,
) -> Result<R::Output, Error> {
    decode_at::<R>(response, SystemTime::now())
}

/// [`decode`] with the current time given, for a `Retry-After` that is an HTTP date.
pub fn decode_at<R: Endpoint + ?Sized>(
    response: Response<impl AsRef<[u8]>>,
    now: SystemTime,
) -> Result<R::Output, Error> {
    decode_with::<R>(response, || now)
}

fn decode_with<R: Endpoint + ?Sized>(
    response: Response<impl AsRef<[u8]>>,
    now: impl FnOnce() -> SystemTime,
) -> Result<R::Output, Error> {
    let status = response.status();
    let body = response.body().as_ref();
    if !status.is_success() {
        return Err(api_error(status, response.headers(), body, now()).into());
    }
    match atoms_webhook_models::from_slice::<ApiResponse<R::Data>>(body) {
        Ok(envelope) if envelope.status => {
            R::output(envelope.data).map_err(|e| decode_error(status, body, e))
        }
        Ok(_) => Err(api_error(status, response.headers(), body, now()).into()),
        Err(parse) => {
            // A 2xx whose body is an error envelope: report the server's messages, not the
            // missing `data`.
            if let Ok(err) = serde_json::from_slice::<ApiErrorBody>(body) {
                if err.status == Some(false) {
                    return Err(api_error(status, response.headers(), body, now()).into());
                }
            }
            Err(decode_error(status, body, parse))
        }
    }
}

fn decode_error(status: http::StatusCode, body: &[u8], e: ParseError) -> Error {
    Error::Decode {
        status,
        path: e.path().to_owned(),
        snippet: snippet(body),
        source: Box::new(e),
    }
}

/// Builds the [`ApiError`] of an error response, whatever its body.
pub fn api_error(
    status: http::StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> ApiError {
    let messages = serde_json::from_slice::<ApiErrorBody>(body)
        .map(|b| b.messages())
        .unwrap_or_default();
    ApiError::new(status, messages, snippet(body), retry_after(headers, now))
}

/// The delay a response asks for: `retry-after-ms` (milliseconds, as some gateways send), else
/// `Retry-After` as delta seconds or as an HTTP date (a date in the past is zero).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms.min(1e12) / 1000.0));
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A short, printable start of a body for error messages: invalid UTF-8 replaced, whitespace
/// runs collapsed, the values of JSON keys that look secret masked (a list of webhooks carries
/// every signing secret), cut at [`SNIPPET_CHARS`] characters on a character boundary.
///
/// ```
/// use atoms_webhook_transport::snippet;
/// let s = snippet(br#"{"_id":"1",  "decryptedSecretKey":"whsec-abc"}"#);
/// assert_eq!(s, r#"{"_id":"1", "decryptedSecretKey":"[redacted]"}"#);
/// ```
pub fn snippet(body: &[u8]) -> String {
    // Only the start matters; leave room for masking and multi-byte characters.
    let head = &body[..body.len().min(SNIPPET_CHARS * 8)];
    let text = String::from_utf8_lossy(head);
    let masked = mask_secrets(&text);
    let mut out = String::with_capacity(SNIPPET_CHARS + 3);
    let mut count = 0;
    let mut in_space = false;
    for c in masked.trim().chars() {
        let c = if c.is_whitespace() || c.is_control() {
            if in_space {
                continue;
            }
            in_space = true;
            ' '
        } else {
            in_space = false;
            c
        };
        if count == SNIPPET_CHARS {
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    if head.len() < body.len() {
        out.push('…');
    }
    out
}

/// Key names whose string values are masked in snippets.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "password",
        "token",
        "apikey",
        "api_key",
        "authorization",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Replaces the string value of every `"<secret-looking key>": "..."` with `[redacted]`.
fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(len) = string_len(after) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = &after[..len];
        out.push('"');
        out.push_str(key);
        out.push('"');
        rest = &after[len + 1..];
        let trimmed = rest.trim_start();
        if is_secret_key(key) && trimmed.starts_with(':') {
            let after_colon = trimmed[1..].trim_start();
            if let Some(value) = after_colon.strip_prefix('"') {
                out.push_str(&rest[..rest.len() - after_colon.len()]);
                out.push_str("\"[redacted]\"");
                rest = match string_len(value) {
                    Some(n) => &value[n + 1..],
                    None => "",
                };
            }
        }
    }
    out.push_str(rest);
    out
}

/// The length of a JSON string's content up to its closing quote, or `None` when unterminated.
fn string_len(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_uri_is_the_parsed_full_url() {
        use crate::endpoint::*;
        fn uri(p: &Prepared, endpoint: &impl Endpoint) -> Uri {
            p.build(endpoint).unwrap().uri().clone()
        }
        type BuildUri = Box<dyn Fn(&Prepared) -> Uri>;
        let endpoints: Vec<BuildUri> = vec![
            Box::new(|p| uri(p, &ListWebhooks::new())),
            Box::new(|p| uri(p, &GetWebhook::new("64f0c0ffee0000000000abcd"))),
            Box::new(|p| uri(p, &DeleteWebhook::new("64f0c0ffee0000000000abcd"))),
            Box::new(|p| uri(p, &GetAgentSubscriptions::new("60d0fe4f5311236168a109ca"))),
            Box::new(|p| {
                let list = ListConversations::new().page(2).limit(50);
                uri(p, &list.agent_ids(["a&c=é", "d"]))
            }),
        ];
        let bases = [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "https://api.smallest.ai/atoms/v1",
            "https://api.smallest.ai/atoms/v1//",
            "http://[::1]:9/prefix/",
            "http://user@localhost",
        ];
        for base in bases {
            let config = Config::new("k").base_url(base);
            let prepared = Prepared::new(&config).unwrap();
            assert!(prepared.base.is_some(), "{base}");
            let whole = Prepared {
                base: None,
                ..prepared.clone()
            };
            for build in &endpoints {
                let (fast, slow) = (build(&prepared), build(&whole));
                assert_eq!(fast, slow, "{base}");
                assert_eq!(fast.to_string(), slow.to_string(), "{base}");
            }
        }
    }

    #[test]
    fn masks_secret_values_only() {
        assert_eq!(
            mask_secrets(r#"{"url":"u","decryptedSecretKey" : "s\"x","token":1,"apiKey":"k"}"#),
            r#"{"url":"u","decryptedSecretKey" : "[redacted]","token":1,"apiKey":"[redacted]"}"#
        );
        assert_eq!(
            mask_secrets(r#"{"secret":"unterminated"#),
            r#"{"secret":"[redacted]""#
        );
        assert_eq!(mask_secrets("<html>\"x</html>"), "<html>\"x</html>");
    }

    #[test]
    fn snippet_is_short_and_char_safe() {
        assert_eq!(snippet(b""), "");
        assert_eq!(snippet(b"  a \n\n b  "), "a b");
        let long = "é".repeat(500);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        let s = snippet(&[0xff, b'a']);
        assert_eq!(s, "\u{fffd}a");
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = |k: &str, v: &str| {
            let mut m = HeaderMap::new();
            m.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
            m
        };
        assert_eq!(
            retry_after(&h("retry-after", "7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&h("retry-after-ms", "1500"), now),
            Some(Duration::from_millis(1500))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after(&h("retry-after", &date), now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(
            retry_after(&h("retry-after", &past), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&h("retry-after", "soon"), now), None);
        assert_eq!(retry_after(&h("retry-after", "-1"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
