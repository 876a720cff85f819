//! Delivery bodies: what Atoms POSTs to a webhook's URL.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    error::ParseError, AgentId, CallDirection, CallId, CallStatus, ConversationType, DeliveryId,
    EventType, Json, MetricType, Number, Role, Timestamp, Variables,
};

wire_struct!(
    /// Call-level data of `post-conversation` and `analytics-completed` (`metadata.callData`).
    pub struct CallData {
        /// The calling number (E.164).
        opt pii "fromNumber" from_number: String,
        /// The called number (E.164).
        opt pii "toNumber" to_number: String,
        /// Call length in seconds, kept as the exact JSON number sent (see
        /// [`CallData::duration_secs`]).
        opt "callDuration" call_duration: Number,
        /// How the call ended (the spelling sent is written back).
        alias "callStatus" call_status: CallStatus,
        /// Outbound or inbound; may be absent on `analytics-completed`.
        opt "callDirection" call_direction: CallDirection,
        /// When the call was answered.
        opt "answerTime" answer_time: Timestamp,
        /// When the call ended.
        opt "endTime" end_time: Timestamp,
    }
);

impl CallData {
    /// The call's length in seconds.
    pub fn duration_secs(&self) -> Option<f64> {
        self.call_duration.as_ref().and_then(Number::as_f64)
    }

    /// The call's length, when it is a finite, non-negative number of seconds.
    pub fn duration(&self) -> Option<std::time::Duration> {
        self.duration_secs()
            .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
    }
}

wire_struct!(
    /// One speaking turn of a transcript.
    pub struct TranscriptTurn {
        /// Who spoke.
        opt "role" role: Role,
        /// What was said.
        opt pii "content" content: String,
        /// When the turn began.
        opt "timestamp" timestamp: Timestamp,
    }
);

impl TranscriptTurn {
    /// The spoken text, empty when absent.
    pub fn text(&self) -> &str {
        self.content.as_deref().unwrap_or("")
    }
}

/// A metric's evaluated `value`: an integer, a string or a boolean per the spec, `null` for a
/// call without a conversation; anything else (a float, an array) is kept as sent.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub enum MetricValue {
    /// JSON `null`: the metric could not be evaluated (for example, nobody spoke).
    Null,
    /// A whole number that fits in `i64`, written without fraction or exponent.
    Integer(i64),
    /// Text.
    String(String),
    /// True or false.
    Boolean(bool),
    /// Any other JSON value, exactly as sent.
    Other(Json),
}

impl MetricValue {
    /// The value as an integer, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            MetricValue::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The value as a string, when it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetricValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a boolean, when it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            MetricValue::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, MetricValue::Null)
    }
}

impl std::fmt::Display for MetricValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricValue::Null => f.write_str("null"),
            MetricValue::Integer(i) => write!(f, "{i}"),
            MetricValue::String(s) => f.write_str(s),
            MetricValue::Boolean(b) => write!(f, "{b}"),
            MetricValue::Other(v) => f.write_str(&v.as_raw_str()),
        }
    }
}

impl Serialize for MetricValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MetricValue::Null => s.serialize_unit(),
            MetricValue::Integer(i) => s.serialize_i64(*i),
            MetricValue::String(v) => s.serialize_str(v),
            MetricValue::Boolean(b) => s.serialize_bool(*b),
            MetricValue::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for MetricValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through the raw text, so that only what is written back the same way becomes a typed
        // value (`7` is an integer, `7.0` and `-0` stay as sent).
        let v = Json::deserialize(d)?;
        if let Some(s) = v.as_str() {
            return Ok(MetricValue::String(s.to_owned()));
        }
        let typed = match v.as_raw_str().as_ref() {
            "null" => Some(MetricValue::Null),
            "true" => Some(MetricValue::Boolean(true)),
            "false" => Some(MetricValue::Boolean(false)),
            text => match text.parse::<i64>() {
                Ok(i) if i.to_string() == text => Some(MetricValue::Integer(i)),
                _ => None,
            },
        };
        Ok(typed.unwrap_or(MetricValue::Other(v)))
    }
}

wire_struct!(
    /// One disposition or success metric of `analytics-completed`.
    pub struct Metric {
        /// The metric's machine name (`turn_taking_balance`).
        opt "identifier" identifier: String,
        /// Its evaluated value (`Some(MetricValue::Null)` for a `null`).
        nul "value" value: MetricValue,
        /// Confidence between 0 and 1, as the exact JSON number sent.
        opt "confidence" confidence: Number,
        /// Why the value was given.
        opt pii "reasoning" reasoning: String,
        /// The question that was evaluated.
        opt "dispositionMetricPrompt" prompt: String,
        /// The data type of `value`.
        opt "dispositionMetricType" metric_type: MetricType,
    }
);

impl Metric {
    /// The confidence as a float.
    pub fn confidence_f64(&self) -> Option<f64> {
        self.confidence.as_ref().and_then(Number::as_f64)
    }
}

wire_struct!(
    /// The results of post-call analytics (`metadata.analytics`).
    pub struct Analytics {
        /// A plain-text summary of the call.
        opt pii "summary" summary: String,
        /// Disposition metrics.
        opt "dispositionMetrics" disposition_metrics: Vec<Metric>,
        /// Success metrics (may be empty).
        opt "successMetrics" success_metrics: Vec<Metric>,
    }
);

impl Analytics {
    /// Disposition metrics (empty when absent).
    pub fn disposition_list(&self) -> &[Metric] {
        self.disposition_metrics.as_deref().unwrap_or(&[])
    }

    /// Success metrics (empty when absent).
    pub fn success_list(&self) -> &[Metric] {
        self.success_metrics.as_deref().unwrap_or(&[])
    }

    /// Every metric: the disposition metrics, then the success metrics.
    pub fn metrics(&self) -> impl Iterator<Item = &Metric> {
        self.disposition_list().iter().chain(self.success_list())
    }

    /// The first metric (disposition metrics first) whose `identifier` is `identifier`.
    ///
    /// ```
    /// use atoms_webhook_models::{Analytics, MetricValue};
    /// let a: Analytics = serde_json::from_str(r#"{"dispositionMetrics":[
    ///   {"identifier":"promised","value":true,"confidence":0.9}]}"#).unwrap();
    /// assert_eq!(a.metric("promised").unwrap().value, Some(MetricValue::Boolean(true)));
    /// assert!(a.metric("other").is_none());
    /// ```
    pub fn metric(&self, identifier: &str) -> Option<&Metric> {
        self.metrics()
            .find(|m| m.identifier.as_deref() == Some(identifier))
    }
}

wire_struct!(
    /// `metadata` of a `pre-conversation` delivery.
    pub struct PreConversationMetadata {
        /// The agent handling the call.
        req "agentId" agent_id: AgentId,
        /// Always `pre-conversation` here.
        req "eventType" event_type: EventType = EventType::PreConversation,
        /// The channel.
        opt "conversationType" conversation_type: ConversationType,
        /// The called number (E.164).
        opt pii "toPhone" to_phone: String,
        /// The calling number (E.164).
        opt pii "fromPhone" from_phone: String,
        /// The call's id.
        req "callId" call_id: CallId,
    }
);

wire_struct!(
    /// `metadata` of a `post-conversation` delivery.
    pub struct PostConversationMetadata {
        /// The agent that handled the call.
        req "agentId" agent_id: AgentId,
        /// Always `post-conversation` here.
        req "eventType" event_type: EventType = EventType::PostConversation,
        /// The channel.
        opt "conversationType" conversation_type: ConversationType,
        /// The call's id.
        req "callId" call_id: CallId,
        /// The recording (`.wav`).
        opt pii "recordingUrl" recording_url: String,
        /// Call-level data.
        opt "callData" call_data: CallData,
        /// The transcript, in order.
        opt "transcript" transcript: Vec<TranscriptTurn>,
        /// The agent's variables in scope during the call.
        opt "variables" variables: Variables,
    }
);

wire_struct!(
    /// `metadata` of an `analytics-completed` delivery.
    pub struct AnalyticsCompletedMetadata {
        /// The agent that handled the call.
        req "agentId" agent_id: AgentId,
        /// Always `analytics-completed` here.
        req "eventType" event_type: EventType = EventType::AnalyticsCompleted,
        /// The channel.
        opt "conversationType" conversation_type: ConversationType,
        /// The call's id.
        req "callId" call_id: CallId,
        /// The analytics results.
        opt "analytics" analytics: Analytics,
        /// Call-level data (`callDirection` may be absent).
        opt "callData" call_data: CallData,
    }
);

wire_struct!(
    /// A `pre-conversation` delivery: sent when a call connects, before the agent speaks.
    pub struct PreConversationEvent {
        /// The webhook URL the delivery was sent to.
        opt "url" url: String,
        /// The webhook's description.
        opt "description" description: String,
        /// `{agentId}.{eventType}`.
        opt "event" event: String,
        /// Event details.
        req "metadata" metadata: PreConversationMetadata,
        /// The delivery's unique id (use it to de-duplicate).
        req "id" id: DeliveryId,
    }
);

wire_struct!(
    /// A `post-conversation` delivery: sent after the call, with transcript and variables.
    pub struct PostConversationEvent {
        /// The webhook URL the delivery was sent to.
        opt "url" url: String,
        /// The webhook's description.
        opt "description" description: String,
        /// `{agentId}.{eventType}`.
        opt "event" event: String,
        /// Event details.
        req "metadata" metadata: PostConversationMetadata,
        /// The delivery's unique id (use it to de-duplicate).
        req "id" id: DeliveryId,
    }
);

wire_struct!(
    /// An `analytics-completed` delivery: sent once post-call analytics have run.
    pub struct AnalyticsCompletedEvent {
        /// The webhook URL the delivery was sent to.
        opt "url" url: String,
        /// The webhook's description.
        opt "description" description: String,
        /// `{agentId}.{eventType}`.
        opt "event" event: String,
        /// Event details.
        req "metadata" metadata: AnalyticsCompletedMetadata,
        /// The delivery's unique id (use it to de-duplicate).
        req "id" id: DeliveryId,
    }
);

/// Every field any known event's metadata has; parsed in one pass, then split by event type.
mod any {
    use super::*;

    wire_struct!(
        /// The union of the three metadata shapes.
        pub struct AnyMetadata {
            /// See the concrete types.
            opt "agentId" agent_id: AgentId,
            /// See the concrete types.
            opt "eventType" event_type: EventType,
            /// See the concrete types.
            opt "conversationType" conversation_type: ConversationType,
            /// See the concrete types.
            opt pii "toPhone" to_phone: String,
            /// See the concrete types.
            opt pii "fromPhone" from_phone: String,
            /// See the concrete types.
            opt "callId" call_id: CallId,
            /// See the concrete types.
            opt pii "recordingUrl" recording_url: String,
            /// See the concrete types.
            opt "callData" call_data: CallData,
            /// See the concrete types.
            opt "transcript" transcript: Vec<TranscriptTurn>,
            /// See the concrete types.
            opt "variables" variables: Variables,
            /// See the concrete types.
            opt "analytics" analytics: Analytics,
        }
    );

    wire_struct!(
        /// The envelope around [`AnyMetadata`].
        pub struct AnyEvent {
            /// See the concrete types.
            opt "url" url: String,
            /// See the concrete types.
            opt "description" description: String,
            /// See the concrete types.
            opt "event" event: String,
            /// See the concrete types.
            req "metadata" metadata: AnyMetadata,
            /// See the concrete types.
            opt "id" id: DeliveryId,
        }
    );
}

use any::{AnyEvent, AnyMetadata};

/// The top-level key of the marker on an event rebuilt from the call logs (see
/// [`WebhookEvent::recovered`]). Atoms never sends it.
pub const RECOVERED_KEY: &str = "recovered";

/// A delivery of any kind, chosen by `metadata.eventType`.
///
/// An event type this version does not know parses to [`WebhookEvent::Unknown`] with the whole
/// body kept as sent, by every entry point ([`WebhookEvent::from_slice`], `serde` and
/// [`WebhookEvent::from_value`]).
///
/// ```
/// use atoms_webhook_models::{CallStatus, EventType, WebhookEvent};
/// let body = br#"{"url":"https://example.com/h","description":"d","event":"a.post-conversation",
///   "metadata":{"agentId":"69fc7dd072a0c1d28d948ace","eventType":"post-conversation",
///   "callId":"CALL-1","callData":{"callStatus":"no-answer","fromNumber":"+15550002"},
///   "transcript":[]},"id":"69fd96118fd277fc807e4c23"}"#;
/// let event = WebhookEvent::from_slice(body).unwrap();
/// assert_eq!(event.event_type(), EventType::PostConversation);
/// assert_eq!(event.call_id().unwrap().as_str(), "CALL-1");
/// assert_eq!(event.from_number(), Some("+15550002"));
/// assert!(matches!(event.call_status(), Some(CallStatus::NoAnswer)));
/// assert!(event.transcript().is_empty());
/// // Written back as it came, spelling included.
/// assert!(String::from_utf8(event.to_vec()).unwrap().contains(r#""callStatus":"no-answer""#));
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookEvent {
    /// `pre-conversation`.
    PreConversation(PreConversationEvent),
    /// `post-conversation`.
    PostConversation(PostConversationEvent),
    /// `analytics-completed`.
    AnalyticsCompleted(AnalyticsCompletedEvent),
    /// An event type this version does not know: the whole body as sent.
    Unknown(UnknownEvent),
}

/// A delivery of an event type this version does not know: the body exactly as sent, and the
/// few fields every event has, read from it.
#[derive(Clone)]
pub struct UnknownEvent {
    body: Json,
    event_type: EventType,
    id: Option<DeliveryId>,
    call_id: Option<CallId>,
    agent_id: Option<AgentId>,
    from_number: Option<String>,
    to_number: Option<String>,
    conversation_type: Option<ConversationType>,
}

impl UnknownEvent {
    fn new(body: Json) -> Self {
        let v = body.to_value();
        let s = |pointer: &str| {
            v.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        UnknownEvent {
            event_type: EventType::parse(&s("/metadata/eventType").unwrap_or_default()),
            id: s("/id").map(DeliveryId::from),
            call_id: s("/metadata/callId").map(CallId::from),
            agent_id: s("/metadata/agentId").map(AgentId::from),
            from_number: s("/metadata/fromPhone").or_else(|| s("/metadata/callData/fromNumber")),
            to_number: s("/metadata/toPhone").or_else(|| s("/metadata/callData/toNumber")),
            conversation_type: s("/metadata/conversationType").map(|t| ConversationType::parse(&t)),
            body,
        }
    }

    /// `metadata.eventType` as sent (empty `Unknown` when absent).
    pub fn event_type(&self) -> &EventType {
        &self.event_type
    }

    /// The body, exactly as sent.
    pub fn body(&self) -> &Json {
        &self.body
    }

    /// The body as a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        self.body.to_value()
    }
}

impl PartialEq for UnknownEvent {
    fn eq(&self, other: &Self) -> bool {
        self.body == other.body
    }
}

/// Shows the event type, the delivery id and the top-level keys: never values.
impl std::fmt::Debug for UnknownEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.body.parse::<crate::Fields>().unwrap_or_default();
        f.debug_struct("UnknownEvent")
            .field("event_type", &self.event_type.as_str())
            .field("delivery_id", &self.id)
            .field("keys", &keys)
            .finish()
    }
}

impl WebhookEvent {
    /// Parses a delivery body. This is the fast path: one pass over the bytes for known events.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ParseError> {
        // One UTF-8 check of the whole body (SIMD) costs less than serde_json's check of every
        // string when it reads bytes; from a `&str` it checks none.
        let text = match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => text,
            // Not UTF-8: serde_json says where.
            Err(_) => {
                return match serde_json::from_slice::<AnyEvent>(bytes) {
                    Err(e) => Err(ParseError::from_json(".", &e)),
                    Ok(_) => Err(ParseError::new(".", "the body is not UTF-8")),
                }
            }
        };
        match serde_json::from_str::<AnyEvent>(text) {
            Ok(any) => split(any, || {
                Json::from_text(text).unwrap_or_else(|_| Json::null())
            }),
            Err(first) => match serde_json::from_str::<Value>(text) {
                // Not JSON at all: report where.
                Err(_) => Err(ParseError::from_json(".", &first)),
                // JSON, but not of a shape we know: an unknown event type is fine, a known one
                // is an error at the path of the problem.
                Ok(value) => Self::from_json_value(value, Some(text)),
            },
        }
    }

    /// Parses a delivery body from a string.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(body: &str) -> Result<Self, ParseError> {
        Self::from_slice(body.as_bytes())
    }

    /// Interprets an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, ParseError> {
        Self::from_json_value(value, None)
    }

    fn from_json_value(value: Value, text: Option<&str>) -> Result<Self, ParseError> {
        let body = || match text.map(Json::from_text) {
            Some(Ok(j)) => j,
            _ => Json::from(&value),
        };
        match AnyEvent::deserialize(&value) {
            Ok(any) => split(any, body),
            Err(_) => {
                if !value.is_object() {
                    return Err(ParseError::new(
                        ".",
                        "a delivery body must be a JSON object",
                    ));
                }
                let known = value
                    .get("metadata")
                    .and_then(|m| m.get("eventType"))
                    .and_then(Value::as_str)
                    .map(|t| EventType::parse(t).is_known());
                match known {
                    Some(false) => Ok(WebhookEvent::Unknown(UnknownEvent::new(body()))),
                    _ => crate::error::from_value::<AnyEvent>(&value)
                        .and_then(|any| split(any, body)),
                }
            }
        }
    }

    /// The event type (for `Unknown`, whatever `metadata.eventType` says).
    pub fn event_type(&self) -> EventType {
        match self {
            WebhookEvent::PreConversation(_) => EventType::PreConversation,
            WebhookEvent::PostConversation(_) => EventType::PostConversation,
            WebhookEvent::AnalyticsCompleted(_) => EventType::AnalyticsCompleted,
            WebhookEvent::Unknown(u) => u.event_type.clone(),
        }
    }

    /// True for [`WebhookEvent::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, WebhookEvent::Unknown(_))
    }

    /// The delivery id (envelope `id`), for de-duplication.
    pub fn delivery_id(&self) -> Option<&DeliveryId> {
        match self {
            WebhookEvent::PreConversation(e) => Some(&e.id),
            WebhookEvent::PostConversation(e) => Some(&e.id),
            WebhookEvent::AnalyticsCompleted(e) => Some(&e.id),
            WebhookEvent::Unknown(u) => u.id.as_ref(),
        }
    }

    /// The call id shared by the three events of one call.
    pub fn call_id(&self) -> Option<&CallId> {
        match self {
            WebhookEvent::PreConversation(e) => Some(&e.metadata.call_id),
            WebhookEvent::PostConversation(e) => Some(&e.metadata.call_id),
            WebhookEvent::AnalyticsCompleted(e) => Some(&e.metadata.call_id),
            WebhookEvent::Unknown(u) => u.call_id.as_ref(),
        }
    }

    /// The agent that handled the call.
    pub fn agent_id(&self) -> Option<&AgentId> {
        match self {
            WebhookEvent::PreConversation(e) => Some(&e.metadata.agent_id),
            WebhookEvent::PostConversation(e) => Some(&e.metadata.agent_id),
            WebhookEvent::AnalyticsCompleted(e) => Some(&e.metadata.agent_id),
            WebhookEvent::Unknown(u) => u.agent_id.as_ref(),
        }
    }

    /// The calling number, from `fromPhone` (pre-conversation) or `callData.fromNumber`.
    pub fn from_number(&self) -> Option<&str> {
        match self {
            WebhookEvent::PreConversation(e) => e.metadata.from_phone.as_deref(),
            WebhookEvent::Unknown(u) => u.from_number.as_deref(),
            _ => self.call_data()?.from_number.as_deref(),
        }
    }

    /// The called number, from `toPhone` (pre-conversation) or `callData.toNumber`.
    pub fn to_number(&self) -> Option<&str> {
        match self {
            WebhookEvent::PreConversation(e) => e.metadata.to_phone.as_deref(),
            WebhookEvent::Unknown(u) => u.to_number.as_deref(),
            _ => self.call_data()?.to_number.as_deref(),
        }
    }

    /// The call data, for the events that carry it (`post-conversation`,
    /// `analytics-completed`).
    pub fn call_data(&self) -> Option<&CallData> {
        match self {
            WebhookEvent::PostConversation(e) => e.metadata.call_data.as_ref(),
            WebhookEvent::AnalyticsCompleted(e) => e.metadata.call_data.as_ref(),
            _ => None,
        }
    }

    /// How the call ended (`callData.callStatus`), for the events that carry it.
    pub fn call_status(&self) -> Option<&CallStatus> {
        self.call_data()?.call_status.as_ref()
    }

    /// The transcript of a `post-conversation`; empty for every other event.
    pub fn transcript(&self) -> &[TranscriptTurn] {
        match self {
            WebhookEvent::PostConversation(e) => e.metadata.transcript.as_deref().unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The variables of a `post-conversation`.
    pub fn variables(&self) -> Option<&Variables> {
        match self {
            WebhookEvent::PostConversation(e) => e.metadata.variables.as_ref(),
            _ => None,
        }
    }

    /// The analytics results of an `analytics-completed`.
    pub fn analytics(&self) -> Option<&Analytics> {
        match self {
            WebhookEvent::AnalyticsCompleted(e) => e.metadata.analytics.as_ref(),
            _ => None,
        }
    }

    /// The marker of an item that did not come from Atoms: the top-level
    /// [`RECOVERED_KEY`] object that `atoms-webhook-receiver`'s reconciliation puts on an event
    /// it rebuilt from the call logs (`GET /conversation/{callId}`) because the real delivery
    /// never arrived. `None` for a delivery as Atoms sends it (and for unknown event types).
    ///
    /// ```
    /// use atoms_webhook_models::WebhookEvent;
    /// let body = br#"{"id":"recovered-CALL-1737000000000-abc123-post-conversation",
    ///   "metadata":{"agentId":"a","eventType":"post-conversation","callId":"CALL-1737000000000-abc123"},
    ///   "recovered":{"source":"call-log","eventType":"post-conversation"}}"#;
    /// let event = WebhookEvent::from_slice(body)?;
    /// assert!(event.is_recovered());
    /// assert!(event.recovered().unwrap().as_raw_str().contains("call-log"));
    /// # Ok::<(), atoms_webhook_models::ParseError>(())
    /// ```
    pub fn recovered(&self) -> Option<&Json> {
        match self {
            WebhookEvent::PreConversation(e) => e.extra.get(RECOVERED_KEY),
            WebhookEvent::PostConversation(e) => e.extra.get(RECOVERED_KEY),
            WebhookEvent::AnalyticsCompleted(e) => e.extra.get(RECOVERED_KEY),
            WebhookEvent::Unknown(_) => None,
        }
        .filter(|marker| !marker.is_null())
    }

    /// True when [`WebhookEvent::recovered`] is set: the item was rebuilt from the call logs,
    /// it is not a delivery from Atoms.
    pub fn is_recovered(&self) -> bool {
        self.recovered().is_some()
    }

    /// The conversation type, when sent.
    pub fn conversation_type(&self) -> Option<ConversationType> {
        match self {
            WebhookEvent::PreConversation(e) => e.metadata.conversation_type.clone(),
            WebhookEvent::PostConversation(e) => e.metadata.conversation_type.clone(),
            WebhookEvent::AnalyticsCompleted(e) => e.metadata.conversation_type.clone(),
            WebhookEvent::Unknown(u) => u.conversation_type.clone(),
        }
    }

    /// Serializes the event back to JSON bytes (every field it came with included).
    pub fn to_vec(&self) -> Vec<u8> {
        // Serializing these types to a Vec cannot fail: every map key is a string.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The event as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Personal data (phone numbers, transcript, variables' values, summaries) shows as
/// `[redacted]`; an unknown event shows its type and top-level keys only.
impl std::fmt::Debug for WebhookEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebhookEvent::PreConversation(e) => f.debug_tuple("PreConversation").field(e).finish(),
            WebhookEvent::PostConversation(e) => {
                f.debug_tuple("PostConversation").field(e).finish()
            }
            WebhookEvent::AnalyticsCompleted(e) => {
                f.debug_tuple("AnalyticsCompleted").field(e).finish()
            }
            WebhookEvent::Unknown(u) => f.debug_tuple("Unknown").field(u).finish(),
        }
    }
}

impl From<PreConversationEvent> for WebhookEvent {
    fn from(e: PreConversationEvent) -> Self {
        WebhookEvent::PreConversation(e)
    }
}

impl From<PostConversationEvent> for WebhookEvent {
    fn from(e: PostConversationEvent) -> Self {
        WebhookEvent::PostConversation(e)
    }
}

impl From<AnalyticsCompletedEvent> for WebhookEvent {
    fn from(e: AnalyticsCompletedEvent) -> Self {
        WebhookEvent::AnalyticsCompleted(e)
    }
}

/// Moves the union's fields into the concrete type for its event type. Fields that do not
/// belong to that type go to its `extra`, so nothing is lost. An unknown event type keeps the
/// whole body that `body` gives.
fn split(any: AnyEvent, body: impl FnOnce() -> Json) -> Result<WebhookEvent, ParseError> {
    let AnyEvent {
        url,
        description,
        event,
        metadata,
        id,
        extra,
    } = any;
    let event_type = match &metadata.event_type {
        Some(t) => t.clone(),
        None => {
            return Err(ParseError::new(
                "metadata.eventType",
                "missing field `eventType`",
            ))
        }
    };
    if !event_type.is_known() {
        return Ok(WebhookEvent::Unknown(UnknownEvent::new(body())));
    }
    let id = id.ok_or_else(|| ParseError::new("id", "missing field `id`"))?;
    let AnyMetadata {
        agent_id,
        event_type: _,
        conversation_type,
        to_phone,
        from_phone,
        call_id,
        recording_url,
        call_data,
        transcript,
        variables,
        analytics,
        extra: mut meta_extra,
    } = metadata;
    let agent_id =
        agent_id.ok_or_else(|| ParseError::new("metadata.agentId", "missing field `agentId`"))?;
    let call_id =
        call_id.ok_or_else(|| ParseError::new("metadata.callId", "missing field `callId`"))?;
    let mut stash = |key: &str, v: Option<Json>| {
        if let Some(v) = v {
            meta_extra.insert(key, v);
        }
    };
    Ok(match event_type {
        EventType::PreConversation => {
            stash("recordingUrl", recording_url.map(Json::from));
            stash("callData", call_data.as_ref().map(Json::of));
            stash("transcript", transcript.as_ref().map(Json::of));
            stash("variables", variables.as_ref().map(Json::of));
            stash("analytics", analytics.as_ref().map(Json::of));
            WebhookEvent::PreConversation(PreConversationEvent {
                url,
                description,
                event,
                id,
                extra,
                metadata: PreConversationMetadata {
                    agent_id,
                    event_type,
                    conversation_type,
                    to_phone,
                    from_phone,
                    call_id,
                    extra: meta_extra,
                },
            })
        }
        EventType::PostConversation => {
            stash("toPhone", to_phone.map(Json::from));
            stash("fromPhone", from_phone.map(Json::from));
            stash("analytics", analytics.as_ref().map(Json::of));
            WebhookEvent::PostConversation(PostConversationEvent {
                url,
                description,
                event,
                id,
                extra,
                metadata: PostConversationMetadata {
                    agent_id,
                    event_type,
                    conversation_type,
                    call_id,
                    recording_url,
                    call_data,
                    transcript,
                    variables,
                    extra: meta_extra,
                },
            })
        }
        _ => {
            stash("toPhone", to_phone.map(Json::from));
            stash("fromPhone", from_phone.map(Json::from));
            stash("recordingUrl", recording_url.map(Json::from));
            stash("transcript", transcript.as_ref().map(Json::of));
            stash("variables", variables.as_ref().map(Json::of));
            WebhookEvent::AnalyticsCompleted(AnalyticsCompletedEvent {
                url,
                description,
                event,
                id,
                extra,
                metadata: AnalyticsCompletedMetadata {
                    agent_id,
                    event_type,
                    conversation_type,
                    call_id,
                    analytics,
                    call_data,
                    extra: meta_extra,
                },
            })
        }
    })
}

impl Serialize for WebhookEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            WebhookEvent::PreConversation(e) => e.serialize(s),
            WebhookEvent::PostConversation(e) => e.serialize(s),
            WebhookEvent::AnalyticsCompleted(e) => e.serialize(s),
            WebhookEvent::Unknown(u) => u.body.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for WebhookEvent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through the raw text so that this path agrees with `from_slice`, unknown event types
        // and exact numbers included.
        let body = Json::deserialize(d)?;
        WebhookEvent::from_str(&body.as_raw_str()).map_err(serde::de::Error::custom)
    }
}
