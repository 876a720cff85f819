//! The receive core: statuses, order of the checks, and replies that leak nothing.

mod common;

use std::time::Duration;

use atoms_webhook_models::{EventType, SigningSecret, WebhookEvent};
use atoms_webhook_receiver::{Outcome, Receiver, Rejection};
use common::*;
use http::{HeaderMap, Method, StatusCode};

fn receiver() -> Receiver {
    Receiver::new(secret()).unwrap()
}

#[test]
fn the_three_documented_deliveries_verify_and_parse() {
    for (kind, ty) in [
        (0, EventType::PreConversation),
        (1, EventType::PostConversation),
        (2, EventType::AnalyticsCompleted),
    ] {
        let b = body(
            kind,
            &object_id(t0(), kind as u64),
            "CALL-1778226705739-7e4c17",
        );
        let out = receiver().receive(&Method::POST, &headers(&b), &b);
        assert_eq!(out.reply().status, StatusCode::OK);
        let event = out.into_event().unwrap();
        assert_eq!(event.event_type(), ty);
        assert_eq!(
            event.call_id().map(|c| c.as_str().to_owned()).as_deref(),
            Some("CALL-1778226705739-7e4c17")
        );
    }
}

#[test]
fn rotation_accepts_either_secret() {
    let old = SigningSecret::new("whsec-old");
    let r = Receiver::with_secrets([old.clone(), secret()]).unwrap();
    let b = body(0, &object_id(t0(), 1), "CALL-1");
    for s in [&old, &secret()] {
        assert!(matches!(
            r.receive(&Method::POST, &headers_with(s, &b), &b),
            Outcome::Verified(_)
        ));
    }
    let other = SigningSecret::new("whsec-other");
    assert_eq!(
        r.receive(&Method::POST, &headers_with(&other, &b), &b)
            .into_event()
            .unwrap_err(),
        Rejection::BadSignature
    );
}

#[test]
fn statuses() {
    let r = receiver().max_body(4096);
    let b = body(0, &object_id(t0(), 1), "CALL-1");
    let h = headers(&b);
    let status = |m: &Method, h: &HeaderMap, b: &[u8]| r.receive(m, h, b).reply().status;
    assert_eq!(status(&Method::GET, &h, &b), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(status(&Method::PUT, &h, &b), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        status(&Method::POST, &HeaderMap::new(), &b),
        StatusCode::UNAUTHORIZED
    );
    let mut bad = h.clone();
    bad.insert("x-signature", "not-hex".parse().unwrap());
    assert_eq!(status(&Method::POST, &bad, &b), StatusCode::UNAUTHORIZED);
    let mut tampered = b.clone();
    tampered[10] ^= 1;
    assert_eq!(
        status(&Method::POST, &h, &tampered),
        StatusCode::UNAUTHORIZED
    );
    // Over the limit: 413 even without a signature (the body is never hashed).
    let big = vec![b'x'; 4097];
    assert_eq!(
        r.receive(&Method::POST, &HeaderMap::new(), &big)
            .into_event()
            .unwrap_err(),
        Rejection::TooLarge { limit: 4096 }
    );
    assert_eq!(
        status(&Method::POST, &headers(&big), &big),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // At the limit exactly: fine.
    let mut at = b.clone();
    at.resize(4096, b' ');
    assert_eq!(status(&Method::POST, &headers(&at), &at), StatusCode::OK);
    // Signed but not JSON: 400 when there is no inbox.
    let junk = b"definitely not json".to_vec();
    let out = r.receive(&Method::POST, &headers(&junk), &junk);
    assert!(matches!(out, Outcome::Unparseable(_)));
    assert_eq!(out.reply().status, StatusCode::BAD_REQUEST);
    // An event type this version does not know is a delivery, not an error.
    let unknown = String::from_utf8(body(0, &object_id(t0(), 9), "CALL-9"))
        .unwrap()
        .replace("pre-conversation", "call-transferred")
        .into_bytes();
    let out = r.receive(&Method::POST, &headers(&unknown), &unknown);
    assert!(matches!(out.into_event(), Ok(WebhookEvent::Unknown(_))));
}

#[test]
fn replies_leak_nothing() {
    let r = receiver();
    let b = body(1, &object_id(t0(), 1), "CALL-1");
    let wrong = headers_with(&SigningSecret::new("whsec-other"), &b);
    let junk = b"{\"transcript\": \"my card number is 4111\"".to_vec();
    for out in [
        r.receive(&Method::POST, &wrong, &b),
        r.receive(&Method::POST, &headers(&junk), &junk),
        r.receive(&Method::GET, &headers(&b), &b),
    ] {
        let reply = out.reply();
        assert!(reply.body.len() < 32, "{:?}", reply.body);
        for secret_or_data in [SECRET, "4111", "CALL-1", "+91", "signature mismatch"] {
            assert!(!reply.body.contains(secret_or_data));
        }
        let res = reply.to_response();
        assert_eq!(res.status(), reply.status);
        assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    }
    assert!(!format!("{r:?}").contains(SECRET));
}

#[test]
fn replay_window_is_off_by_default_and_uses_the_clock() {
    let b = body(0, "69fd96118fd277fc807e4c23", "CALL-1");
    let clock = clock();
    clock.advance(Duration::from_secs(86_400 * 365));
    let off = receiver().clock(clock.clone());
    assert!(matches!(
        off.receive(&Method::POST, &headers(&b), &b),
        Outcome::Verified(_)
    ));

    let clock = common::clock();
    let on = receiver()
        .clock(clock.clone())
        .replay_window(Duration::from_secs(60));
    assert!(matches!(
        on.receive(&Method::POST, &headers(&b), &b),
        Outcome::Verified(_)
    ));
    clock.advance(Duration::from_secs(60));
    assert!(matches!(
        on.receive(&Method::POST, &headers(&b), &b),
        Outcome::Verified(_)
    ));
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        on.receive(&Method::POST, &headers(&b), &b)
            .into_event()
            .unwrap_err(),
        Rejection::Stale
    );
    // An id that is not an ObjectId cannot be dated: accepted.
    let b = body(0, "delivery-without-time", "CALL-2");
    assert!(matches!(
        on.receive(&Method::POST, &headers(&b), &b),
        Outcome::Verified(_)
    ));
}

#[test]
fn whole_requests() {
    let b = body(2, &object_id(t0(), 3), "CALL-3");
    let mut req = http::Request::builder()
        .method(Method::POST)
        .uri("/hooks/atoms")
        .body(b.clone())
        .unwrap();
    *req.headers_mut() = headers(&b);
    assert!(matches!(
        receiver().receive_request(&req),
        Outcome::Verified(_)
    ));
}
