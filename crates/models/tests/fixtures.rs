//! Every fixture parses into its type and serializes back to the same JSON.

mod common;

use atoms_webhook_models::*;
use common::{assert_same, fixtures};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn round_trip<T: DeserializeOwned + Serialize>(rel: &str) -> T {
    let bytes = read(rel);
    let before: Value = serde_json::from_slice(&bytes).unwrap();
    let typed: T = from_slice(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let after = serde_json::to_value(&typed).unwrap();
    assert_same(&before, &after, rel);
    typed
}

fn event(rel: &str) -> WebhookEvent {
    let bytes = read(rel);
    let before: Value = serde_json::from_slice(&bytes).unwrap();
    let e = WebhookEvent::from_slice(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_same(&before, &e.to_value(), rel);
    assert_same(&before, &serde_json::from_slice(&e.to_vec()).unwrap(), rel);
    // The serde path and the value path agree with the fast path.
    let via_serde: WebhookEvent = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(via_serde, e, "{rel}: serde path disagrees");
    assert_eq!(
        WebhookEvent::from_value(before).unwrap(),
        e,
        "{rel}: value path disagrees"
    );
    e
}

#[test]
fn spec_rest_schemas() {
    let w: Webhook = round_trip("spec/Webhook.json");
    assert!(w.signing_secret().is_some());
    assert_eq!(w.subscription_list().len(), 1);
    let a: WebhookAgent = round_trip("spec/WebhookAgent.json");
    assert!(a.name.is_some());
    let s: PopulatedSubscription = round_trip("spec/WebhookSubscriptionPopulated.json");
    assert!(matches!(s.agent, Some(AgentRef::Populated(_))));
    let s: WebhookSubscription = round_trip("spec/WebhookSubscription.json");
    assert!(s.event_type.as_ref().is_some_and(EventType::is_known));
}

#[test]
fn spec_delivery_schemas() {
    let c: CallData = round_trip("spec/WebhookEventCallData.json");
    assert!(c.duration_secs().is_some());
    let t: TranscriptTurn = round_trip("spec/WebhookEventTranscriptTurn.json");
    assert!(t.role.is_some());
    let m: Metric = round_trip("spec/WebhookEventAnalyticsMetric.json");
    assert!(m.value.is_some());
    assert!(matches!(
        event("spec/WebhookEventPreConversation.json"),
        WebhookEvent::PreConversation(_)
    ));
    assert!(matches!(
        event("spec/WebhookEventPostConversation.json"),
        WebhookEvent::PostConversation(_)
    ));
    assert!(matches!(
        event("spec/WebhookEventAnalyticsCompleted.json"),
        WebhookEvent::AnalyticsCompleted(_)
    ));
}

#[test]
fn spec_envelope_with_each_example_metadata() {
    let envelope: Value = serde_json::from_slice(&read("spec/WebhookEventEnvelope.json")).unwrap();
    for ex in [
        "pre-conversation",
        "post-conversation",
        "analytics-completed",
    ] {
        let example: Value = serde_json::from_slice(&read(&format!("examples/{ex}.json"))).unwrap();
        let mut body = envelope.clone();
        body["metadata"] = example["metadata"].clone();
        let e = WebhookEvent::from_value(body.clone()).unwrap();
        assert_eq!(e.event_type().as_str(), ex);
        assert_same(&body, &e.to_value(), ex);
    }
}

#[test]
fn documented_examples() {
    let pre = event("examples/pre-conversation.json");
    let post = event("examples/post-conversation.json");
    let done = event("examples/analytics-completed.json");
    for e in [&pre, &post, &done] {
        assert_eq!(e.call_id().unwrap().as_str(), "CALL-1778226705739-7e4c17");
        assert_eq!(e.agent_id().unwrap().as_str(), "69fc7dd072a0c1d28d948ace");
        assert_eq!(e.from_number(), Some("+918035317096"));
        assert_eq!(e.to_number(), Some("+916296641821"));
        assert_eq!(
            e.conversation_type(),
            Some(ConversationType::TelephonyOutbound)
        );
    }
    let WebhookEvent::PostConversation(p) = &post else {
        panic!("not post")
    };
    let m = &p.metadata;
    assert_eq!(m.transcript.as_ref().unwrap().len(), 2);
    assert_eq!(m.transcript.as_ref().unwrap()[1].text(), "हाँ बोलिए");
    let cd = m.call_data.as_ref().unwrap();
    assert_eq!(cd.call_status, Some(CallStatus::Completed));
    assert_eq!(cd.call_direction, Some(CallDirection::TelephonyOutbound));
    assert_eq!(cd.duration().unwrap().as_millis(), 49_350);
    assert_eq!(
        cd.answer_time.as_ref().unwrap().as_str(),
        "2026-05-08T07:51:58.813Z"
    );
    let vars = m.variables.as_ref().unwrap();
    assert_eq!(vars.timezone(), Some("Asia/Kolkata"));
    assert_eq!(vars.supported_languages(), vec!["hi", "en"]);
    assert_eq!(
        vars.custom().map(|(k, _)| k).collect::<Vec<_>>(),
        ["agent_name", "customer_name", "due_amount"]
    );
    let WebhookEvent::AnalyticsCompleted(a) = &done else {
        panic!("not analytics")
    };
    let an = a.metadata.analytics.as_ref().unwrap();
    assert_eq!(
        an.disposition_list()[0].value,
        Some(MetricValue::Integer(2))
    );
    assert_eq!(
        an.disposition_list()[1].value,
        Some(MetricValue::Boolean(false))
    );
    assert_eq!(
        an.disposition_list()[1].metric_type,
        Some(MetricType::Boolean)
    );
    assert!(a
        .metadata
        .call_data
        .as_ref()
        .unwrap()
        .call_direction
        .is_none());
}

#[test]
fn guide_values_and_unknown_fields() {
    let e = event("events/analytics-guide-values.json");
    let WebhookEvent::AnalyticsCompleted(a) = &e else {
        panic!()
    };
    // The guide's spelling is the same variant, and written back as sent (checked by `event`).
    assert!(matches!(e.call_status(), Some(CallStatus::NoAnswer)));
    let s = a.metadata.analytics.as_ref().unwrap().success_list();
    assert_eq!(s[0].confidence_f64(), Some(0.87));
    assert!(matches!(s[1].value, Some(MetricValue::Other(_))));
    assert_eq!(s[1].metric_type, Some(MetricType::Unknown("FLOAT".into())));
    assert!(a.metadata.extra.contains_key("sentiment"));

    let e = event("events/post-guide-values.json");
    let WebhookEvent::PostConversation(p) = &e else {
        panic!()
    };
    let cd = p.metadata.call_data.as_ref().unwrap();
    assert!(matches!(e.call_status(), Some(CallStatus::Cancelled)));
    assert_eq!(
        cd.call_direction,
        Some(CallDirection::Unknown("webrtc".into()))
    );
    assert_eq!(cd.duration_secs(), Some(49.0));
    assert_eq!(
        p.metadata.transcript.as_ref().unwrap()[2].role,
        Some(Role::Unknown("tool".into()))
    );
    assert!(p.metadata.recording_url.is_none());
    assert!(p.extra.contains_key("deliveredAt"));

    let e = event("events/unknown-event-type.json");
    assert!(e.is_unknown());
    assert_eq!(
        e.event_type(),
        EventType::Unknown("call-transferred".into())
    );
    assert_eq!(e.call_id().unwrap().as_str(), "CALL-1778226705739-7e4c17");
    assert_eq!(
        e.delivery_id().unwrap().as_str(),
        "69fd96118fd277fc807e4c99"
    );
}

#[test]
fn rest_responses() {
    let seed: ApiResponse<OneOrMany<Webhook>> = round_trip("rest/get-webhook-seed.json");
    assert_eq!(seed.data.into_vec().len(), 1);
    let list: ApiResponse<OneOrMany<Webhook>> = round_trip("rest/list-webhooks.json");
    let hooks = list.data.into_vec();
    let w = &hooks[0];
    assert!(!w.is_enabled());
    assert_eq!(w.subscription_list()[0].agent, None);
    assert_eq!(
        w.subscription_list()[1].agent.as_ref().unwrap().name(),
        Some("Nisha")
    );
    assert_eq!(
        w.subscription_list()[1].event_type,
        Some(EventType::Unknown("call-transferred".into()))
    );
    assert_eq!(w.agent_ids().len(), 1);
    assert_eq!(
        w.custom_headers(),
        vec![("x-api-key".to_owned(), "gateway".to_owned())]
    );
    assert!(!format!("{w:?}")
        .contains("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
    let subs: ApiResponse<Vec<WebhookSubscription>> = round_trip("rest/agent-subscriptions.json");
    assert_eq!(
        subs.data[0].agent_id.as_ref().unwrap().as_str(),
        "69fc7dd072a0c1d28d948ace"
    );
    let err: ApiErrorBody = round_trip("rest/error-still-assigned.json");
    assert!(err.messages()[0].starts_with("Cannot delete webhook"));
    let err: ApiErrorBody = round_trip("rest/error-structured.json");
    assert_eq!(err.messages(), vec!["must be a URL".to_owned()]);
}

#[test]
fn every_declared_enum_value_is_a_known_variant() {
    let enums: serde_json::Map<String, Value> =
        serde_json::from_slice(&read("enums.json")).unwrap();
    assert!(!enums.is_empty());
    for (key, values) in &enums {
        let field = key
            .rsplit(['.', ' '])
            .next()
            .unwrap()
            .trim_end_matches("[]");
        let known: fn(&str) -> bool = match field {
            "eventType" | "eventTypes" => |s| EventType::parse(s).is_known(),
            "status" => |s| WebhookStatus::parse(s).is_known(),
            "callStatus" => |s| CallStatus::parse(s).is_known(),
            "callDirection" => |s| CallDirection::parse(s).is_known(),
            "role" => |s| Role::parse(s).is_known(),
            "dispositionMetricType" => |s| MetricType::parse(s).is_known(),
            other => panic!("enums.json has `{key}` ({other}), which no type maps: add it here"),
        };
        for v in values.as_array().unwrap() {
            let v = v.as_str().unwrap();
            assert!(known(v), "{key}: `{v}` parses as Unknown");
        }
    }
}

#[test]
fn the_guide_values_are_known_too() {
    for v in [
        "completed",
        "no-answer",
        "busy",
        "failed",
        "canceled",
        "no_answer",
        "cancelled",
    ] {
        assert!(CallStatus::parse(v).is_known(), "{v}");
    }
    for v in ["STRING", "BOOLEAN", "INTEGER", "ENUM", "DATETIME"] {
        assert!(MetricType::parse(v).is_known(), "{v}");
    }
}

#[test]
fn call_logs_from_the_spec() {
    let one: ApiResponse<CallLog> = round_trip("spec/GetConversation.json");
    let log = one.data;
    assert_eq!(
        log.call_id.as_ref().unwrap().as_str(),
        "CALL-1737000000000-abc123"
    );
    assert_eq!(log.status, Some(CallStatus::Completed));
    assert!(log.is_final());
    assert!(log.resolved_agent_id().is_some());
    assert!(!log.transcript_list().is_empty());
    assert!(log.post_call_analytics.is_some());
    // Phone numbers and the agent never show in Debug.
    let debug = format!("{log:?}");
    assert!(!debug.contains("example-name"), "{debug}");

    let page: ApiResponse<CallLogPage> = round_trip("spec/GetConversations.json");
    let page = page.data;
    assert_eq!(page.log_list().len(), 1);
    assert!(page.has_more());
    let item = &page.log_list()[0];
    assert_eq!(item.call_type, Some(CallDirection::TelephonyOutbound));
    assert_eq!(item.duration.as_ref().and_then(Number::as_f64), Some(120.0));
    assert_eq!(page.pagination.as_ref().unwrap().total_pages, Some(15));
}

#[test]
fn call_log_statuses_and_unknown_fields() {
    for (wire, fin) in [
        ("pending", false),
        ("in_progress", false),
        ("in_queue", false),
        ("processing", false),
        ("active", false),
        ("completed", true),
        ("failed", true),
        ("no_answer", true),
        ("cancelled", true),
        ("transferring", false),
    ] {
        let body = format!(r#"{{"callId":"CALL-1","status":"{wire}","x_new":{{"b":1.50,"a":2}}}}"#);
        let log: CallLog = from_slice(body.as_bytes()).unwrap();
        assert_eq!(log.is_final(), fin, "{wire}");
        assert_eq!(serde_json::to_string(&log).unwrap(), body, "{wire}");
    }
}
