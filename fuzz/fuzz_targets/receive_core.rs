//! Any method, headers and body through the receive core of `atoms-webhook-receiver`: it never
//! panics, it answers only the documented statuses, it accepts a body only when the signature
//! of exactly those bytes is in the headers, and an oversized body is refused before anything
//! else is looked at.
#![no_main]

use atoms_webhook_models::{sign, SigningSecret};
use atoms_webhook_receiver::{Outcome, Receiver, Rejection};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 4096;

fuzz_target!(|data: &[u8]| {
    // Byte 0: method and whether to sign the body correctly; byte 1: how many header lines
    // follow (each `name:value\n`); the remainder is the body.
    let [mode, count, rest @ ..] = data else { return };
    let method = match mode & 3 {
        0 | 1 => Method::POST,
        2 => Method::GET,
        _ => Method::PUT,
    };
    let mut headers = HeaderMap::new();
    let mut rest = rest;
    for _ in 0..(count % 8) {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else { break };
        let (line, tail) = rest.split_at(end);
        rest = &tail[1..];
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            headers.append(n, v);
        }
    }
    let body = rest;
    let secret = SigningSecret::new("fuzz-secret");
    let signed = mode & 4 != 0;
    if signed {
        if let Ok(v) = HeaderValue::from_str(&sign(&secret, body)) {
            headers.insert("x-signature", v);
        }
    }
    let receiver = Receiver::with_secrets([SigningSecret::new("other-secret"), secret.clone()])
        .unwrap()
        .max_body(LIMIT);
    let outcome = receiver.receive(&method, &headers, body);
    let status = outcome.reply().status.as_u16();
    assert!(matches!(status, 200 | 400 | 401 | 405 | 413), "status {status}");
    let right = sign(&secret, body);
    let carries_right = headers
        .get_all("x-signature")
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.trim().eq_ignore_ascii_case(&right)));
    match &outcome {
        Outcome::Verified(_) | Outcome::Unparseable(_) => {
            assert_eq!(method, Method::POST);
            assert!(body.len() <= LIMIT);
            assert!(carries_right, "accepted a body without its signature");
        }
        Outcome::Rejected(Rejection::TooLarge { .. }) => assert_eq!(method, Method::POST),
        Outcome::Rejected(_) => {}
        _ => {}
    }
    if method != Method::POST {
        assert!(matches!(outcome, Outcome::Rejected(Rejection::MethodNotAllowed)));
    } else if body.len() > LIMIT {
        assert!(matches!(outcome, Outcome::Rejected(Rejection::TooLarge { .. })));
    }
    // The head check agrees with the whole decision on method and announced length.
    if let Err(r) = receiver.check_head(&method, &headers) {
        assert!(matches!(&outcome, Outcome::Rejected(o) if *o == r), "{r:?} then {outcome:?}");
    }
});
