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

mod properties {
    use super::*;
    use atoms_webhook_models::sign;
    use proptest::prelude::*;

    const NAMES: [&str; 5] = [
        "x-signature",
        "X-Signature",
        "content-length",
        "x-atoms-signature",
        "content-type",
    ];

    proptest! {
        /// Any method, headers and body (the fuzz target's property, run in CI): no panic,
        /// only documented statuses, and a body is accepted only when a header carries its
        /// signature.
        #[test]
        fn receive_core_never_accepts_unsigned(
            method in prop::sample::select(vec!["POST", "GET", "PUT", "DELETE"]),
            raw in prop::collection::vec((0..NAMES.len(), prop::collection::vec(any::<u8>(), 0..80)), 0..4),
            body in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..3000),
                Just(common::body(1, "69fd96578d7c3809f58ce555", "CALL-1")),
            ],
            add_good in any::<bool>(),
        ) {
            let r = Receiver::new(secret()).unwrap().max_body(2048);
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let mut headers = HeaderMap::new();
            for (name, value) in raw {
                if let Ok(v) = http::HeaderValue::from_bytes(&value) {
                    headers.append(NAMES[name], v);
                }
            }
            let good = sign(&secret(), &body);
            if add_good {
                headers.insert("x-signature", good.parse().unwrap());
            }
            let out = r.receive(&method, &headers, &body);
            let status = out.reply().status.as_u16();
            prop_assert!([200, 400, 401, 405, 413].contains(&status));
            if matches!(out, Outcome::Verified(_) | Outcome::Unparseable(_)) {
                prop_assert!(body.len() <= 2048);
                prop_assert_eq!(&method, &Method::POST);
                let carried = headers
                    .iter()
                    .filter_map(|(_, v)| v.to_str().ok())
                    .any(|v| v.to_ascii_lowercase().contains(&good));
                prop_assert!(carried);
            } else if add_good && method == Method::POST && body.len() <= 2048
                && headers.get_all("x-signature").iter().count() == 1
                && !headers.contains_key("content-length")
                && !headers.contains_key("x-atoms-signature")
            {
                prop_assert!(false, "a correctly signed body was refused: {:?}", out);
            }
        }
    }
}

#[test]
fn signature_headers() {
    let r = receiver();
    let b = body(0, &object_id(t0(), 4), "CALL-4");
    let good = atoms_webhook_models::sign(&secret(), &b);
    let wrong = atoms_webhook_models::sign(&SigningSecret::new("other"), &b);
    let with = |pairs: &[(&str, &str)]| {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        r.receive(&Method::POST, &h, &b).into_event().err()
    };
    // The older header name alone is accepted.
    assert_eq!(with(&[("X-Atoms-Signature", &good)]), None);
    // Both names: both must verify.
    assert_eq!(
        with(&[("x-signature", &good), ("x-atoms-signature", &good)]),
        None
    );
    assert_eq!(
        with(&[("x-signature", &good), ("x-atoms-signature", &wrong)]),
        Some(Rejection::BadSignature)
    );
    // Repeated: refused, even when one copy is right.
    assert_eq!(
        with(&[("x-signature", &good), ("x-signature", &good)]),
        Some(Rejection::BadSignature)
    );
    assert_eq!(
        with(&[("x-other", &good)]),
        Some(Rejection::MissingSignature)
    );
}
