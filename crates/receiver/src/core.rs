//! The receive core: method, headers and raw body in, a decision out. No framework, no I/O.
//!
//! The order of the checks is the point: the method, then the size (before any hashing), then
//! the signature over the raw bytes, and only then parsing. A framework's JSON extractor that
//! parses first is the most common webhook bug; here the body is never looked at before the
//! signature is known to be good.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atoms_webhook_models::{ParseError, SigningSecret, Verifier, VerifyError, WebhookEvent};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use crate::clock::{Clock, SystemClock};

/// The header names a delivery's signature may come under: the current one first, then the
/// one older documentation pages use.
pub const SIGNATURE_HEADERS: [&str; 2] =
    [atoms_webhook_models::SIGNATURE_HEADER, "x-atoms-signature"];

/// The default largest body accepted: 4 MiB (transcripts of long calls are large; a typical
/// delivery is a few kilobytes).
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// A receiver that could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret, or an empty one.
    #[error("a receiver needs at least one non-empty signing secret")]
    EmptySecret(#[source] VerifyError),
}

/// Why a request was refused. Each has its HTTP status and a short body that tells a caller
/// nothing about the secrets or the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// Not a POST (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body (or its announced `Content-Length`) is over the limit (413). It was not hashed.
    #[error("body over the {limit}-byte limit")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// No signature header (401).
    #[error("missing signature")]
    MissingSignature,
    /// A malformed signature header, or one that does not match under any secret (401).
    #[error("invalid signature")]
    BadSignature,
    /// Signed, but the delivery id's embedded time is older than the replay window (401). Only
    /// with [`Receiver::replay_window`].
    #[error("delivery older than the replay window")]
    Stale,
    /// Signed, but the body does not parse, and there is no inbox to keep it (400). With an
    /// [`Inbox`](crate::Inbox) such a body is stored as a dead letter instead.
    #[error("signed body did not parse")]
    Unparseable,
}

impl Rejection {
    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::MissingSignature | Rejection::BadSignature | Rejection::Stale => {
                StatusCode::UNAUTHORIZED
            }
            Rejection::Unparseable => StatusCode::BAD_REQUEST,
        }
    }

    /// A stable name for counting (`inbox stats`): `method_not_allowed`, `too_large`,
    /// `missing_signature`, `bad_signature`, `stale`, `unparseable`.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::MethodNotAllowed => "method_not_allowed",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::MissingSignature => "missing_signature",
            Rejection::BadSignature => "bad_signature",
            Rejection::Stale => "stale",
            Rejection::Unparseable => "unparseable",
        }
    }

    /// The answer to send.
    pub fn reply(&self) -> Reply {
        let body = match self {
            Rejection::MethodNotAllowed => "method not allowed\n",
            Rejection::TooLarge { .. } => "payload too large\n",
            Rejection::MissingSignature | Rejection::BadSignature | Rejection::Stale => {
                "unauthorized\n"
            }
            Rejection::Unparseable => "bad request\n",
        };
        Reply {
            status: self.status(),
            body,
        }
    }
}

/// What to answer: a status and a short plain-text body that leaks nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body (`text/plain`).
    pub body: &'static str,
}

impl Reply {
    /// 200 `ok`.
    pub const OK: Reply = Reply {
        status: StatusCode::OK,
        body: "ok\n",
    };
    /// 503: the inbox could not store the delivery, so it was not accepted (Atoms counts the
    /// delivery as failed; nothing was promised).
    pub const UNAVAILABLE: Reply = Reply {
        status: StatusCode::SERVICE_UNAVAILABLE,
        body: "unavailable\n",
    };

    /// The reply as an `http` response (`Content-Type: text/plain; charset=utf-8`).
    pub fn to_response(&self) -> http::Response<Bytes> {
        let mut res = http::Response::new(Bytes::from_static(self.body.as_bytes()));
        *res.status_mut() = self.status;
        res.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        res
    }
}

/// A signed body that did not parse into a [`WebhookEvent`]: authentic data from Atoms in a
/// shape this version does not read. What could still be read from it is kept.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Unparseable {
    /// Why it did not parse (safe to log: it quotes nothing from the body).
    pub error: ParseError,
    /// The envelope's `id`, when the body is a JSON object with a string `id`.
    pub id: Option<String>,
    /// `metadata.eventType`, when readable.
    pub event_type: Option<String>,
    /// `metadata.callId`, when readable.
    pub call_id: Option<String>,
}

/// The decision of the receive core.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Signed and parsed: answer 2xx once it is handled (or stored).
    Verified(Box<WebhookEvent>),
    /// Signed, but not a body this version can parse. Without an inbox answer 400
    /// ([`Rejection::Unparseable`]); an [`Inbox`](crate::Inbox) stores it as a dead letter.
    Unparseable(Box<Unparseable>),
    /// Refused.
    Rejected(Rejection),
}

impl Outcome {
    /// The answer when there is no inbox behind the receiver: 200 for a verified event, 400 for
    /// an unparseable one, the rejection's status otherwise.
    pub fn reply(&self) -> Reply {
        match self {
            Outcome::Verified(_) => Reply::OK,
            Outcome::Unparseable(_) => Rejection::Unparseable.reply(),
            Outcome::Rejected(r) => r.reply(),
        }
    }

    /// The event, when verified and parsed; the rejection otherwise (an unparseable body is
    /// [`Rejection::Unparseable`]).
    pub fn into_event(self) -> Result<WebhookEvent, Rejection> {
        match self {
            Outcome::Verified(e) => Ok(*e),
            Outcome::Unparseable(_) => Err(Rejection::Unparseable),
            Outcome::Rejected(r) => Err(r),
        }
    }
}

/// Verifies and parses deliveries: the one implementation of receiving in the project.
///
/// ```
/// use atoms_webhook_models::{sign, SigningSecret};
/// use atoms_webhook_receiver::{Outcome, Receiver};
/// use http::{HeaderMap, Method, StatusCode};
///
/// let secret = SigningSecret::new("whsec-new");
/// let receiver = Receiver::with_secrets([SigningSecret::new("whsec-old"), secret.clone()])?;
/// let body = br#"{"url":"u","description":"d","event":"a.pre-conversation","id":"69fd96118fd277fc807e4c23",
///   "metadata":{"agentId":"a","eventType":"pre-conversation","callId":"CALL-1"}}"#;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-signature", sign(&secret, body).parse()?);
///
/// let outcome = receiver.receive(&Method::POST, &headers, body);
/// assert_eq!(outcome.reply().status, StatusCode::OK);
/// assert!(matches!(outcome, Outcome::Verified(_)));
///
/// let forged = receiver.receive(&Method::POST, &HeaderMap::new(), body);
/// assert_eq!(forged.reply().status, StatusCode::UNAUTHORIZED);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Receiver {
    // Shared: frameworks clone the receiver out of their state for every request.
    verifier: Arc<Verifier>,
    replay_window: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The verifier's Debug redacts the secrets.
        f.debug_struct("Receiver")
            .field("verifier", &self.verifier)
            .field("replay_window", &self.replay_window)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver for one signing secret.
    pub fn new(secret: impl Into<SigningSecret>) -> Result<Self, ConfigError> {
        Self::with_secrets([secret.into()])
    }

    /// A receiver that accepts a signature made with any of `secrets` (rotation).
    pub fn with_secrets(
        secrets: impl IntoIterator<Item = impl Into<SigningSecret>>,
    ) -> Result<Self, ConfigError> {
        let verifier = Verifier::with_secrets(secrets).map_err(ConfigError::EmptySecret)?;
        Ok(Self::from_verifier(verifier.max_body(DEFAULT_MAX_BODY)))
    }

    /// A receiver around an existing verifier (its size limit is kept).
    pub fn from_verifier(verifier: Verifier) -> Self {
        Self {
            verifier: Arc::new(verifier),
            replay_window: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets the largest body accepted, in bytes (default [`DEFAULT_MAX_BODY`]).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.verifier = Arc::new((*self.verifier).clone().max_body(bytes));
        self
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_len(&self) -> usize {
        self.verifier.max_body_len()
    }

    /// Turns on replay protection (off by default): a signed delivery whose id is a MongoDB
    /// ObjectId with an embedded time older than `window` is refused ([`Rejection::Stale`]).
    ///
    /// This rests on an **observation, not a platform promise**: in every documented example
    /// the delivery id's timestamp is the moment of sending. Atoms signs no timestamp, so
    /// nothing else dates a delivery. Ids that are not ObjectIds are not checked. Choose a
    /// window comfortably larger than clock skew, and keep processed rows (retention) longer
    /// than the window so that de-duplication covers what the window lets through.
    pub fn replay_window(mut self, window: Duration) -> Self {
        self.replay_window = Some(window);
        self
    }

    /// The clock used for replay protection and for the time received (default: the system
    /// clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock's current time.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Checks the method and an announced `Content-Length` before the body is read, so that a
    /// framework can refuse an oversized body without reading it.
    pub fn check_head(&self, method: &Method, headers: &HeaderMap) -> Result<(), Rejection> {
        if method != Method::POST {
            return Err(Rejection::MethodNotAllowed);
        }
        let announced = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        match announced {
            Some(len) if len > self.max_body_len() as u64 => Err(Rejection::TooLarge {
                limit: self.max_body_len(),
            }),
            _ => Ok(()),
        }
    }

    /// Decides on one request: 405 if not POST, 413 if over the size limit (checked before
    /// hashing), 401 for a missing or bad signature, then parses.
    pub fn receive(&self, method: &Method, headers: &HeaderMap, body: &[u8]) -> Outcome {
        if let Err(r) = self.check_head(method, headers) {
            return Outcome::Rejected(r);
        }
        if body.len() > self.max_body_len() {
            return Outcome::Rejected(Rejection::TooLarge {
                limit: self.max_body_len(),
            });
        }
        if let Err(r) = self.verify_signature(headers, body) {
            return Outcome::Rejected(r);
        }
        match WebhookEvent::from_slice(body) {
            Ok(event) => {
                if self.is_stale(&event) {
                    return Outcome::Rejected(Rejection::Stale);
                }
                Outcome::Verified(Box::new(event))
            }
            Err(error) => Outcome::Unparseable(Box::new(salvage(error, body))),
        }
    }

    /// [`Receiver::receive`] for a whole `http::Request`.
    pub fn receive_request<B: AsRef<[u8]>>(&self, request: &http::Request<B>) -> Outcome {
        self.receive(request.method(), request.headers(), request.body().as_ref())
    }

    /// Checks the signature headers: `X-Signature`, or `X-Atoms-Signature` (the name older
    /// documentation pages use). Each must appear at most once, and every one present must
    /// verify; the value's accepted forms are the models crate's [`Verifier::verify`].
    fn verify_signature(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Rejection> {
        let mut seen = false;
        for name in SIGNATURE_HEADERS {
            let mut values = headers.get_all(name).iter();
            let Some(value) = values.next() else {
                continue;
            };
            if values.next().is_some() {
                return Err(Rejection::BadSignature);
            }
            let value = value.to_str().map_err(|_| Rejection::BadSignature)?;
            self.verifier.verify(body, value).map_err(|e| match e {
                VerifyError::BodyTooLarge { limit, .. } => Rejection::TooLarge { limit },
                _ => Rejection::BadSignature,
            })?;
            seen = true;
        }
        if seen {
            Ok(())
        } else {
            Err(Rejection::MissingSignature)
        }
    }

    fn is_stale(&self, event: &WebhookEvent) -> bool {
        let Some(window) = self.replay_window else {
            return false;
        };
        let Some(id) = event.delivery_id() else {
            return false;
        };
        let Some(sent) = object_id_time(id.as_str()) else {
            return false;
        };
        match self.clock.now().duration_since(sent) {
            Ok(age) => age > window,
            // An id from the future (clock skew) is not stale.
            Err(_) => false,
        }
    }
}

/// The time embedded in a MongoDB ObjectId (its first 4 bytes: seconds since the epoch).
pub fn object_id_time(id: &str) -> Option<SystemTime> {
    if !atoms_webhook_models::ids::is_object_id(id) {
        return None;
    }
    let secs = u32::from_str_radix(id.get(..8)?, 16).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(u64::from(secs)))
}

/// Reads what it can from a body that did not parse.
fn salvage(error: ParseError, body: &[u8]) -> Unparseable {
    let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let text = |pointer: &str| {
        value
            .as_ref()
            .and_then(|v| v.pointer(pointer))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    Unparseable {
        error,
        id: text("/id"),
        event_type: text("/metadata/eventType"),
        call_id: text("/metadata/callId"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_id_times() {
        let t = object_id_time("69fd96118fd277fc807e4c23").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 0x69fd9611);
        assert_eq!(object_id_time("not-an-id"), None);
        assert_eq!(object_id_time("zzzzzzzz8fd277fc807e4c23"), None);
    }

    #[test]
    fn content_length_is_checked_before_reading() {
        let r = Receiver::new("s").unwrap().max_body(10);
        let mut h = HeaderMap::new();
        h.insert("content-length", "11".parse().unwrap());
        assert_eq!(
            r.check_head(&Method::POST, &h),
            Err(Rejection::TooLarge { limit: 10 })
        );
        h.insert("content-length", "10".parse().unwrap());
        assert_eq!(r.check_head(&Method::POST, &h), Ok(()));
        assert_eq!(
            r.check_head(&Method::GET, &h),
            Err(Rejection::MethodNotAllowed)
        );
    }

    #[test]
    fn empty_secret_is_a_config_error() {
        assert!(Receiver::new("").is_err());
        assert!(Receiver::with_secrets(Vec::<SigningSecret>::new()).is_err());
    }
}
