//! Realistic, signed delivery bodies for a receiver's tests, without a server (feature
//! `testkit`).
//!
//! [`SampleCall::generate`] plays one call from [`CallOptions`] and gives its three deliveries
//! (`pre-conversation`, `post-conversation`, `analytics-completed`) as the platform sends them:
//! one shared `callId`, a 24-hex delivery `id` each, `event` = `{agentId}.{eventType}`, keys in
//! the documented order, and content built around the call's end time: an EMI-reminder
//! conversation in Hindi and English with increasing turn timestamps, `callData` whose
//! `answerTime` + `callDuration` = `endTime`, the eleven standard variables plus custom ones,
//! and analytics with metrics of every value type. A call that did not complete (`no_answer`,
//! `busy`, ...) has no transcript, no recording and a zero duration.
//!
//! Everything comes from the seed and the end time: the same [`CallOptions::seed`] and
//! [`CallOptions::ended_at`] give the same bytes. Without a seed each call gets a fresh one;
//! without an end time the call ends now.
//!
//! ```
//! use atoms_webhook_models::testkit::{CallOptions, SampleCall};
//! use atoms_webhook_models::{CallDirection, SigningSecret, Verifier, WebhookEvent};
//!
//! let opts = CallOptions::new()
//!     .direction(CallDirection::TelephonyInbound)
//!     .turns(4)
//!     .variable("customer_name", "Meera Iyer")
//!     .seed(7);
//! let call = SampleCall::generate(&opts);
//! let secret = SigningSecret::new("whsec-test");
//! let [pre, post, analytics] = call.signed_bodies("https://example.com/hook", "CRM", &secret);
//!
//! let verifier = Verifier::new(secret)?;
//! let event = verifier.verify_and_parse(&post.0, &post.1)?;
//! assert!(matches!(event, WebhookEvent::PostConversation(_)));
//! assert_eq!(event.call_id().map(|id| id.to_string()), Some(call.call_id.to_string()));
//! assert!(verifier.verify(&pre.0, &pre.1).is_ok() && verifier.verify(&analytics.0, &analytics.1).is_ok());
//! assert_eq!(call.transcript.len(), 4);
//! # Ok::<(), atoms_webhook_models::VerifyError>(())
//! ```

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, Offset as _, SubsecRound, TimeDelta, Utc};
use serde_json::{Number, Value};

use crate::{
    sign, AgentId, CallDirection, CallId, CallStatus, DeliveryId, EventType, SigningSecret,
};

/// The agent a [`CallOptions`] uses unless told otherwise.
pub const DEFAULT_AGENT_ID: &str = "6a1b2c3d4e5f60718293a4b5";
/// The agent's phone number unless told otherwise (the caller of an outbound call).
pub const DEFAULT_AGENT_NUMBER: &str = "+918045671234";
/// The other party's phone number unless told otherwise (the callee of an outbound call).
pub const DEFAULT_USER_NUMBER: &str = "+919812300456";
/// The most transcript turns a call can have; [`CallOptions::turns`] above it is cut to it.
pub const MAX_TURNS: usize = 200;
/// The longest call; a longer [`CallOptions::duration`] is cut to it.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// The agent's time zone in the standard variables (India has no daylight saving time, so a
/// fixed offset is exact).
const TIMEZONE: &str = "Asia/Kolkata";
const IST_OFFSET_SECS: i32 = 5 * 3600 + 30 * 60;

/// SplitMix64: a tiny, well-mixed generator; plenty for sample data, and no dependency.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[0, n]` (n small).
    fn up_to(&mut self, n: u64) -> u64 {
        self.next_u64() % n.saturating_add(1)
    }
}

/// A seed no other call of this process has had: the clock, mixed with a counter.
fn fresh_seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    Rng(nanos ^ n.rotate_left(32)).next_u64()
}

/// A new call id of the platform's form, `CALL-<now in epoch millis>-<6 hex>` (for a
/// [`CallOptions::call_id`] known before the call is generated).
pub fn fresh_call_id() -> CallId {
    call_id_at(Utc::now(), &mut Rng(fresh_seed()))
}

fn call_id_at(end: DateTime<Utc>, rng: &mut Rng) -> CallId {
    let tail = rng.next_u64() & 0x00ff_ffff;
    CallId::new(format!("CALL-{}-{tail:06x}", end.timestamp_millis()))
}

/// What kind of call to simulate. Every field has a default ([`CallOptions::new`]); setters
/// are named after the fields and consume and return the options.
///
/// Phone numbers default by direction: on an outbound call the agent
/// ([`DEFAULT_AGENT_NUMBER`]) calls the user ([`DEFAULT_USER_NUMBER`]); on an inbound call the
/// user calls the agent. `agent_number`/`user_number` in the variables follow the same rule.
/// `Debug` shows neither the numbers nor the variables' values.
#[derive(Clone)]
#[non_exhaustive]
pub struct CallOptions {
    /// The agent that handles the call (default [`DEFAULT_AGENT_ID`]).
    pub agent_id: AgentId,
    /// The calling number; `None` for the default of the direction.
    pub from_number: Option<String>,
    /// The called number; `None` for the default of the direction.
    pub to_number: Option<String>,
    /// Outbound (default, `telephony_outbound`) or inbound (`telephony_inbound`).
    pub direction: CallDirection,
    /// How the call ended (default `completed`). Any other status gives no transcript, no
    /// recording and, unless [`CallOptions::duration`] is set, a zero duration.
    pub call_status: CallStatus,
    /// Transcript turns of a completed call, alternating agent then user (default 6, at most
    /// [`MAX_TURNS`]).
    pub turns: usize,
    /// The call's id; `None` for `CALL-<end in epoch millis>-<6 hex from the seed>`.
    pub call_id: Option<CallId>,
    /// Custom variables, in order, added after the scenario's own (`agent_name`,
    /// `customer_name`, `due_amount`, `due_date`, `lender_name`); a key already present
    /// (standard keys included) is overridden in place.
    pub variables: Vec<(String, Value)>,
    /// The call's length (at most [`MAX_DURATION`]); `None` for one that fits the transcript
    /// (zero when not completed).
    pub duration: Option<Duration>,
    /// What every random choice comes from; `None` for a fresh seed per call.
    pub seed: Option<u64>,
    /// When the call ended; `None` for now. Kept to the millisecond.
    pub ended_at: Option<DateTime<Utc>>,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            agent_id: AgentId::new(DEFAULT_AGENT_ID),
            from_number: None,
            to_number: None,
            direction: CallDirection::TelephonyOutbound,
            call_status: CallStatus::Completed,
            turns: 6,
            call_id: None,
            variables: Vec::new(),
            duration: None,
            seed: None,
            ended_at: None,
        }
    }
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        let keys: Vec<&str> = self.variables.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("CallOptions")
            .field("agent_id", &self.agent_id)
            .field("from_number", &redacted(&self.from_number))
            .field("to_number", &redacted(&self.to_number))
            .field("direction", &self.direction)
            .field("call_status", &self.call_status)
            .field("turns", &self.turns)
            .field("call_id", &self.call_id)
            .field("variables", &keys)
            .field("duration", &self.duration)
            .field("seed", &self.seed)
            .field("ended_at", &self.ended_at)
            .finish()
    }
}

impl CallOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The agent that handles the call.
    pub fn agent_id(mut self, agent_id: impl Into<AgentId>) -> Self {
        self.agent_id = agent_id.into();
        self
    }

    /// The calling number (E.164, e.g. `+918045671234`).
    pub fn from_number(mut self, number: impl Into<String>) -> Self {
        self.from_number = Some(number.into());
        self
    }

    /// The called number (E.164).
    pub fn to_number(mut self, number: impl Into<String>) -> Self {
        self.to_number = Some(number.into());
        self
    }

    /// Outbound or inbound ([`CallDirection`]).
    pub fn direction(mut self, direction: impl Into<CallDirection>) -> Self {
        self.direction = direction.into();
        self
    }

    /// How the call ended (`completed`, `no_answer`, `busy`, ... or any other string).
    pub fn call_status(mut self, status: impl Into<CallStatus>) -> Self {
        self.call_status = status.into();
        self
    }

    /// The number of transcript turns of a completed call (cut to [`MAX_TURNS`]).
    pub fn turns(mut self, turns: usize) -> Self {
        self.turns = turns;
        self
    }

    /// The call's id.
    pub fn call_id(mut self, call_id: impl Into<CallId>) -> Self {
        self.call_id = Some(call_id.into());
        self
    }

    /// Replaces the custom variables (see [`CallOptions::variables`](#structfield.variables)).
    pub fn variables(mut self, variables: impl IntoIterator<Item = (String, Value)>) -> Self {
        self.variables = Vec::new();
        for (k, v) in variables {
            self = self.variable(k, v);
        }
        self
    }

    /// Adds or replaces one custom variable.
    pub fn variable(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        put(&mut self.variables, key.into(), value.into());
        self
    }

    /// The call's length.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// The seed of every random choice (same seed and end time, same bytes).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// When the call ended.
    pub fn ended_at(mut self, at: DateTime<Utc>) -> Self {
        self.ended_at = Some(at);
        self
    }

    /// The (calling, called) numbers, with the defaults of the direction filled in.
    pub fn numbers(&self) -> (String, String) {
        let (agent, user) = (DEFAULT_AGENT_NUMBER, DEFAULT_USER_NUMBER);
        let (from_default, to_default) = if is_inbound(&self.direction) {
            (user, agent)
        } else {
            (agent, user)
        };
        (
            self.from_number
                .clone()
                .unwrap_or_else(|| from_default.to_owned()),
            self.to_number
                .clone()
                .unwrap_or_else(|| to_default.to_owned()),
        )
    }
}

fn is_inbound(d: &CallDirection) -> bool {
    *d == CallDirection::TelephonyInbound
}

/// Sets `key` in place when present, else appends it.
fn put(vars: &mut Vec<(String, Value)>, key: String, value: Value) {
    match vars.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => vars.push((key, value)),
    }
}

/// One transcript turn.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Turn {
    /// `agent` or `user`.
    pub role: String,
    /// What was said.
    pub content: String,
    /// When, as the API writes it (`2026-07-28T15:46:12.472Z`).
    pub timestamp: String,
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn")
            .field("role", &self.role)
            .field("content", &"[redacted]")
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

/// One analytics metric.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct SampleMetric {
    /// The metric's identifier.
    pub identifier: String,
    /// Its value: an integer, a string or a boolean.
    pub value: Value,
    /// How sure the analysis is, 0 to 1.
    pub confidence: f64,
    /// Why.
    pub reasoning: String,
    /// The question the metric answers (`dispositionMetricPrompt`).
    pub prompt: String,
    /// `STRING`, `BOOLEAN`, `INTEGER`, `ENUM` or `DATETIME` (`dispositionMetricType`).
    pub metric_type: String,
}

/// One simulated call: everything its deliveries (and its call log) say, ready to render.
/// `Debug` hides phone numbers, transcript text, variables' values and the summary.
#[derive(Clone)]
#[non_exhaustive]
pub struct SampleCall {
    /// The call's id, shared by its three events.
    pub call_id: CallId,
    /// The agent that handled it.
    pub agent_id: AgentId,
    /// The calling number.
    pub from_number: String,
    /// The called number.
    pub to_number: String,
    /// Outbound or inbound.
    pub direction: CallDirection,
    /// How the call ended.
    pub call_status: CallStatus,
    /// Seconds, with microseconds (like the platform's `49.350622`).
    pub duration_secs: f64,
    /// When the call was answered; `None` when it was not.
    pub answered_at: Option<DateTime<Utc>>,
    /// When the call ended (milliseconds).
    pub ended_at: DateTime<Utc>,
    /// The recording's URL; `None` when the call was not answered.
    pub recording_url: Option<String>,
    /// The transcript, agent first.
    pub transcript: Vec<Turn>,
    /// The variables, in order: the eleven standard ones, the scenario's, then the caller's.
    pub variables: Vec<(String, Value)>,
    /// The analytics summary.
    pub summary: String,
    /// The disposition metrics.
    pub disposition_metrics: Vec<SampleMetric>,
    /// The success metrics.
    pub success_metrics: Vec<SampleMetric>,
    seed: u64,
}

impl std::fmt::Debug for SampleCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SampleCall")
            .field("call_id", &self.call_id)
            .field("agent_id", &self.agent_id)
            .field("direction", &self.direction)
            .field("call_status", &self.call_status)
            .field("duration_secs", &self.duration_secs)
            .field("ended_at", &self.ended_at)
            .field("turns", &self.transcript.len())
            .finish_non_exhaustive()
    }
}

impl SampleCall {
    /// Plays the call `opts` describes.
    pub fn generate(opts: &CallOptions) -> SampleCall {
        let seed = opts.seed.unwrap_or_else(fresh_seed);
        let mut rng = Rng(seed);
        let end = opts.ended_at.unwrap_or_else(Utc::now).trunc_subsecs(3);
        let completed = opts.call_status == CallStatus::Completed;
        let turns = if completed {
            opts.turns.min(MAX_TURNS)
        } else {
            0
        };
        let duration_secs = match opts.duration {
            Some(d) => d.min(MAX_DURATION).as_secs_f64(),
            None if completed => 4.0 + turns as f64 * (3.2 + 2.2 * rng.unit()) + rng.unit(),
            None => 0.0,
        };
        let duration_secs = (duration_secs * 1e6).round() / 1e6;
        let duration_ms = (duration_secs * 1000.0).round() as i64;
        let answer = end - TimeDelta::milliseconds(duration_ms);
        let answered = duration_ms > 0;
        let call_id = opts
            .call_id
            .clone()
            .unwrap_or_else(|| call_id_at(end, &mut rng));

        let (from, to) = opts.numbers();
        let (agent_number, user_number) = if is_inbound(&opts.direction) {
            (to.clone(), from.clone())
        } else {
            (from.clone(), to.clone())
        };
        let variables = variables(opts, &call_id, answer, &agent_number, &user_number);
        let script = Script::from_variables(&variables, answer);
        let transcript = transcript(&script, turns, answer, end, &mut rng);
        let user_turns = turns / 2;
        let (summary, disposition_metrics, success_metrics) =
            analytics(&script, &opts.call_status, turns - user_turns, user_turns);
        SampleCall {
            recording_url: answered.then(|| {
                format!("https://recordings.example.com/call-recordings/{call_id}/composite.wav")
            }),
            call_id,
            agent_id: opts.agent_id.clone(),
            from_number: from,
            to_number: to,
            direction: opts.direction.clone(),
            call_status: opts.call_status.clone(),
            duration_secs,
            answered_at: answered.then_some(answer),
            ended_at: end,
            transcript,
            variables,
            summary,
            disposition_metrics,
            success_metrics,
            seed: rng.next_u64(),
        }
    }

    /// The `metadata.conversationType` of the call's events (`telephonyOutbound`, ...).
    pub fn conversation_type(&self) -> String {
        match &self.direction {
            CallDirection::TelephonyInbound => "telephonyInbound".to_owned(),
            CallDirection::TelephonyOutbound => "telephonyOutbound".to_owned(),
            other => other.as_str().to_owned(),
        }
    }

    /// The `n`th delivery id of this call: 24 hex, the call's end second then 8 bytes from
    /// the seed (the same `n`, the same id).
    pub fn delivery_id(&self, n: u64) -> DeliveryId {
        let secs = u32::try_from(self.ended_at.timestamp().max(0)).unwrap_or(u32::MAX);
        let random = Rng(self.seed ^ n.wrapping_mul(0xa076_1d64_78bd_642f)).next_u64();
        DeliveryId::new(format!("{secs:08x}{random:016x}"))
    }

    /// The exact bytes of the delivery of `event_type` to a webhook with this `url` and
    /// `description`, with this delivery id (compact JSON, keys in the documented order): sign
    /// these, send these. `None` for an event type other than the three known ones.
    pub fn body(
        &self,
        event_type: &EventType,
        url: &str,
        description: &str,
        delivery_id: &DeliveryId,
    ) -> Option<Vec<u8>> {
        let metadata = match event_type {
            EventType::PreConversation => self.pre_metadata(),
            EventType::PostConversation => self.post_metadata(),
            EventType::AnalyticsCompleted => self.analytics_metadata(),
            _ => return None,
        };
        let body = J::O(vec![
            ("url", J::s(url)),
            ("description", J::s(description)),
            ("event", J::s(format!("{}.{}", self.agent_id, event_type))),
            ("metadata", metadata),
            ("id", J::s(delivery_id.as_str())),
        ]);
        let mut out = String::new();
        body.write(&mut out);
        Some(out.into_bytes())
    }

    /// The three bodies, in delivery order, with delivery ids 0, 1 and 2.
    pub fn bodies(&self, url: &str, description: &str) -> [Vec<u8>; 3] {
        let mut n = 0;
        EventType::ALL.map(|t| {
            let id = self.delivery_id(n);
            n += 1;
            self.body(&t, url, description, &id).unwrap_or_default()
        })
    }

    /// [`SampleCall::bodies`], each with its `X-Signature` value for `secret`.
    pub fn signed_bodies(
        &self,
        url: &str,
        description: &str,
        secret: &SigningSecret,
    ) -> [(Vec<u8>, String); 3] {
        self.bodies(url, description).map(|b| {
            let signature = sign(secret, &b);
            (b, signature)
        })
    }

    fn pre_metadata(&self) -> J {
        J::O(vec![
            ("agentId", J::s(self.agent_id.as_str())),
            ("eventType", J::s(EventType::PreConversation.as_str())),
            ("conversationType", J::s(self.conversation_type())),
            ("toPhone", J::s(&self.to_number)),
            ("fromPhone", J::s(&self.from_number)),
            ("callId", J::s(self.call_id.as_str())),
        ])
    }

    fn call_data(&self, with_direction: bool) -> J {
        let mut fields = vec![
            ("fromNumber", J::s(&self.from_number)),
            ("toNumber", J::s(&self.to_number)),
            ("callDuration", J::V(number(self.duration_secs))),
            ("callStatus", J::s(self.call_status.as_str())),
        ];
        if with_direction {
            fields.push(("callDirection", J::s(self.direction.as_str())));
        }
        if let Some(answer) = self.answered_at {
            fields.push(("answerTime", J::s(api_time(answer))));
        }
        fields.push(("endTime", J::s(api_time(self.ended_at))));
        J::O(fields)
    }

    fn post_metadata(&self) -> J {
        let mut fields = vec![
            ("agentId", J::s(self.agent_id.as_str())),
            ("eventType", J::s(EventType::PostConversation.as_str())),
            ("conversationType", J::s(self.conversation_type())),
            ("callId", J::s(self.call_id.as_str())),
        ];
        if let Some(url) = &self.recording_url {
            fields.push(("recordingUrl", J::s(url)));
        }
        fields.push(("callData", self.call_data(true)));
        let turns = self
            .transcript
            .iter()
            .map(|t| {
                J::O(vec![
                    ("role", J::s(&t.role)),
                    ("content", J::s(&t.content)),
                    ("timestamp", J::s(&t.timestamp)),
                ])
            })
            .collect();
        fields.push(("transcript", J::A(turns)));
        fields.push(("variables", J::Ordered(self.variables.clone())));
        J::O(fields)
    }

    fn analytics_metadata(&self) -> J {
        let metrics = |ms: &[SampleMetric]| {
            J::A(
                ms.iter()
                    .map(|m| {
                        J::O(vec![
                            ("identifier", J::s(&m.identifier)),
                            ("value", J::V(m.value.clone())),
                            ("confidence", J::V(confidence(m.confidence))),
                            ("reasoning", J::s(&m.reasoning)),
                            ("dispositionMetricPrompt", J::s(&m.prompt)),
                            ("dispositionMetricType", J::s(&m.metric_type)),
                        ])
                    })
                    .collect(),
            )
        };
        J::O(vec![
            ("agentId", J::s(self.agent_id.as_str())),
            ("eventType", J::s(EventType::AnalyticsCompleted.as_str())),
            ("conversationType", J::s(self.conversation_type())),
            ("callId", J::s(self.call_id.as_str())),
            (
                "analytics",
                J::O(vec![
                    ("summary", J::s(&self.summary)),
                    ("dispositionMetrics", metrics(&self.disposition_metrics)),
                    ("successMetrics", metrics(&self.success_metrics)),
                ]),
            ),
            // The documented analytics-completed example has no callDirection.
            ("callData", self.call_data(false)),
        ])
    }
}

/// JSON with the key order given here, whatever serde_json's `preserve_order` says.
enum J {
    V(Value),
    O(Vec<(&'static str, J)>),
    Ordered(Vec<(String, Value)>),
    A(Vec<J>),
}

impl J {
    fn s(s: impl Into<String>) -> J {
        J::V(Value::String(s.into()))
    }

    fn write(&self, out: &mut String) {
        match self {
            // Writing a Value to a String cannot fail.
            J::V(v) => out.push_str(&v.to_string()),
            J::O(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::from(*k).to_string());
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
            J::Ordered(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{}:{}", Value::from(k.as_str()), v);
                }
                out.push('}');
            }
            J::A(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
        }
    }
}

fn number(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Whole confidences are written as integers, like the platform's `"confidence": 1`.
fn confidence(c: f64) -> Value {
    if c.fract() == 0.0 {
        Value::from(c as i64)
    } else {
        number(c)
    }
}

/// `2026-07-28T15:46:12.472Z`.
fn api_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn ist() -> FixedOffset {
    // The offset is a constant well inside the allowed range.
    FixedOffset::east_opt(IST_OFFSET_SECS).unwrap_or_else(|| Utc.fix())
}

/// The eleven standard variables, then the scenario's custom ones, then the caller's.
fn variables(
    opts: &CallOptions,
    call_id: &CallId,
    start: DateTime<Utc>,
    agent_number: &str,
    user_number: &str,
) -> Vec<(String, Value)> {
    let local = start.with_timezone(&ist());
    let due_date = (local + TimeDelta::days(5)).date_naive();
    let conversation_type = if is_inbound(&opts.direction) {
        "telephonyInbound"
    } else {
        "telephonyOutbound"
    };
    let mut v: Vec<(String, Value)> = [
        ("call_id", call_id.as_str().to_owned()),
        ("user_number", user_number.to_owned()),
        ("agent_number", agent_number.to_owned()),
        ("conversation_type", conversation_type.to_owned()),
        ("agent_gender", "female".to_owned()),
        ("default_language", "hi".to_owned()),
        ("supported_languages", "hi,en".to_owned()),
        ("current_date", local.format("%Y-%m-%d").to_string()),
        ("current_time", local.format("%H:%M").to_string()),
        ("current_day", local.format("%A").to_string()),
        ("timezone", TIMEZONE.to_owned()),
        ("agent_name", "Priya".to_owned()),
        ("customer_name", "Ananya Verma".to_owned()),
        ("due_amount", "18500".to_owned()),
        ("due_date", due_date.format("%Y-%m-%d").to_string()),
        ("lender_name", "Sahyog Finance".to_owned()),
    ]
    .into_iter()
    .map(|(k, s)| (k.to_owned(), Value::String(s)))
    .collect();
    for (key, value) in &opts.variables {
        put(&mut v, key.clone(), value.clone());
    }
    v
}

/// The names and amounts the conversation mentions, taken from the call's variables so that
/// transcript, summary and variables agree.
struct Script {
    agent: String,
    customer: String,
    first_name: String,
    amount: String,
    due: String,
    promise: String,
    lender: String,
}

impl Script {
    fn from_variables(v: &[(String, Value)], start: DateTime<Utc>) -> Self {
        let text = |key: &str, default: &str| -> String {
            match v.iter().find(|(k, _)| k == key).map(|(_, v)| v) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => default.to_owned(),
                Some(other) => other.to_string(),
            }
        };
        let customer = text("customer_name", "Ananya Verma");
        let first_name = customer
            .split_whitespace()
            .next()
            .unwrap_or(&customer)
            .to_owned();
        let due = text("due_date", "");
        let due_day = NaiveDate::parse_from_str(&due, "%Y-%m-%d")
            .unwrap_or_else(|_| (start.with_timezone(&ist()) + TimeDelta::days(5)).date_naive());
        Self {
            agent: text("agent_name", "Priya"),
            customer,
            first_name,
            amount: text("due_amount", "18500"),
            due,
            promise: (due_day + TimeDelta::days(3))
                .format("%Y-%m-%d")
                .to_string(),
            lender: text("lender_name", "Sahyog Finance"),
        }
    }

    fn fill(&self, line: &str) -> String {
        line.replace("{agent}", &self.agent)
            .replace("{first}", &self.first_name)
            .replace("{amount}", &self.amount)
            .replace("{due}", &self.due)
            .replace("{promise}", &self.promise)
            .replace("{lender}", &self.lender)
    }
}

/// The agent's lines, one per exchange; the last two close the call.
const AGENT_LINES: [&str; 6] = [
    "नमस्ते {first} जी, मैं {lender} से {agent} बोल रही हूँ। क्या अभी दो मिनट बात कर सकते हैं?",
    "आपके personal loan की ₹{amount} की EMI {due} को due है। बस उसी का reminder देने के लिए call किया है।",
    "कोई बात नहीं, मैं समझ सकती हूँ। Due date के बाद तीन दिन तक late fee नहीं लगेगी। क्या आप {promise} तक payment कर पाएँगी?",
    "धन्यवाद! मैंने {promise} का promise-to-pay note कर लिया है, और SMS पर payment link भेज रही हूँ।",
    "क्या payment से जुड़ी कोई और जानकारी चाहिए?",
    "आपका समय देने के लिए धन्यवाद {first} जी। Have a great day!",
];
/// The user's answers, one per exchange.
const USER_LINES: [&str; 6] = [
    "हाँ, बोलिए।",
    "अच्छा… इस महीने salary थोड़ी late आ रही है। क्या थोड़ा time मिल सकता है?",
    "हाँ, {promise} तक मैं पूरा amount UPI से भेज दूँगी।",
    "ठीक है, link मिलते ही pay कर दूँगी।",
    "नहीं, बस इतना ही। Thank you.",
    "आपको भी, bye!",
];
/// Exchanges that calls longer than the script have before the closing ones.
const AGENT_FILLERS: [&str; 2] = [
    "क्या आप auto-debit भी set up करना चाहेंगी, ताकि अगली बार reminder की ज़रूरत न पड़े?",
    "ज़रूर। क्या मैं आपके registered email पर पिछले तीन महीने का statement भी भेज दूँ?",
];
const USER_FILLERS: [&str; 2] = ["हाँ, उसका link भी भेज दीजिए।", "हाँ, please भेज दीजिए।"];

/// One speaker's line of exchange `k` of `exchanges`: the script in order; in calls longer
/// than the script, fillers after the first four exchanges and the two closing ones last.
fn line(
    lines: &[&'static str; 6],
    fillers: &[&'static str; 2],
    k: usize,
    exchanges: usize,
) -> &'static str {
    const OPENING: usize = 4;
    let closing = lines.len() - OPENING;
    if exchanges <= lines.len() || k < OPENING {
        lines[k.min(lines.len() - 1)]
    } else if k + closing >= exchanges {
        lines[OPENING + k + closing - exchanges]
    } else {
        fillers[(k - OPENING) % fillers.len()]
    }
}

/// `turns` turns, agent first, spread over the call with increasing timestamps.
fn transcript(
    script: &Script,
    turns: usize,
    answer: DateTime<Utc>,
    end: DateTime<Utc>,
    rng: &mut Rng,
) -> Vec<Turn> {
    if turns == 0 {
        return Vec::new();
    }
    // Exchange k is agent turn 2k and user turn 2k+1; an odd count ends with the agent.
    let exchanges = turns - turns / 2;
    let span = (end - answer).num_milliseconds().max(0);
    let first = answer + TimeDelta::milliseconds((span / 10).min(1500));
    let last = end - TimeDelta::milliseconds((span / 10).min(1000));
    let step = ((last - first).num_milliseconds() / turns as i64).max(1);
    let mut previous: Option<DateTime<Utc>> = None;
    (0..turns)
        .map(|i| {
            let jitter = rng.up_to(u64::try_from(step / 3).unwrap_or(0)) as i64;
            let mut at = first + TimeDelta::milliseconds(step * i as i64 + jitter);
            if let Some(p) = previous {
                at = at.max(p + TimeDelta::milliseconds(1));
            }
            previous = Some(at);
            let (role, text) = if i % 2 == 0 {
                (
                    "agent",
                    line(&AGENT_LINES, &AGENT_FILLERS, i / 2, exchanges),
                )
            } else {
                ("user", line(&USER_LINES, &USER_FILLERS, i / 2, exchanges))
            };
            Turn {
                role: role.to_owned(),
                content: script.fill(text),
                timestamp: api_time(at),
            }
        })
        .collect()
}

fn metric(
    identifier: &str,
    value: Value,
    confidence: f64,
    reasoning: String,
    prompt: &str,
    metric_type: &str,
) -> SampleMetric {
    SampleMetric {
        identifier: identifier.to_owned(),
        value,
        confidence,
        reasoning,
        prompt: prompt.to_owned(),
        metric_type: metric_type.to_owned(),
    }
}

/// The summary, the disposition metrics and the success metrics.
fn analytics(
    script: &Script,
    status: &CallStatus,
    agent_turns: usize,
    user_turns: usize,
) -> (String, Vec<SampleMetric>, Vec<SampleMetric>) {
    let connected = *status == CallStatus::Completed;
    // The user promises on their third answer (USER_LINES[2]).
    let promised = connected && user_turns >= 3;
    let (summary, outcome, promise_date) = if !connected {
        (
            format!(
                "The call to {} did not connect (status: {status}); no conversation took place.",
                script.customer
            ),
            "not_connected",
            "none".to_owned(),
        )
    } else if promised {
        (
            format!(
                "{} from {} reminded {} that the personal-loan EMI of ₹{} is due on {}. The \
                 customer asked for a few more days because their salary is late, and promised to \
                 pay the full amount by {} through UPI. A payment link was sent by SMS.",
                script.agent,
                script.lender,
                script.customer,
                script.amount,
                script.due,
                script.promise
            ),
            "promise_to_pay",
            script.promise.clone(),
        )
    } else {
        (
            format!(
                "{} from {} called {} about the personal-loan EMI of ₹{}. The call ended before \
                 the customer committed to a payment date; a follow-up call is needed.",
                script.agent, script.lender, script.customer, script.amount
            ),
            "callback_requested",
            "none".to_owned(),
        )
    };
    let balance = agent_turns as i64 - user_turns as i64;
    let disposition = vec![
        metric(
            "turn_taking_balance",
            Value::from(balance),
            1.0,
            format!("The agent spoke {agent_turns} times and the user {user_turns} times."),
            "Measure the balance of speaking turns: the agent's turns minus the user's.",
            "INTEGER",
        ),
        metric(
            "escalation_needed",
            Value::Bool(false),
            1.0,
            "The customer raised no complaint or dispute that needs a human.".to_owned(),
            "Based on the interaction, did this call require escalation?",
            "BOOLEAN",
        ),
        metric(
            "promised_payment_date",
            Value::String(promise_date),
            0.95,
            if promised {
                "The customer named a date by which they will pay.".to_owned()
            } else {
                "No payment date was agreed during the call.".to_owned()
            },
            "On which date did the customer promise to pay? Answer YYYY-MM-DD or none.",
            "STRING",
        ),
        metric(
            "call_outcome",
            Value::String(outcome.to_owned()),
            0.9,
            format!("The call is classified as {outcome}."),
            "Classify the outcome: promise_to_pay, callback_requested, refused_to_pay or \
             not_connected.",
            "ENUM",
        ),
    ];
    let success = vec![
        metric(
            "payment_commitment_obtained",
            Value::Bool(promised),
            0.92,
            if promised {
                "The customer committed to paying the full amount.".to_owned()
            } else {
                "No commitment to pay was obtained.".to_owned()
            },
            "Did the agent obtain a commitment to pay?",
            "BOOLEAN",
        ),
        metric(
            "customer_sentiment",
            Value::String(if connected { "positive" } else { "unknown" }.to_owned()),
            0.85,
            if connected {
                "The customer was cooperative and polite throughout.".to_owned()
            } else {
                "Nobody spoke, so no sentiment can be measured.".to_owned()
            },
            "What was the customer's overall sentiment: positive, neutral, negative or unknown?",
            "ENUM",
        ),
    ];
    (summary, disposition, success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::is_object_id;
    use crate::WebhookEvent;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-07-28T15:46:12.472Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    fn json(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[test]
    fn same_seed_and_end_same_bytes_other_seed_other_bytes() {
        let opts = CallOptions::new().seed(42).ended_at(at());
        let a = SampleCall::generate(&opts).bodies("https://e.com/h", "d");
        let b = SampleCall::generate(&opts).bodies("https://e.com/h", "d");
        assert_eq!(a, b);
        let c = SampleCall::generate(&opts.clone().seed(43)).bodies("https://e.com/h", "d");
        assert_ne!(a, c);
        // Without a seed, each call is a different one.
        let fresh = CallOptions::new().ended_at(at());
        assert_ne!(
            SampleCall::generate(&fresh).call_id,
            SampleCall::generate(&fresh).call_id
        );
    }

    #[test]
    fn ids_have_the_platform_forms() {
        let call = SampleCall::generate(&CallOptions::new().seed(1).ended_at(at()));
        let parts: Vec<&str> = call.call_id.as_str().split('-').collect();
        assert_eq!(parts.len(), 3, "{}", call.call_id);
        assert_eq!(parts[0], "CALL");
        assert_eq!(parts[1], at().timestamp_millis().to_string());
        assert_eq!(parts[2].len(), 6);
        assert!(parts[2].bytes().all(|b| b.is_ascii_hexdigit()));
        let ids: Vec<DeliveryId> = (0..3).map(|n| call.delivery_id(n)).collect();
        assert!(ids.iter().all(|id| is_object_id(id.as_str())), "{ids:?}");
        assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
        assert_eq!(call.delivery_id(1), ids[1]);
        assert!(ids[0]
            .as_str()
            .starts_with(&format!("{:08x}", at().timestamp())));
        let (a, b) = (fresh_call_id(), fresh_call_id());
        assert!(
            a != b && a.as_str().starts_with("CALL-") && a.as_str().len() == 25,
            "{a} {b}"
        );
    }

    #[test]
    fn bodies_have_the_documented_shape_and_parse() {
        let call = SampleCall::generate(&CallOptions::new().seed(3));
        let bodies = call.bodies("https://example.com/h", "desc");
        let mut ids = Vec::new();
        for (body, t) in bodies.iter().zip(EventType::ALL) {
            let text = std::str::from_utf8(body).unwrap();
            assert!(
                text.starts_with(r#"{"url":"https://example.com/h","description":"desc","event":"#),
                "{t}"
            );
            let v = json(body);
            assert_eq!(v["event"], format!("{DEFAULT_AGENT_ID}.{t}").as_str());
            assert_eq!(v["metadata"]["eventType"], t.as_str());
            assert_eq!(v["metadata"]["callId"], call.call_id.as_str());
            ids.push(v["id"].as_str().unwrap().to_owned());
            let event = WebhookEvent::from_slice(body).unwrap();
            assert_eq!(event.event_type(), t);
            assert_eq!(
                event.call_id().map(|id| id.to_string()),
                Some(call.call_id.to_string())
            );
        }
        ids.dedup();
        assert_eq!(ids.len(), 3);
        let pre = json(&bodies[0]);
        let keys: Vec<&String> = pre["metadata"].as_object().unwrap().keys().collect();
        for k in [
            "agentId",
            "eventType",
            "conversationType",
            "toPhone",
            "fromPhone",
            "callId",
        ] {
            assert!(keys.iter().any(|x| *x == k), "pre-conversation {k}");
        }
        let analytics = json(&bodies[2]);
        assert!(analytics["metadata"]["callData"]
            .get("callDirection")
            .is_none());
        assert_eq!(
            json(&bodies[1])["metadata"]["callData"]["callDirection"],
            "telephony_outbound"
        );
        assert_eq!(
            call.body(
                &EventType::Unknown("x".into()),
                "u",
                "d",
                &call.delivery_id(0)
            ),
            None
        );
    }

    #[test]
    fn completed_call_is_consistent() {
        let call = SampleCall::generate(&CallOptions::new().turns(13).variable("loan_id", 42));
        let answer = call.answered_at.unwrap();
        let span_ms = (call.ended_at - answer).num_milliseconds();
        assert!(call.duration_secs > 4.0, "{}", call.duration_secs);
        assert_eq!(span_ms, (call.duration_secs * 1000.0).round() as i64);
        assert!(call.recording_url.is_some());
        assert_eq!(call.transcript.len(), 13);
        let mut previous = answer;
        for (i, t) in call.transcript.iter().enumerate() {
            assert_eq!(
                t.role,
                if i % 2 == 0 { "agent" } else { "user" },
                "turn {i}"
            );
            let at: DateTime<Utc> = t.timestamp.parse().unwrap();
            assert!(at > previous && at <= call.ended_at, "turn {i}");
            assert_eq!(t.timestamp.len(), 24);
            previous = at;
            assert!(
                !t.content.contains('{'),
                "unfilled placeholder: {}",
                t.content
            );
        }
        let text = |i: usize| call.transcript[i].content.as_str();
        // Calls longer than the script say fillers, then still end with the goodbyes.
        assert!(text(8).contains("auto-debit"), "{}", text(8));
        assert!(text(9).contains("link"), "{}", text(9));
        assert!(text(10).contains("और जानकारी"), "{}", text(10));
        assert!(text(12).contains("धन्यवाद"), "{}", text(12));

        let keys: Vec<&str> = call.variables.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(&keys[..11], &crate::Variables::STANDARD_KEYS[..]);
        assert_eq!(keys.last(), Some(&"loan_id"));
        let var = |k: &str| {
            call.variables
                .iter()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(var("call_id"), Some(Value::from(call.call_id.as_str())));
        assert_eq!(var("user_number"), Some(Value::from(DEFAULT_USER_NUMBER)));
        assert_eq!(var("agent_number"), Some(Value::from(DEFAULT_AGENT_NUMBER)));
        assert!(call.summary.contains("promised"));
        let types: Vec<&str> = call
            .disposition_metrics
            .iter()
            .map(|m| m.metric_type.as_str())
            .collect();
        for t in ["INTEGER", "BOOLEAN", "STRING", "ENUM"] {
            assert!(types.contains(&t), "{t} missing");
        }
    }

    #[test]
    fn inbound_swaps_the_default_numbers() {
        let opts = CallOptions::new().direction(CallDirection::TelephonyInbound);
        let call = SampleCall::generate(&opts);
        assert_eq!(call.from_number, DEFAULT_USER_NUMBER);
        assert_eq!(call.to_number, DEFAULT_AGENT_NUMBER);
        assert_eq!(call.conversation_type(), "telephonyInbound");
        let pre = json(&call.bodies("u", "d")[0]);
        assert_eq!(pre["metadata"]["fromPhone"], DEFAULT_USER_NUMBER);
        assert_eq!(pre["metadata"]["conversationType"], "telephonyInbound");
        let given = opts.from_number("+15550100").to_number("+15550199");
        let call = SampleCall::generate(&given);
        let var = |k: &str| {
            call.variables
                .iter()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(var("user_number"), Some(Value::from("+15550100")));
        assert_eq!(var("agent_number"), Some(Value::from("+15550199")));
    }

    #[test]
    fn unanswered_calls_are_empty_and_short() {
        for status in ["no_answer", "busy", "failed", "cancelled"] {
            let call = SampleCall::generate(&CallOptions::new().call_status(status));
            assert!(call.transcript.is_empty(), "{status}");
            assert_eq!(call.recording_url, None);
            assert_eq!(call.duration_secs, 0.0);
            assert_eq!(call.answered_at, None);
            assert!(call.summary.contains("did not connect"));
            let post = json(&call.bodies("u", "d")[1]);
            assert!(post["metadata"]["callData"].get("answerTime").is_none());
            assert_eq!(post["metadata"]["callData"]["callStatus"], status);
        }
    }

    #[test]
    fn explicit_duration_and_variables_win() {
        let opts = CallOptions::new()
            .duration(Duration::from_millis(12_345))
            .turns(0)
            .variable("customer_name", "Kabir Shah")
            .variable("timezone", "UTC");
        let call = SampleCall::generate(&opts);
        assert_eq!(call.duration_secs, 12.345);
        assert!(call.transcript.is_empty());
        assert_eq!(
            call.variables.iter().position(|(k, _)| k == "timezone"),
            Some(10)
        );
        assert!(call.summary.contains("Kabir Shah"));
        let big = SampleCall::generate(&CallOptions::new().turns(10_000));
        assert_eq!(big.transcript.len(), MAX_TURNS);
    }

    #[test]
    fn debug_hides_personal_data() {
        let opts = CallOptions::new()
            .from_number("+14155550123")
            .variable("customer_name", "Kabir Shah");
        let call = SampleCall::generate(&opts);
        for shown in [
            format!("{opts:?}"),
            format!("{call:?}"),
            format!("{:?}", call.transcript),
        ] {
            assert!(!shown.contains("4155550123"), "{shown}");
            assert!(!shown.contains("Kabir"), "{shown}");
        }
    }

    #[test]
    fn signatures_verify() {
        let secret = SigningSecret::new("s3cret");
        let call = SampleCall::generate(&CallOptions::new());
        for (body, sig) in call.signed_bodies("u", "d", &secret) {
            assert_eq!(sig, sign(&secret, &body));
            assert!(crate::Verifier::new(secret.clone())
                .unwrap()
                .verify(&body, &sig)
                .is_ok());
        }
    }
}
