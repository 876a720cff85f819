//! Any header value against any body: verification never panics, and only the right signature
//! of the exact body is accepted.
#![no_main]

use atoms_webhook_models::{sign, SigningSecret, Verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: how much of the rest is the header value; the remainder is the body.
    let Some((&n, rest)) = data.split_first() else { return };
    let n = (n as usize).min(rest.len());
    let (header, body) = rest.split_at(n);
    let secret = SigningSecret::new("fuzz-secret");
    let verifier = Verifier::new(secret.clone()).unwrap();
    let header = String::from_utf8_lossy(header);
    let accepted = verifier.verify(body, &header).is_ok();
    let right = sign(&secret, body);
    assert_eq!(accepted, header.trim().eq_ignore_ascii_case(&right), "accepted a wrong signature or refused the right one");
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_bytes(header.as_bytes()) {
        headers.insert("x-signature", v);
    }
    let _ = verifier.verify_request(&headers, body);
});
