//! The receiver-facing API: accessors, one `CallStatus` per meaning, `null` metric values, and
//! byte-exact round trips without serde_json's order or number features.

mod common;

use atoms_webhook_models::*;
use common::fixtures;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn accessors_read_the_same_on_every_event() {
    let pre = WebhookEvent::from_slice(&read("examples/pre-conversation.json")).unwrap();
    let post = WebhookEvent::from_slice(&read("examples/post-conversation.json")).unwrap();
    let done = WebhookEvent::from_slice(&read("examples/analytics-completed.json")).unwrap();

    assert!(pre.transcript().is_empty());
    assert_eq!(post.transcript().len(), 2);
    assert!(done.transcript().is_empty());

    assert!(pre.call_data().is_none());
    assert_eq!(post.call_status(), Some(&CallStatus::Completed));
    assert_eq!(done.call_status(), Some(&CallStatus::Completed));

    assert!(post.analytics().is_none());
    let analytics = done.analytics().unwrap();
    let metric = analytics.metric("escalation_needed").unwrap();
    assert_eq!(metric.value, Some(MetricValue::Boolean(false)));
    assert_eq!(metric.confidence_f64(), Some(1.0));
    assert!(analytics.metric("nope").is_none());
    assert_eq!(analytics.metrics().count(), 2);

    // Borrowed, and the same id across the three events of one call.
    let ids: Vec<&CallId> = [&pre, &post, &done]
        .iter()
        .map(|e| e.call_id().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        done.agent_id().map(AgentId::as_str),
        Some("69fc7dd072a0c1d28d948ace")
    );
    assert!(post.variables().is_some());
}

#[test]
fn call_status_has_one_variant_per_meaning() {
    for (wire, expected) in [
        ("no_answer", CallStatus::NoAnswer),
        ("no-answer", CallStatus::NoAnswer),
        ("cancelled", CallStatus::Cancelled),
        ("canceled", CallStatus::Cancelled),
        ("busy", CallStatus::Busy),
    ] {
        let body = format!(
            r#"{{"metadata":{{"agentId":"a","eventType":"post-conversation","callId":"C",
               "callData":{{"callStatus":"{wire}"}}}},"id":"d"}}"#
        );
        let e = WebhookEvent::from_str(&body).unwrap();
        assert_eq!(e.call_status(), Some(&expected), "{wire}");
        // The spelling that came in goes back out.
        let out = String::from_utf8(e.to_vec()).unwrap();
        assert!(out.contains(&format!(r#""callStatus":"{wire}""#)), "{out}");
        assert_eq!(out.matches("callStatus").count(), 1, "{out}");
    }
    // A changed status is written in the spec's spelling, not the stale one.
    let mut c: CallData = serde_json::from_str(r#"{"callStatus":"no-answer"}"#).unwrap();
    c.call_status = Some(CallStatus::Failed);
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"callStatus":"failed"}"#
    );
    c.call_status = Some(CallStatus::NoAnswer);
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"callStatus":"no-answer"}"#
    );
}

#[test]
fn null_metric_values_are_typed_and_written_back() {
    let bytes = read("events/analytics-no-conversation.json");
    let e = WebhookEvent::from_slice(&bytes).unwrap();
    let a = e.analytics().unwrap();
    let m = a.metric("turn_taking_balance").unwrap();
    assert_eq!(m.value, Some(MetricValue::Null));
    assert!(m.value.as_ref().unwrap().is_null());
    assert_eq!(m.confidence_f64(), Some(0.0));
    assert!(m
        .reasoning
        .as_deref()
        .unwrap()
        .starts_with("No conversation"));
    assert_eq!(e.call_status(), Some(&CallStatus::NoAnswer));
    let before: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    common::assert_same(&before, &e.to_value(), "no-conversation");
    let out = String::from_utf8(e.to_vec()).unwrap();
    assert!(out.contains(r#""value":null"#), "{out}");
    // `0.0` stays `0.0`, `0` stays `0`.
    assert!(out.contains(r#""confidence":0.0"#), "{out}");
    assert!(out.contains(r#""confidence":0,"#), "{out}");
}

#[test]
fn numbers_and_unknown_fields_keep_their_exact_text_and_order() {
    let body = r#"{"zeta":{"b":1.50,"a":[1e3,-0,123456789012345678901234567890]},"url":"u","metadata":{"agentId":"a","eventType":"post-conversation","callId":"C","callData":{"callDuration":49.3506220000,"x_new":1E-7}},"alpha":true,"id":"d"}"#;
    let e = WebhookEvent::from_str(body).unwrap();
    let out = String::from_utf8(e.to_vec()).unwrap();
    for piece in [
        r#""zeta":{"b":1.50,"a":[1e3,-0,123456789012345678901234567890]}"#,
        r#""callDuration":49.3506220000"#,
        r#""x_new":1E-7"#,
    ] {
        assert!(out.contains(piece), "{piece} not in {out}");
    }
    // Unknown top-level fields come back in arrival order.
    let zeta = out.find("\"zeta\"").unwrap();
    let alpha = out.find("\"alpha\"").unwrap();
    assert!(zeta < alpha, "{out}");
    let d = e.call_data().unwrap();
    assert_eq!(d.call_duration.as_ref().unwrap().as_str(), "49.3506220000");
    assert_eq!(d.duration_secs(), Some(49.350622));
    let WebhookEvent::PostConversation(p) = &e else {
        panic!("not post")
    };
    assert_eq!(p.extra.keys().collect::<Vec<_>>(), ["zeta", "alpha"]);
}

#[test]
fn unknown_events_keep_the_body_and_borrow_their_ids() {
    let bytes = read("events/unknown-event-type.json");
    let e = WebhookEvent::from_slice(&bytes).unwrap();
    let WebhookEvent::Unknown(u) = &e else {
        panic!("not unknown")
    };
    assert_eq!(u.event_type().as_str(), "call-transferred");
    assert_eq!(e.to_vec(), {
        // Written back as sent (the raw text, whitespace inside values included).
        let text = std::str::from_utf8(&bytes).unwrap().trim();
        text.as_bytes().to_vec()
    });
    assert!(e.transcript().is_empty());
    assert!(e.call_status().is_none());
    assert!(!format!("{e:?}").contains("+91"));
}

#[test]
fn open_enums_have_no_made_up_default_and_secrets_compare_by_value() {
    // (A compile-time property: `CallStatus::default()` does not exist. What can be checked at
    // run time is that the metadata defaults carry their own event type.)
    assert_eq!(
        PreConversationMetadata::default().event_type,
        EventType::PreConversation
    );
    assert_eq!(
        AnalyticsCompletedMetadata::default().event_type,
        EventType::AnalyticsCompleted
    );
    assert_eq!(SigningSecret::new("a"), SigningSecret::new("a"));
    assert_ne!(ApiKey::new("a"), ApiKey::new("b"));
}

/// A key sent twice reads as its last value, and the event writes back to itself (found by
/// fuzzing: the spelling kept for a first `callStatus` was written back for a second one).
#[test]
fn a_key_sent_twice_reads_as_its_last_value() {
    let body = |call_data: &str| {
        format!(
            r#"{{"id":"69fd96632b717269846aa433","metadata":{{"agentId":"a","eventType":"post-conversation","callId":"CALL-1","callData":{{{call_data}}}}}}}"#
        )
    };
    for (twice, status) in [
        (
            r#""callStatus":"no-answer","callStatus":"2026-05-08T07:51:58.813Z""#,
            "2026-05-08T07:51:58.813Z",
        ),
        (
            r#""callStatus":"canceled","callStatus":"completed""#,
            "completed",
        ),
        (r#""callStatus":null,"callStatus":"no-answer""#, "no_answer"),
        (
            r#""callStatus":"completed","callStatus":"no-answer","x":1,"x":2"#,
            "no_answer",
        ),
    ] {
        let event = WebhookEvent::from_slice(body(twice).as_bytes()).unwrap();
        assert_eq!(
            event.call_status().map(|s| s.as_str()),
            Some(status),
            "{twice}"
        );
        let again = WebhookEvent::from_slice(&event.to_vec()).unwrap();
        assert_eq!(again, event, "{twice}");
    }
}
