//! Property tests: every public type survives a JSON round trip unchanged.

mod common;

use atoms_webhook_models::strategies as st;
use atoms_webhook_models::*;
use proptest::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;

fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let json = serde_json::to_vec(value).unwrap();
    let back: T = from_slice(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, value);
    let before: serde_json::Value = serde_json::from_slice(&json).unwrap();
    common::assert_same(&before, &serde_json::to_value(&back).unwrap(), "round trip");
    Ok(())
}

/// Every documented wire value maps to its own variant (not `Unknown`, not a neighbour).
#[test]
fn known_values_map_to_their_variants() {
    let events = [
        ("pre-conversation", EventType::PreConversation),
        ("post-conversation", EventType::PostConversation),
        ("analytics-completed", EventType::AnalyticsCompleted),
    ];
    for (wire, variant) in events {
        assert_eq!(EventType::parse(wire), variant);
        assert_eq!(variant.as_str(), wire);
    }
    assert_eq!(CallStatus::parse("completed"), CallStatus::Completed);
    assert_eq!(
        CallDirection::parse("telephony_inbound"),
        CallDirection::TelephonyInbound
    );
    assert_eq!(
        EventType::parse("Post-Conversation"),
        EventType::Unknown("Post-Conversation".to_owned())
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn enums(a in st::event_type(), b in st::webhook_status(), c in st::call_status(),
             d in st::call_direction(), e in st::conversation_type(), f in st::role(), g in st::metric_type()) {
        check(&a)?; check(&b)?; check(&c)?; check(&d)?; check(&e)?; check(&f)?; check(&g)?;
        // Display and FromStr agree with the wire form.
        prop_assert_eq!(a.to_string().parse::<EventType>().unwrap(), a.clone());
        // `Unknown` is only ever made from strings outside the known set (else a known value
        // would compare unequal to itself after a round trip).
        if let EventType::Unknown(raw) = &a {
            prop_assert!(!EventType::KNOWN.contains(&raw.as_str()), "{raw}");
        }
        if let CallStatus::Unknown(raw) = &c {
            prop_assert!(!CallStatus::KNOWN.contains(&raw.as_str()), "{raw}");
        }
    }

    #[test]
    fn rest_types(w in st::webhook(), s in st::webhook_subscription(), p in st::populated_subscription(),
                  a in st::webhook_agent(), e in st::api_error_body()) {
        check(&w)?; check(&s)?; check(&p)?; check(&a)?; check(&e)?;
        check(&ApiResponse::ok(vec![w.clone()]))?;
        let debug = format!("{:?}", w);
        if let Some(secret) = w.signing_secret() {
            prop_assert!(!debug.contains(secret.expose()));
        }
    }

    #[test]
    fn request_bodies(c in st::create_webhook_request(), u in st::update_webhook_request(),
                      r in st::replace_subscriptions_request()) {
        check(&c)?; check(&u)?; check(&r)?;
    }

    #[test]
    fn delivery_parts(c in st::call_data(true), t in st::transcript_turn(true), m in st::metric(true),
                      a in st::analytics(true), v in st::variables(), ts in st::timestamp()) {
        check(&c)?; check(&t)?; check(&m)?; check(&a)?; check(&v)?; check(&ts)?;
    }

    #[test]
    fn events(e in st::webhook_event()) {
        let bytes = e.to_vec();
        let back = WebhookEvent::from_slice(&bytes).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(&back, &e);
        prop_assert_eq!(back.is_unknown(), !e.event_type().is_known());
        let before: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        common::assert_same(&before, &back.to_value(), "event");
        let via_serde: WebhookEvent = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(via_serde, e);
    }

    #[test]
    fn call_logs(l in st::call_log(true), p in st::call_log_page(true)) {
        check(&l)?; check(&p)?;
        check(&ApiResponse::ok(p.clone()))?;
        // Final means one of the statuses after which nothing changes; unknown is never final.
        if let Some(s) = &l.status {
            prop_assert_eq!(l.is_final(), s.is_final());
            if !s.is_known() { prop_assert!(!l.is_final()); }
        }
        let debug = format!("{l:?}");
        if let Some(from) = &l.from { prop_assert!(!debug.contains(from.as_str())); }
    }

    #[test]
    fn signatures(body in proptest::collection::vec(any::<u8>(), 0..512), secret in "[ -~]{1,40}", flip in any::<usize>()) {
        let secret = SigningSecret::new(secret);
        let sig = sign(&secret, &body);
        let v = Verifier::new(secret).unwrap();
        prop_assert!(v.verify(&body, &sig).is_ok());
        if !body.is_empty() {
            let mut t = body.clone();
            t[flip % body.len()] ^= 0x20;
            prop_assert!(matches!(v.verify(&t, &sig), Err(VerifyError::Mismatch)));
        }
    }

    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = WebhookEvent::from_slice(&bytes);
        let _ = from_slice::<Webhook>(&bytes);
    }
}
