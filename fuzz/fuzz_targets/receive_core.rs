//! Any method, headers and body through the receiver's receive core: it never panics, answers
//! only with the statuses it documents, and accepts a body only when a signature header
//! carries the body's HMAC under the configured secret.
#![no_main]

use atoms_webhook_models::{sign, SigningSecret};
use atoms_webhook_receiver::{Outcome, Receiver};
use libfuzzer_sys::fuzz_target;

const METHODS: [&str; 4] = ["POST", "GET", "PUT", "post"];
const NAMES: [&str; 5] = ["x-signature", "X-Signature", "content-length", "x-atoms-signature", "content-type"];

fuzz_target!(|data: &[u8]| {
    // Byte 0: method and whether to add a correct signature; byte 1: header count; then for
    // each header a name index byte, a length byte and the value; the rest is the body.
    if data.len() < 2 {
        return;
    }
    let secret = SigningSecret::new("fuzz-secret");
    let receiver = Receiver::new(secret.clone()).unwrap().max_body(2048);
    let method = http::Method::from_bytes(METHODS[(data[0] & 3) as usize].as_bytes()).unwrap();
    let mut rest = &data[2..];
    let mut headers = http::HeaderMap::new();
    for _ in 0..(data[1] % 4) {
        if rest.len() < 2 {
            break;
        }
        let name = NAMES[(rest[0] as usize) % NAMES.len()];
        let n = (rest[1] as usize).min(rest.len() - 2);
        if let Ok(v) = http::HeaderValue::from_bytes(&rest[2..2 + n]) {
            headers.append(name, v);
        }
        rest = &rest[2 + n..];
    }
    let body = rest;
    let good = sign(&secret, body);
    if data[0] & 4 != 0 {
        headers.insert("x-signature", good.parse().unwrap());
    }
    let outcome = receiver.receive(&method, &headers, body);
    let status = outcome.reply().status.as_u16();
    assert!([200, 400, 401, 405, 413].contains(&status), "status {status}");
    if matches!(outcome, Outcome::Verified(_) | Outcome::Unparseable(_)) {
        assert!(body.len() <= 2048);
        assert_eq!(method, http::Method::POST);
        let carried = headers
            .iter()
            .filter_map(|(_, v)| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains(&good));
        assert!(carried, "accepted without the body's signature");
    }
});
