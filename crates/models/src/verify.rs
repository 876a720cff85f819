//! Verifying the `X-Signature` header of a delivery, and signing bodies for tests.
//!
//! Atoms signs each delivery with `X-Signature: hex(HMAC-SHA256(secret, raw body))`. Older
//! documentation pages name the header `X-Atoms-Signature` and some senders write the value as
//! `sha256=<hex>` or in upper-case hex: all of these are accepted, and the signature is still
//! decoded to exactly 32 bytes and compared in constant time.
//!
//! Verification reads no clock and needs no threads, so it runs unchanged on
//! `wasm32-unknown-unknown` (edge runtimes).
//!
//! **What the signature does not cover.** It is computed over the body alone: there is no
//! timestamp and no nonce, so a captured delivery can be replayed and will verify again. To
//! guard against replays and the platform's own duplicates, remember each delivery's `id`
//! ([`WebhookEvent::delivery_id`]) and ignore ids you have already processed.
//!
//! Always verify the raw bytes exactly as received, before parsing: a body that was parsed and
//! re-serialized will not match.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{ParseError, SigningSecret, WebhookEvent};

type HmacSha256 = Hmac<Sha256>;

/// The name of the signature header (HTTP header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-signature";

/// Every header name a delivery's signature may come under: the current one, then the one older
/// documentation pages use.
pub const SIGNATURE_HEADERS: [&str; 2] = [SIGNATURE_HEADER, "x-atoms-signature"];

/// The default largest body [`Verifier`] accepts: 4 MiB.
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// Why a delivery was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The request had no `X-Signature` header.
    #[error("missing X-Signature header")]
    MissingHeader,
    /// The header is not 64 hex characters after an optional `sha256=` (or is repeated, or not
    /// text).
    #[error("malformed X-Signature header: {0}")]
    MalformedHeader(&'static str),
    /// The signature does not match the body under any configured secret.
    #[error("signature mismatch: the body was not signed with this webhook's secret")]
    Mismatch,
    /// A verifier was built with an empty secret, or with none.
    #[error("empty signing secret")]
    EmptySecret,
    /// The body is over the configured size limit; it was neither hashed nor parsed.
    #[error("body of {len} bytes is over the {limit}-byte limit")]
    BodyTooLarge {
        /// The body's size.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The signature is valid but the body is not a delivery we can read.
    #[error("signature valid but the body did not parse: {0}")]
    Parse(#[from] ParseError),
}

impl VerifyError {
    /// The HTTP status a receiver should answer with: 413 for an oversized body, 400 for a body
    /// that verified but did not parse, 401 otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            VerifyError::BodyTooLarge { .. } => 413,
            VerifyError::Parse(_) => 400,
            _ => 401,
        }
    }
}

/// Computes the `X-Signature` value for `body`: lowercase hex HMAC-SHA256 keyed by `secret`.
///
/// ```
/// use atoms_webhook_models::{sign, SigningSecret};
/// let sig = sign(&SigningSecret::new("secret"), b"{}");
/// assert_eq!(sig.len(), 64);
/// ```
pub fn sign(secret: &SigningSecret, body: &[u8]) -> String {
    hex::encode(
        mac(secret.expose().as_bytes(), body)
            .finalize()
            .into_bytes(),
    )
}

fn mac(key: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut m = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    m.update(body);
    m
}

/// Checks delivery signatures against one or more signing secrets (several while a secret is
/// being rotated), and refuses bodies over a size limit before hashing them.
///
/// ```
/// use atoms_webhook_models::{sign, SigningSecret, Verifier};
/// let secret = SigningSecret::new("s3cret");
/// let body = br#"{"id":"x"}"#;
/// let verifier = Verifier::new(secret.clone()).unwrap();
/// assert!(verifier.verify(body, &sign(&secret, body)).is_ok());
/// assert!(verifier.verify(b"tampered", &sign(&secret, body)).is_err());
/// ```
#[derive(Clone)]
pub struct Verifier {
    /// One MAC per secret, already keyed: cloning a keyed MAC skips hashing the key's pad
    /// blocks on every delivery.
    keyed: Vec<HmacSha256>,
    max_body: usize,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &format_args!("[redacted; {}]", self.keyed.len()))
            .field("max_body", &self.max_body)
            .finish()
    }
}

impl Verifier {
    /// A verifier for one secret. Fails on an empty secret.
    pub fn new(secret: impl Into<SigningSecret>) -> Result<Self, VerifyError> {
        Self::with_secrets([secret.into()])
    }

    /// A verifier that accepts a signature made with any of `secrets`. Fails when the list is
    /// empty or any secret is empty.
    pub fn with_secrets(
        secrets: impl IntoIterator<Item = impl Into<SigningSecret>>,
    ) -> Result<Self, VerifyError> {
        let secrets: Vec<SigningSecret> = secrets.into_iter().map(Into::into).collect();
        if secrets.is_empty() || secrets.iter().any(SigningSecret::is_empty) {
            return Err(VerifyError::EmptySecret);
        }
        Ok(Self {
            keyed: secrets
                .iter()
                .map(|s| mac(s.expose().as_bytes(), b""))
                .collect(),
            max_body: DEFAULT_MAX_BODY,
        })
    }

    /// Sets the largest body accepted, in bytes (default [`DEFAULT_MAX_BODY`]).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_len(&self) -> usize {
        self.max_body
    }

    /// Checks `signature` (the header's value: 64 hex characters in either case, optionally
    /// `sha256=<hex>`, optionally with its header name in front) against the raw `body`.
    pub fn verify(&self, body: &[u8], signature: &str) -> Result<(), VerifyError> {
        if body.len() > self.max_body {
            return Err(VerifyError::BodyTooLarge {
                len: body.len(),
                limit: self.max_body,
            });
        }
        let expected = decode_signature(signature)?;
        for keyed in &self.keyed {
            let mut m = keyed.clone();
            m.update(body);
            // `verify_slice` compares in constant time.
            if m.verify_slice(&expected).is_ok() {
                return Ok(());
            }
        }
        Err(VerifyError::Mismatch)
    }

    /// Checks the `X-Signature` (or `X-Atoms-Signature`) header in `headers` against the raw
    /// `body`. When both are present they must carry the same signature.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn verify_headers(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        if body.len() > self.max_body {
            return Err(VerifyError::BodyTooLarge {
                len: body.len(),
                limit: self.max_body,
            });
        }
        let mut found: Option<&str> = None;
        for name in SIGNATURE_HEADERS {
            let mut values = headers.get_all(name).iter();
            let Some(value) = values.next() else {
                continue;
            };
            if values.next().is_some() {
                return Err(VerifyError::MalformedHeader(
                    "more than one X-Signature header",
                ));
            }
            let value = value
                .to_str()
                .map_err(|_| VerifyError::MalformedHeader("not visible ASCII"))?;
            match found {
                Some(first) if decode_signature(first)? != decode_signature(value)? => {
                    return Err(VerifyError::MalformedHeader(
                        "X-Signature and X-Atoms-Signature differ",
                    ));
                }
                Some(_) => {}
                None => found = Some(value),
            }
        }
        self.verify(body, found.ok_or(VerifyError::MissingHeader)?)
    }

    /// Verifies, then parses the body into a [`WebhookEvent`].
    pub fn verify_and_parse(
        &self,
        body: &[u8],
        signature: &str,
    ) -> Result<WebhookEvent, VerifyError> {
        self.verify(body, signature)?;
        Ok(WebhookEvent::from_slice(body)?)
    }

    /// Verifies the `X-Signature` (or `X-Atoms-Signature`) header, then parses the body into a
    /// [`WebhookEvent`].
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn verify_request(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, VerifyError> {
        self.verify_headers(headers, body)?;
        Ok(WebhookEvent::from_slice(body)?)
    }
}

/// Decodes a header value to exactly 32 bytes. Surrounding whitespace, a leading header name
/// (`X-Signature:` or `X-Atoms-Signature:`, as copied from a request log) and a `sha256=` prefix
/// (any case) are ignored; either letter case of the hex is accepted.
fn decode_signature(signature: &str) -> Result<[u8; 32], VerifyError> {
    let mut s = signature.trim();
    if let Some((name, value)) = s.split_once(':') {
        if SIGNATURE_HEADERS
            .iter()
            .any(|h| name.trim().eq_ignore_ascii_case(h))
        {
            s = value.trim();
        }
    }
    let s = match s.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("sha256=") => s[7..].trim_start(),
        _ => s,
    };
    if s.is_empty() {
        return Err(VerifyError::MalformedHeader("empty"));
    }
    if s.len() != 64 {
        return Err(VerifyError::MalformedHeader("expected 64 hex characters"));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out)
        .map_err(|_| VerifyError::MalformedHeader("not hexadecimal"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Verifier {
        Verifier::new("secret").unwrap()
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign(&SigningSecret::new("Jefe"), b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn distinct_errors() {
        let body = b"{}";
        let good = sign(&SigningSecret::new("secret"), body);
        assert!(v().verify(body, &good).is_ok());
        assert!(v().verify(body, &good.to_uppercase()).is_ok());
        assert!(v().verify(body, &format!(" {good}\t")).is_ok());
        assert!(matches!(
            v().verify(body, ""),
            Err(VerifyError::MalformedHeader("empty"))
        ));
        assert!(matches!(
            v().verify(body, "abc"),
            Err(VerifyError::MalformedHeader(_))
        ));
        let not_hex = "z".repeat(64);
        assert!(matches!(
            v().verify(body, &not_hex),
            Err(VerifyError::MalformedHeader("not hexadecimal"))
        ));
        let wrong = sign(&SigningSecret::new("other"), body);
        assert!(matches!(
            v().verify(body, &wrong),
            Err(VerifyError::Mismatch)
        ));
        assert!(matches!(Verifier::new(""), Err(VerifyError::EmptySecret)));
        assert!(matches!(
            Verifier::with_secrets(Vec::<SigningSecret>::new()),
            Err(VerifyError::EmptySecret)
        ));
    }

    #[test]
    fn tolerant_forms() {
        let body = br#"{"id":"x"}"#;
        let good = sign(&SigningSecret::new("secret"), body);
        // Lower case (what Atoms sends), upper case, `sha256=` prefix in either case, and a
        // header line under either name.
        for form in [
            good.clone(),
            good.to_uppercase(),
            format!("sha256={good}"),
            format!("SHA256={}", good.to_uppercase()),
            format!("X-Signature: {good}"),
            format!("x-atoms-signature: sha256={good}"),
        ] {
            assert!(v().verify(body, &form).is_ok(), "{form}");
        }
        // Still exactly 32 bytes: a prefix with a short or long digest is malformed.
        for bad in [
            format!("sha256={}", &good[..62]),
            format!("sha256={good}00"),
            "sha256=".to_owned(),
            format!("sha1={good}"),
            format!("X-Other: {good}"),
        ] {
            assert!(
                matches!(v().verify(body, &bad), Err(VerifyError::MalformedHeader(_))),
                "{bad}"
            );
        }
        let wrong = sign(&SigningSecret::new("other"), body);
        assert!(matches!(
            v().verify(body, &format!("sha256={wrong}")),
            Err(VerifyError::Mismatch)
        ));
    }

    #[cfg(feature = "http")]
    #[test]
    fn older_header_name() {
        let body = b"{}";
        let good = sign(&SigningSecret::new("secret"), body);
        let mut h = http::HeaderMap::new();
        h.insert(
            "X-Atoms-Signature",
            format!("sha256={good}").parse().unwrap(),
        );
        assert!(v().verify_headers(&h, body).is_ok());
        // Both names with the same signature: fine; with different ones: refused.
        h.insert("x-signature", good.to_uppercase().parse().unwrap());
        assert!(v().verify_headers(&h, body).is_ok());
        let wrong = sign(&SigningSecret::new("other"), body);
        h.insert("x-signature", wrong.parse().unwrap());
        assert!(matches!(
            v().verify_headers(&h, body),
            Err(VerifyError::MalformedHeader(_))
        ));
        let mut h = http::HeaderMap::new();
        h.insert("x-atoms-signature", wrong.parse().unwrap());
        assert!(matches!(
            v().verify_headers(&h, body),
            Err(VerifyError::Mismatch)
        ));
    }

    #[cfg(feature = "http")]
    #[test]
    fn headers_and_rotation() {
        let body = b"{\"a\":1}";
        let old = SigningSecret::new("old");
        let new = SigningSecret::new("new");
        let verifier = Verifier::with_secrets([old.clone(), new.clone()]).unwrap();
        let mut h = http::HeaderMap::new();
        assert!(matches!(
            verifier.verify_headers(&h, body),
            Err(VerifyError::MissingHeader)
        ));
        h.insert("X-SIGNATURE", sign(&old, body).parse().unwrap());
        assert!(verifier.verify_headers(&h, body).is_ok());
        h.insert("x-signature", sign(&new, body).parse().unwrap());
        assert!(verifier.verify_headers(&h, body).is_ok());
        h.append("x-signature", sign(&new, body).parse().unwrap());
        assert!(matches!(
            verifier.verify_headers(&h, body),
            Err(VerifyError::MalformedHeader(_))
        ));
    }

    #[test]
    fn size_limit_comes_first() {
        let verifier = v().max_body(4);
        let e = verifier.verify(b"12345", "").unwrap_err();
        assert!(matches!(e, VerifyError::BodyTooLarge { len: 5, limit: 4 }));
        assert_eq!(e.http_status(), 413);
    }

    #[test]
    fn verified_but_unparseable() {
        let secret = SigningSecret::new("secret");
        let body = b"not json";
        let e = v()
            .verify_and_parse(body, &sign(&secret, body))
            .unwrap_err();
        assert!(matches!(e, VerifyError::Parse(_)));
        assert_eq!(e.http_status(), 400);
    }

    #[test]
    fn secret_not_in_debug() {
        assert!(!format!("{:?}", v()).contains("secret\""));
        assert!(format!("{:?}", v()).contains("[redacted; 1]"));
    }
}
