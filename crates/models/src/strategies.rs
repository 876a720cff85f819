//! `proptest` strategies for every public type (feature `proptest`).
//!
//! Everything generated here survives a JSON round trip unchanged. Enums are generated as known
//! variants or as `Unknown` holding a string outside the known set; unknown object fields use
//! names that no type knows (`x_` prefix). [`known_event`] draws only documented event types
//! and enum values, for cross-checks with other implementations.

// Built the way code outside the crate must build `#[non_exhaustive]` structs.
#![allow(clippy::field_reassign_with_default)]

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use serde_json::Value;

use crate::{Fields, Json, Number};

use crate::*;

/// Any of the known values of an open enum, or an `Unknown` outside the known set.
fn open<T: Clone + std::fmt::Debug + 'static>(
    known: &'static [&'static str],
    parse: fn(&str) -> T,
    unknown: bool,
) -> BoxedStrategy<T> {
    let k = proptest::sample::select(known).prop_map(parse);
    if unknown {
        prop_oneof![
            4 => k,
            1 => "[a-z_-]{1,12}"
                .prop_filter("outside the known set", move |s| !known.contains(&s.as_str()))
                .prop_map(move |s| parse(&s)),
        ]
        .boxed()
    } else {
        k.boxed()
    }
}

/// The `callStatus` values deliveries document (the call logs add non-final ones).
const DELIVERY_CALL_STATUSES: &[&str] = &[
    "completed",
    "no_answer",
    "no-answer",
    "busy",
    "failed",
    "cancelled",
    "canceled",
];

/// The `callDirection` values deliveries document (the call logs' `type` adds `webcall`).
const DELIVERY_CALL_DIRECTIONS: &[&str] = &["telephony_outbound", "telephony_inbound"];

macro_rules! enum_strategy {
    ($($fn:ident => $ty:ident;)*) => {$(
        /// Known values and `Unknown` values of this enum.
        pub fn $fn() -> BoxedStrategy<$ty> {
            open($ty::KNOWN, $ty::parse, true)
        }
    )*};
}

enum_strategy! {
    event_type => EventType;
    webhook_status => WebhookStatus;
    call_status => CallStatus;
    call_direction => CallDirection;
    conversation_type => ConversationType;
    role => Role;
    metric_type => MetricType;
}

/// A 24-hex object id string.
pub fn object_id() -> impl Strategy<Value = String> {
    "[0-9a-f]{24}"
}

/// Short text, including non-ASCII and characters JSON must escape.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .,'-]{0,24}",
        "\\PC{0,12}",
        Just("नमस्ते \"quoted\" \\ tab\t…".to_owned())
    ]
}

/// A timestamp in the API's form, or now and then another valid ISO 8601 form.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        (0i64..4_102_444_800_000).prop_map(|ms| {
            Timestamp::from_datetime(
                chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default(),
            )
        }),
        Just(Timestamp::parse("2023-11-07T05:31:56Z")),
        Just(Timestamp::parse("2026-05-08T13:21:58.813+05:30")),
    ]
}

/// A JSON number as the API may send it: an integer or a finite float.
pub fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i32>().prop_map(Number::from),
        (0.0f64..100_000.0).prop_filter_map("finite", Number::from_f64),
    ]
}

/// A small JSON value (scalars, short arrays, small objects).
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_filter_map("finite", |n| {
            serde_json::from_str::<serde_json::Number>(n.as_str())
                .ok()
                .map(Value::Number)
        }),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Unknown fields: names no type knows, small values.
pub fn extra() -> impl Strategy<Value = Fields> {
    proptest::collection::btree_map("x_[a-z]{1,8}", json_value(), 0..2)
        .prop_map(|m| m.into_iter().collect())
}

/// No unknown fields (for strategies meant to match other implementations exactly).
fn no_extra() -> impl Strategy<Value = Fields> {
    Just(Fields::new())
}

fn extras(with_unknown: bool) -> BoxedStrategy<Fields> {
    if with_unknown {
        extra().boxed()
    } else {
        no_extra().boxed()
    }
}

/// A phone number in E.164 form.
pub fn phone() -> impl Strategy<Value = String> {
    "\\+[1-9][0-9]{9,12}"
}

/// A [`WebhookAgent`].
pub fn webhook_agent() -> impl Strategy<Value = WebhookAgent> {
    (object_id(), option::of(text()), option::of(text()), extra()).prop_map(
        |(id, name, description, extra)| {
            let mut a = WebhookAgent::default();
            a.id = id.into();
            a.name = name;
            a.description = description;
            a.extra = extra;
            a
        },
    )
}

/// An [`AgentRef`].
pub fn agent_ref() -> impl Strategy<Value = AgentRef> {
    prop_oneof![
        webhook_agent().prop_map(AgentRef::Populated),
        object_id().prop_map(|id| AgentRef::Id(id.into())),
    ]
}

/// A [`PopulatedSubscription`].
pub fn populated_subscription() -> impl Strategy<Value = PopulatedSubscription> {
    (
        object_id(),
        option::of(object_id()),
        option::of(agent_ref()),
        option::of(event_type()),
        option::of(timestamp()),
        option::of(timestamp()),
        extra(),
    )
        .prop_map(
            |(id, webhook, agent, event_type, created, updated, extra)| {
                let mut s = PopulatedSubscription::default();
                s.id = id.into();
                s.webhook_id = webhook.map(Into::into);
                s.agent = agent;
                s.event_type = event_type;
                s.created_at = created;
                s.updated_at = updated;
                s.extra = extra;
                s
            },
        )
}

/// A [`Webhook`].
pub fn webhook() -> impl Strategy<Value = Webhook> {
    (
        (
            object_id(),
            option::of("https://[a-z]{1,10}\\.example/[a-z]{0,8}"),
            option::of(text()),
        ),
        (
            option::of(webhook_status()),
            option::of(object_id()),
            option::of(object_id()),
        ),
        option::of(vec(populated_subscription(), 0..3)),
        option::of("[0-9a-f]{64}"),
        (option::of(timestamp()), option::of(timestamp()), extra()),
    )
        .prop_map(
            |((id, url, description), (status, org, by), subs, secret, (c, u, extra))| {
                let mut w = Webhook::default();
                w.id = id.into();
                w.url = url;
                w.description = description;
                w.status = status;
                w.organization_id = org.map(Into::into);
                w.created_by = by.map(Into::into);
                w.subscriptions = subs;
                w.decrypted_secret_key = secret.map(SigningSecret::new);
                w.created_at = c;
                w.updated_at = u;
                w.extra = extra;
                w
            },
        )
}

/// A [`WebhookSubscription`].
pub fn webhook_subscription() -> impl Strategy<Value = WebhookSubscription> {
    (
        object_id(),
        option::of(object_id()),
        option::of(object_id()),
        option::of(event_type()),
        option::of(timestamp()),
        option::of(timestamp()),
        extra(),
    )
        .prop_map(
            |(id, webhook, agent, event_type, created, updated, extra)| {
                let mut s = WebhookSubscription::default();
                s.id = id.into();
                s.webhook_id = webhook.map(Into::into);
                s.agent_id = agent.map(Into::into);
                s.event_type = event_type;
                s.created_at = created;
                s.updated_at = updated;
                s.extra = extra;
                s
            },
        )
}

/// A [`CreateWebhookRequest`].
pub fn create_webhook_request() -> impl Strategy<Value = CreateWebhookRequest> {
    (
        "https://[a-z]{1,10}\\.example/h",
        text(),
        vec((object_id(), event_type()), 0..4),
    )
        .prop_map(|(endpoint, description, events)| {
            let mut r = CreateWebhookRequest::new(endpoint, description);
            for (a, e) in events {
                r = r.event(a, e);
            }
            r
        })
}

/// A [`HeadersUpdate`].
pub fn headers_update() -> impl Strategy<Value = HeadersUpdate> {
    prop_oneof![
        Just(HeadersUpdate::Keep),
        Just(HeadersUpdate::Clear),
        proptest::collection::btree_map("x-[a-z]{1,8}", "[ -~]{0,16}", 1..4)
            .prop_map(|m| HeadersUpdate::Replace(m.into_iter().collect())),
    ]
}

/// An [`UpdateWebhookRequest`].
pub fn update_webhook_request() -> impl Strategy<Value = UpdateWebhookRequest> {
    (
        option::of("https://[a-z]{1,10}\\.example/h"),
        option::of(text()),
        headers_update(),
    )
        .prop_map(|(endpoint, description, headers)| UpdateWebhookRequest {
            endpoint,
            description,
            headers,
        })
}

/// A [`ReplaceSubscriptionsRequest`].
pub fn replace_subscriptions_request() -> impl Strategy<Value = ReplaceSubscriptionsRequest> {
    (object_id(), vec(event_type(), 0..4))
        .prop_map(|(w, types)| ReplaceSubscriptionsRequest::new(w, types))
}

/// An [`ApiErrorBody`].
pub fn api_error_body() -> impl Strategy<Value = ApiErrorBody> {
    (vec(text(), 0..3), extra()).prop_map(|(msgs, extra)| {
        let mut b = ApiErrorBody::new(msgs);
        b.extra = extra;
        b
    })
}

/// [`CallData`]; `unknown` allows unknown enum values and fields.
pub fn call_data(unknown: bool) -> impl Strategy<Value = CallData> {
    (
        (
            maybe(!unknown, phone()),
            maybe(!unknown, phone()),
            maybe(!unknown, number()),
        ),
        maybe(
            !unknown,
            open(DELIVERY_CALL_STATUSES, CallStatus::parse, unknown),
        ),
        maybe(
            !unknown,
            open(DELIVERY_CALL_DIRECTIONS, CallDirection::parse, unknown),
        ),
        (
            maybe(!unknown, timestamp()),
            maybe(!unknown, timestamp()),
            extras(unknown),
        ),
    )
        .prop_map(
            |((from, to, duration), status, direction, (answer, end, extra))| {
                let mut c = CallData::default();
                c.from_number = from;
                c.to_number = to;
                c.call_duration = duration;
                c.call_status = status;
                c.call_direction = direction;
                c.answer_time = answer;
                c.end_time = end;
                c.extra = extra;
                c
            },
        )
}

/// A [`TranscriptTurn`].
pub fn transcript_turn(unknown: bool) -> impl Strategy<Value = TranscriptTurn> {
    (
        maybe(!unknown, open(Role::KNOWN, Role::parse, unknown)),
        maybe(!unknown, text()),
        maybe(!unknown, timestamp()),
        extras(unknown),
    )
        .prop_map(|(role, content, ts, extra)| {
            let mut t = TranscriptTurn::default();
            t.role = role;
            t.content = content;
            t.timestamp = ts;
            t.extra = extra;
            t
        })
}

/// A [`MetricValue`]; `unknown` also draws values outside integer/string/boolean.
pub fn metric_value(unknown: bool) -> BoxedStrategy<MetricValue> {
    let known = prop_oneof![
        any::<i64>().prop_map(MetricValue::Integer),
        text().prop_map(MetricValue::String),
        any::<bool>().prop_map(MetricValue::Boolean),
        Just(MetricValue::Null),
    ];
    if unknown {
        prop_oneof![
            4 => known,
            1 => prop_oneof![
                (0.5f64..10.0).prop_filter_map("finite", |f| Number::from_f64(f).map(Json::from)),
                vec(text().prop_map(Value::String), 0..2).prop_map(|v| Json::from(Value::Array(v))),
            ]
            .prop_map(MetricValue::Other),
        ]
        .boxed()
    } else {
        known.boxed()
    }
}

/// A [`Metric`].
pub fn metric(unknown: bool) -> impl Strategy<Value = Metric> {
    (
        (
            maybe(!unknown, "[a-z_]{1,16}"),
            maybe(!unknown, metric_value(unknown)),
        ),
        maybe(
            !unknown,
            prop_oneof![
                Just(Number::from(1)),
                Just(Number::from(0)),
                (0.0f64..1.0).prop_filter_map("finite", Number::from_f64)
            ],
        ),
        (maybe(!unknown, text()), maybe(!unknown, text())),
        maybe(
            !unknown,
            open(MetricType::KNOWN, MetricType::parse, unknown),
        ),
        extras(unknown),
    )
        .prop_map(
            |((identifier, value), confidence, (reasoning, prompt), ty, extra)| {
                let mut m = Metric::default();
                m.identifier = identifier;
                m.value = value;
                m.confidence = confidence;
                m.reasoning = reasoning;
                m.prompt = prompt;
                m.metric_type = ty;
                m.extra = extra;
                m
            },
        )
}

/// [`Analytics`].
pub fn analytics(unknown: bool) -> impl Strategy<Value = Analytics> {
    (
        maybe(!unknown, text()),
        maybe(!unknown, vec(metric(unknown), 0..3)),
        maybe(!unknown, vec(metric(unknown), 0..2)),
        extras(unknown),
    )
        .prop_map(|(summary, d, s, extra)| {
            let mut a = Analytics::default();
            a.summary = summary;
            a.disposition_metrics = d;
            a.success_metrics = s;
            a.extra = extra;
            a
        })
}

/// [`Variables`]: the eleven standard keys, then custom ones.
pub fn variables() -> impl Strategy<Value = Variables> {
    (
        vec(text(), 11),
        proptest::collection::btree_map("[a-z]{1,6}_[a-z]{1,6}", json_value(), 0..4),
    )
        .prop_map(|(std_values, custom)| {
            let mut v = Variables::default();
            for (k, val) in Variables::STANDARD_KEYS.iter().zip(std_values) {
                v.insert(*k, val);
            }
            for (k, val) in custom {
                if !Variables::STANDARD_KEYS.contains(&k.as_str()) {
                    v.insert(k, val);
                }
            }
            v
        })
}

fn envelope(
    agent: &str,
    et: &EventType,
    unknown: bool,
) -> impl Strategy<Value = (Option<String>, Option<String>, Option<String>, String)> {
    let event = format!("{agent}.{et}");
    (
        maybe(!unknown, Just("https://example.com/webhook".to_owned())),
        maybe(!unknown, text()),
        maybe(!unknown, Just(event)),
        object_id(),
    )
}

/// A `pre-conversation` event.
pub fn pre_conversation(unknown: bool) -> impl Strategy<Value = PreConversationEvent> {
    (
        object_id(),
        "CALL-[0-9]{13}-[0-9a-f]{6}",
        maybe(
            !unknown,
            open(ConversationType::KNOWN, ConversationType::parse, unknown),
        ),
        maybe(!unknown, phone()),
        maybe(!unknown, phone()),
        extras(unknown),
        extras(unknown),
    )
        .prop_flat_map(move |(agent, call, ct, to, from, mx, ex)| {
            envelope(&agent, &EventType::PreConversation, unknown).prop_map(
                move |(url, description, event, id)| {
                    let mut m = PreConversationMetadata::default();
                    m.agent_id = agent.clone().into();
                    m.event_type = EventType::PreConversation;
                    m.conversation_type = ct.clone();
                    m.to_phone = to.clone();
                    m.from_phone = from.clone();
                    m.call_id = call.clone().into();
                    m.extra = mx.clone();
                    let mut e = PreConversationEvent::default();
                    e.url = url;
                    e.description = description;
                    e.event = event;
                    e.metadata = m;
                    e.id = id.into();
                    e.extra = ex.clone();
                    e
                },
            )
        })
}

/// A `post-conversation` event.
pub fn post_conversation(unknown: bool) -> impl Strategy<Value = PostConversationEvent> {
    (
        (
            object_id(),
            "CALL-[0-9]{13}-[0-9a-f]{6}",
            maybe(
                !unknown,
                open(ConversationType::KNOWN, ConversationType::parse, unknown),
            ),
        ),
        maybe(
            !unknown,
            Just("https://recordings.example/call.wav".to_owned()),
        ),
        maybe(!unknown, call_data(unknown)),
        maybe(!unknown, vec(transcript_turn(unknown), 0..6)),
        maybe(!unknown, variables()),
        (extras(unknown), extras(unknown)),
    )
        .prop_flat_map(move |((agent, call, ct), rec, cd, tr, vars, (mx, ex))| {
            envelope(&agent, &EventType::PostConversation, unknown).prop_map(
                move |(url, description, event, id)| {
                    let mut m = PostConversationMetadata::default();
                    m.agent_id = agent.clone().into();
                    m.event_type = EventType::PostConversation;
                    m.conversation_type = ct.clone();
                    m.call_id = call.clone().into();
                    m.recording_url = rec.clone();
                    m.call_data = cd.clone();
                    m.transcript = tr.clone();
                    m.variables = vars.clone();
                    m.extra = mx.clone();
                    let mut e = PostConversationEvent::default();
                    e.url = url;
                    e.description = description;
                    e.event = event;
                    e.metadata = m;
                    e.id = id.into();
                    e.extra = ex.clone();
                    e
                },
            )
        })
}

/// An `analytics-completed` event.
pub fn analytics_completed(unknown: bool) -> impl Strategy<Value = AnalyticsCompletedEvent> {
    (
        (
            object_id(),
            "CALL-[0-9]{13}-[0-9a-f]{6}",
            maybe(
                !unknown,
                open(ConversationType::KNOWN, ConversationType::parse, unknown),
            ),
        ),
        maybe(!unknown, analytics(unknown)),
        maybe(!unknown, call_data(unknown)),
        (extras(unknown), extras(unknown)),
    )
        .prop_flat_map(move |((agent, call, ct), an, cd, (mx, ex))| {
            envelope(&agent, &EventType::AnalyticsCompleted, unknown).prop_map(
                move |(url, description, event, id)| {
                    let mut m = AnalyticsCompletedMetadata::default();
                    m.agent_id = agent.clone().into();
                    m.event_type = EventType::AnalyticsCompleted;
                    m.conversation_type = ct.clone();
                    m.call_id = call.clone().into();
                    m.analytics = an.clone();
                    m.call_data = cd.clone();
                    m.extra = mx.clone();
                    let mut e = AnalyticsCompletedEvent::default();
                    e.url = url;
                    e.description = description;
                    e.event = event;
                    e.metadata = m;
                    e.id = id.into();
                    e.extra = ex.clone();
                    e
                },
            )
        })
}

/// A delivery of an event type this version does not know.
pub fn unknown_event() -> impl Strategy<Value = Value> {
    (
        "[a-z]{3,10}-[a-z]{3,10}".prop_filter("unknown", |s| !EventType::KNOWN.contains(&s.as_str())),
        object_id(),
        object_id(),
        json_value(),
    )
        .prop_map(|(et, agent, id, payload)| {
            serde_json::json!({
                "url": "https://example.com/webhook",
                "description": "d",
                "event": format!("{agent}.{et}"),
                "metadata": {"agentId": agent, "eventType": et, "callId": "CALL-1", "payload": payload},
                "id": id,
            })
        })
}

/// Any [`WebhookEvent`], unknown values, fields and event types included.
pub fn webhook_event() -> impl Strategy<Value = WebhookEvent> {
    prop_oneof![
        pre_conversation(true).prop_map(WebhookEvent::from),
        post_conversation(true).prop_map(WebhookEvent::from),
        analytics_completed(true).prop_map(WebhookEvent::from),
        unknown_event().prop_filter_map("parses", |v| WebhookEvent::from_value(v).ok()),
    ]
}

/// A [`WebhookEvent`] of a documented type with documented enum values only, no unknown
/// fields, and every field the spec lists present: what another implementation of the spec
/// must read the same way.
pub fn known_event() -> impl Strategy<Value = WebhookEvent> {
    prop_oneof![
        pre_conversation(false).prop_map(WebhookEvent::from),
        post_conversation(false).prop_map(WebhookEvent::from),
        analytics_completed(false).prop_map(WebhookEvent::from),
    ]
}

/// `Some` always when `full`, else sometimes `None`.
fn maybe<S>(full: bool, s: S) -> BoxedStrategy<Option<S::Value>>
where
    S: Strategy + 'static,
    S::Value: Clone + std::fmt::Debug,
{
    if full {
        s.prop_map(Some).boxed()
    } else {
        option::of(s).boxed()
    }
}

/// A [`CallLog`] as `GET /conversation` or `GET /conversation/{callId}` may send it, every
/// status (final or not) included; `unknown` allows unknown values and fields.
pub fn call_log(unknown: bool) -> impl Strategy<Value = CallLog> {
    (
        (
            maybe(!unknown, object_id()),
            maybe(
                !unknown,
                "CALL-[0-9]{13}-[0-9a-f]{6}".prop_map(CallId::from),
            ),
            maybe(
                !unknown,
                open(CallStatus::KNOWN, CallStatus::parse, unknown),
            ),
            maybe(!unknown, number()),
        ),
        (
            maybe(!unknown, phone()),
            maybe(!unknown, phone()),
            maybe(
                !unknown,
                open(CallDirection::KNOWN, CallDirection::parse, unknown),
            ),
            maybe(!unknown, object_id().prop_map(AgentId::from)),
        ),
        (
            maybe(!unknown, timestamp()),
            maybe(!unknown, analytics(unknown)),
            maybe(!unknown, vec(transcript_turn(unknown), 0..3)),
            maybe(!unknown, variables()),
        ),
        extras(unknown),
    )
        .prop_map(
            |((id, call, status, duration), (from, to, ty, agent), (at, pca, tr, vars), extra)| {
                let mut l = CallLog::default();
                l.log_id = id;
                l.call_id = call;
                l.status = status;
                l.duration = duration;
                l.from = from;
                l.to = to;
                l.call_type = ty;
                l.agent_id = agent;
                l.created_at = at;
                l.post_call_analytics = pca;
                l.transcript = tr;
                l.variables = vars;
                l.extra = extra;
                l
            },
        )
}

/// A [`CallLogPage`] of up to three logs with its pagination.
pub fn call_log_page(unknown: bool) -> impl Strategy<Value = CallLogPage> {
    (
        vec(call_log(unknown), 0..3),
        (1u64..50, 1u64..500, any::<bool>()),
        extras(unknown),
    )
        .prop_map(|(logs, (page, limit, more), extra)| {
            let mut p = Pagination::default();
            p.page = Some(page);
            p.limit = Some(limit);
            p.has_more = Some(more);
            let mut out = CallLogPage::default();
            out.logs = Some(logs);
            out.pagination = Some(p);
            out.extra = extra;
            out
        })
}
