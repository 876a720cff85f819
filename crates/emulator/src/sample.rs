//! Realistic delivery bodies for one simulated call, usable without a server.
//!
//! [`call_events`] turns [`CallOptions`] into the three deliveries of one call
//! (`pre-conversation`, `post-conversation`, `analytics-completed`) as the platform sends them:
//! one shared `callId`, a fresh 24-hex delivery `id` each, `event` = `{agentId}.{eventType}`,
//! and content built around the current time: an EMI-reminder conversation in Hindi and English
//! with increasing turn timestamps, `callData` whose `answerTime` + `callDuration` = `endTime`,
//! the eleven standard variables plus custom ones, and analytics with metrics of every value
//! type. A call that did not complete (`no_answer`, `busy`, ...) has no transcript, no
//! recording and a zero duration.
//!
//! ```
//! use atoms_webhook_emulator::sample::{call_events, event_body, CallOptions, Direction};
//! use atoms_webhook_models::{Variables, WebhookEvent};
//!
//! let opts = CallOptions::new()
//!     .direction(Direction::Inbound)
//!     .turns(4)
//!     .variable("customer_name", "Meera Iyer");
//! let [pre, post, analytics] = call_events(&opts, "https://example.com/hook", "CRM");
//! assert_eq!(pre.call_id(), post.call_id());
//! assert_eq!(post.call_id(), analytics.call_id());
//! let WebhookEvent::PostConversation(p) = &post else { unreachable!() };
//! assert_eq!(p.metadata.transcript.as_ref().map(Vec::len), Some(4));
//! let vars = p.metadata.variables.as_ref().unwrap();
//! assert!(Variables::STANDARD_KEYS.iter().all(|k| vars.get(k).is_some()));
//! assert_eq!(vars.get_str("customer_name"), Some("Meera Iyer"));
//! // The bytes a receiver gets parse back to the same event.
//! assert_eq!(WebhookEvent::from_slice(&event_body(&post)).unwrap(), post);
//! ```

use std::time::Duration;

use atoms_webhook_models::{
    AgentId, Analytics, AnalyticsCompletedEvent, AnalyticsCompletedMetadata, CallData,
    CallDirection, CallId, CallStatus, ConversationType, DeliveryId, EventType, Metric, MetricType,
    MetricValue, Number, PostConversationEvent, PostConversationMetadata, PreConversationEvent,
    PreConversationMetadata, Role, Timestamp, TranscriptTurn, Variables, WebhookEvent,
};
use chrono::{DateTime, FixedOffset, NaiveDate, Offset, SubsecRound, TimeDelta, Utc};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// Who placed the call.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The agent called out (`telephonyOutbound`, `telephony_outbound`).
    #[default]
    Outbound,
    /// The agent was called (`telephonyInbound`, `telephony_inbound`).
    Inbound,
}

impl Direction {
    /// `outbound` or `inbound`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }

    /// The `conversationType` of the call's events.
    pub fn conversation_type(self) -> ConversationType {
        match self {
            Direction::Outbound => ConversationType::TelephonyOutbound,
            Direction::Inbound => ConversationType::TelephonyInbound,
        }
    }

    /// The `callData.callDirection` of the call's events.
    pub fn call_direction(self) -> CallDirection {
        match self {
            Direction::Outbound => CallDirection::TelephonyOutbound,
            Direction::Inbound => CallDirection::TelephonyInbound,
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A direction that is neither `outbound` nor `inbound`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("direction must be \"outbound\" or \"inbound\"")]
pub struct ParseDirectionError;

impl std::str::FromStr for Direction {
    type Err = ParseDirectionError;

    /// `outbound` or `inbound`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("outbound") {
            Ok(Direction::Outbound)
        } else if s.eq_ignore_ascii_case("inbound") {
            Ok(Direction::Inbound)
        } else {
            Err(ParseDirectionError)
        }
    }
}

/// What kind of call to simulate. Every field has a default ([`CallOptions::new`]); setters
/// are named after the fields and consume and return the options.
///
/// Phone numbers default by direction: on an outbound call the agent
/// ([`DEFAULT_AGENT_NUMBER`]) calls the user ([`DEFAULT_USER_NUMBER`]); on an inbound call the
/// user calls the agent. `agent_number`/`user_number` in the variables follow the same rule.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CallOptions {
    /// The agent that handles the call (default [`DEFAULT_AGENT_ID`]).
    pub agent_id: AgentId,
    /// The calling number; `None` for the default of the direction.
    pub from_number: Option<String>,
    /// The called number; `None` for the default of the direction.
    pub to_number: Option<String>,
    /// Outbound (default) or inbound.
    pub direction: Direction,
    /// How the call ended (default `completed`). Any other status gives no transcript, no
    /// recording and, unless [`CallOptions::duration`] is set, a zero duration.
    pub call_status: CallStatus,
    /// Transcript turns of a completed call, alternating agent then user (default 6, at most
    /// [`MAX_TURNS`]).
    pub turns: usize,
    /// The call's id (default: a fresh `CALL-<epoch millis>-<6 hex>`, made by `new`).
    pub call_id: CallId,
    /// Custom variables, added after the scenario's own (`agent_name`, `customer_name`,
    /// `due_amount`, `due_date`, `lender_name`); a key already present (standard keys included)
    /// is overridden in place.
    pub variables: Variables,
    /// The call's length (at most [`MAX_DURATION`]); `None` for one that fits the transcript
    /// (zero when not completed).
    pub duration: Option<Duration>,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            agent_id: AgentId::new(DEFAULT_AGENT_ID),
            from_number: None,
            to_number: None,
            direction: Direction::Outbound,
            call_status: CallStatus::Completed,
            turns: 6,
            call_id: new_call_id(Utc::now()),
            variables: Variables::default(),
            duration: None,
        }
    }
}

impl CallOptions {
    /// The defaults, with a fresh call id.
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

    /// Outbound or inbound.
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
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
        self.call_id = call_id.into();
        self
    }

    /// Replaces the custom variables (see [`CallOptions::variables`](#structfield.variables)).
    pub fn variables(mut self, variables: Variables) -> Self {
        self.variables = variables;
        self
    }

    /// Adds or replaces one custom variable.
    pub fn variable(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.variables.insert(key, value.into());
        self
    }

    /// The call's length.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// The (calling, called) numbers, with the defaults of the direction filled in.
    pub fn numbers(&self) -> (String, String) {
        let (agent, user) = (DEFAULT_AGENT_NUMBER, DEFAULT_USER_NUMBER);
        let (from_default, to_default) = match self.direction {
            Direction::Outbound => (agent, user),
            Direction::Inbound => (user, agent),
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

/// The three deliveries of one call, in delivery order (pre-conversation, post-conversation,
/// analytics-completed), addressed to a webhook with this `url` and `description`. Each call
/// makes new delivery ids and uses the current time.
pub fn call_events(opts: &CallOptions, url: &str, description: &str) -> [WebhookEvent; 3] {
    generate(opts, Utc::now()).map(|e| addressed(&e, url, description))
}

/// The exact bytes a delivery of `event` carries (compact JSON): sign these, send these.
pub fn event_body(event: &WebhookEvent) -> Vec<u8> {
    event.to_vec()
}

/// A copy of `event` for one webhook: its `url` and `description`, and a fresh delivery id.
pub(crate) fn addressed(event: &WebhookEvent, url: &str, description: &str) -> WebhookEvent {
    let id = DeliveryId::new(object_id(Utc::now()));
    let (url, description) = (Some(url.to_owned()), Some(description.to_owned()));
    match event.clone() {
        WebhookEvent::PreConversation(mut e) => {
            (e.url, e.description, e.id) = (url, description, id);
            WebhookEvent::PreConversation(e)
        }
        WebhookEvent::PostConversation(mut e) => {
            (e.url, e.description, e.id) = (url, description, id);
            WebhookEvent::PostConversation(e)
        }
        WebhookEvent::AnalyticsCompleted(mut e) => {
            (e.url, e.description, e.id) = (url, description, id);
            WebhookEvent::AnalyticsCompleted(e)
        }
        other => other,
    }
}

/// The three events of a call that ended at `end`, not yet addressed (no url, description or
/// delivery id).
pub(crate) fn generate(opts: &CallOptions, end: DateTime<Utc>) -> [WebhookEvent; 3] {
    let mut rng = rand::rng();
    let end = end.trunc_subsecs(3);
    let completed = opts.call_status == CallStatus::Completed;
    let turns = if completed {
        opts.turns.min(MAX_TURNS)
    } else {
        0
    };

    // Seconds with microseconds, like the platform's `49.350622`.
    let duration_secs = match opts.duration {
        Some(d) => d.min(MAX_DURATION).as_secs_f64(),
        None if completed => 4.0 + turns as f64 * rng.random_range(3.2..5.4) + rng.random::<f64>(),
        None => 0.0,
    };
    let duration_secs = (duration_secs * 1e6).round() / 1e6;
    let duration_ms = (duration_secs * 1000.0).round() as i64;
    let answer = end - TimeDelta::milliseconds(duration_ms);
    let answered = duration_ms > 0;

    let (from, to) = opts.numbers();
    let (agent_number, user_number) = match opts.direction {
        Direction::Outbound => (from.clone(), to.clone()),
        Direction::Inbound => (to.clone(), from.clone()),
    };
    let variables = variables(opts, answer, &agent_number, &user_number);
    let script = Script::from_variables(&variables, answer);
    let transcript = transcript(&script, turns, answer, end, &mut rng);
    let user_turns = turns / 2;

    let mut call_data = CallData::default();
    call_data.from_number = Some(from.clone());
    call_data.to_number = Some(to.clone());
    call_data.call_duration = Number::from_f64(duration_secs);
    call_data.call_status = Some(opts.call_status.clone());
    call_data.call_direction = Some(opts.direction.call_direction());
    call_data.answer_time = answered.then(|| Timestamp::from_datetime(answer));
    call_data.end_time = Some(Timestamp::from_datetime(end));

    let conversation_type = Some(opts.direction.conversation_type());
    let event = |t: &EventType| format!("{}.{}", opts.agent_id, t);

    let mut pre_meta = PreConversationMetadata::default();
    pre_meta.agent_id = opts.agent_id.clone();
    pre_meta.event_type = EventType::PreConversation;
    pre_meta.conversation_type = conversation_type.clone();
    pre_meta.to_phone = Some(to);
    pre_meta.from_phone = Some(from);
    pre_meta.call_id = opts.call_id.clone();
    let mut pre = PreConversationEvent::default();
    pre.event = Some(event(&EventType::PreConversation));
    pre.metadata = pre_meta;

    let mut post_meta = PostConversationMetadata::default();
    post_meta.agent_id = opts.agent_id.clone();
    post_meta.event_type = EventType::PostConversation;
    post_meta.conversation_type = conversation_type.clone();
    post_meta.call_id = opts.call_id.clone();
    post_meta.recording_url = answered.then(|| {
        format!(
            "https://recordings.example.com/call-recordings/{}/composite.wav",
            opts.call_id
        )
    });
    post_meta.call_data = Some(call_data.clone());
    post_meta.transcript = Some(transcript);
    post_meta.variables = Some(variables);
    let mut post = PostConversationEvent::default();
    post.event = Some(event(&EventType::PostConversation));
    post.metadata = post_meta;

    // The documented analytics-completed example has no callDirection.
    let mut analytics_call_data = call_data;
    analytics_call_data.call_direction = None;
    let mut analytics_meta = AnalyticsCompletedMetadata::default();
    analytics_meta.agent_id = opts.agent_id.clone();
    analytics_meta.event_type = EventType::AnalyticsCompleted;
    analytics_meta.conversation_type = conversation_type;
    analytics_meta.call_id = opts.call_id.clone();
    analytics_meta.analytics = Some(analytics(
        &script,
        &opts.call_status,
        turns - user_turns,
        user_turns,
    ));
    analytics_meta.call_data = Some(analytics_call_data);
    let mut analytics = AnalyticsCompletedEvent::default();
    analytics.event = Some(event(&EventType::AnalyticsCompleted));
    analytics.metadata = analytics_meta;

    [pre.into(), post.into(), analytics.into()]
}

/// The eleven standard variables, then the scenario's custom ones, then the caller's.
fn variables(
    opts: &CallOptions,
    start: DateTime<Utc>,
    agent_number: &str,
    user_number: &str,
) -> Variables {
    let local = start.with_timezone(&ist());
    let due_date = (local + TimeDelta::days(5)).date_naive();
    let mut v = Variables::default();
    v.insert("call_id", opts.call_id.as_str());
    v.insert("user_number", user_number);
    v.insert("agent_number", agent_number);
    v.insert(
        "conversation_type",
        opts.direction.conversation_type().as_str(),
    );
    v.insert("agent_gender", "female");
    v.insert("default_language", "hi");
    v.insert("supported_languages", "hi,en");
    v.insert("current_date", local.format("%Y-%m-%d").to_string());
    v.insert("current_time", local.format("%H:%M").to_string());
    v.insert("current_day", local.format("%A").to_string());
    v.insert("timezone", TIMEZONE);
    v.insert("agent_name", "Priya");
    v.insert("customer_name", "Ananya Verma");
    v.insert("due_amount", "18500");
    v.insert("due_date", due_date.format("%Y-%m-%d").to_string());
    v.insert("lender_name", "Sahyog Finance");
    for (key, value) in opts.variables.iter() {
        v.insert(key, value.clone());
    }
    v
}

fn ist() -> FixedOffset {
    // The offset is a constant well inside the allowed range; UTC is never used.
    FixedOffset::east_opt(IST_OFFSET_SECS).unwrap_or(Utc.fix())
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
    fn from_variables(v: &Variables, start: DateTime<Utc>) -> Self {
        let text = |key: &str, default: &str| -> String {
            match v.get(key) {
                Some(j) if j.as_str().is_some() => j.as_str().unwrap_or_default().to_owned(),
                Some(j) if !j.is_null() => j.as_raw_str().into_owned(),
                _ => default.to_owned(),
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
    rng: &mut impl Rng,
) -> Vec<TranscriptTurn> {
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
            let jitter = rng.random_range(0..=step / 3);
            let mut at = first + TimeDelta::milliseconds(step * i as i64 + jitter);
            if let Some(p) = previous {
                at = at.max(p + TimeDelta::milliseconds(1));
            }
            previous = Some(at);
            let (role, text) = if i % 2 == 0 {
                (
                    Role::Agent,
                    line(&AGENT_LINES, &AGENT_FILLERS, i / 2, exchanges),
                )
            } else {
                (
                    Role::User,
                    line(&USER_LINES, &USER_FILLERS, i / 2, exchanges),
                )
            };
            let mut turn = TranscriptTurn::default();
            turn.role = Some(role);
            turn.content = Some(script.fill(text));
            turn.timestamp = Some(Timestamp::from_datetime(at));
            turn
        })
        .collect()
}

fn metric(
    identifier: &str,
    value: MetricValue,
    confidence: f64,
    reasoning: String,
    prompt: &str,
    metric_type: MetricType,
) -> Metric {
    let mut m = Metric::default();
    m.identifier = Some(identifier.to_owned());
    m.value = Some(value);
    // Whole confidences are written as integers, like the platform's `"confidence": 1`.
    m.confidence = if confidence.fract() == 0.0 {
        Some(Number::from(confidence as i64))
    } else {
        Number::from_f64(confidence)
    };
    m.reasoning = Some(reasoning);
    m.prompt = Some(prompt.to_owned());
    m.metric_type = Some(metric_type);
    m
}

fn analytics(
    script: &Script,
    status: &CallStatus,
    agent_turns: usize,
    user_turns: usize,
) -> Analytics {
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
    let mut a = Analytics::default();
    a.summary = Some(summary);
    a.disposition_metrics = Some(vec![
        metric(
            "turn_taking_balance",
            MetricValue::Integer(balance),
            1.0,
            format!("The agent spoke {agent_turns} times and the user {user_turns} times."),
            "Measure the balance of speaking turns: the agent's turns minus the user's.",
            MetricType::Integer,
        ),
        metric(
            "escalation_needed",
            MetricValue::Boolean(false),
            1.0,
            "The customer raised no complaint or dispute that needs a human.".to_owned(),
            "Based on the interaction, did this call require escalation?",
            MetricType::Boolean,
        ),
        metric(
            "promised_payment_date",
            MetricValue::String(promise_date),
            0.95,
            if promised {
                "The customer named a date by which they will pay.".to_owned()
            } else {
                "No payment date was agreed during the call.".to_owned()
            },
            "On which date did the customer promise to pay? Answer YYYY-MM-DD or none.",
            MetricType::String,
        ),
        metric(
            "call_outcome",
            MetricValue::String(outcome.to_owned()),
            0.9,
            format!("The call is classified as {outcome}."),
            "Classify the outcome: promise_to_pay, callback_requested, refused_to_pay or \
             not_connected.",
            MetricType::Enum,
        ),
    ]);
    a.success_metrics = Some(vec![
        metric(
            "payment_commitment_obtained",
            MetricValue::Boolean(promised),
            0.92,
            if promised {
                "The customer committed to paying the full amount.".to_owned()
            } else {
                "No commitment to pay was obtained.".to_owned()
            },
            "Did the agent obtain a commitment to pay?",
            MetricType::Boolean,
        ),
        metric(
            "customer_sentiment",
            MetricValue::String(if connected { "positive" } else { "unknown" }.to_owned()),
            0.85,
            if connected {
                "The customer was cooperative and polite throughout.".to_owned()
            } else {
                "Nobody spoke, so no sentiment can be measured.".to_owned()
            },
            "What was the customer's overall sentiment: positive, neutral, negative or unknown?",
            MetricType::Enum,
        ),
    ]);
    a
}

/// `CALL-<epoch millis>-<6 hex>`, the platform's form.
fn new_call_id(at: DateTime<Utc>) -> CallId {
    let tail = rand::rng().next_u32() & 0x00ff_ffff;
    CallId::new(format!("CALL-{}-{tail:06x}", at.timestamp_millis()))
}

/// A 24-hex ObjectId-shaped id: 4 bytes of seconds, 8 random bytes.
pub(crate) fn object_id(at: DateTime<Utc>) -> String {
    let secs = u32::try_from(at.timestamp().max(0)).unwrap_or(u32::MAX);
    let mut random = [0u8; 8];
    rand::rng().fill_bytes(&mut random);
    let mut s = format!("{secs:08x}");
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use atoms_webhook_models::ids::is_object_id;

    fn post(events: &[WebhookEvent; 3]) -> &PostConversationEvent {
        match &events[1] {
            WebhookEvent::PostConversation(e) => e,
            other => panic!("expected post-conversation, got {other:?}"),
        }
    }

    fn analytics_of(events: &[WebhookEvent; 3]) -> &AnalyticsCompletedEvent {
        match &events[2] {
            WebhookEvent::AnalyticsCompleted(e) => e,
            other => panic!("expected analytics-completed, got {other:?}"),
        }
    }

    fn is_api_timestamp(t: &Timestamp) -> bool {
        let b = t.as_str().as_bytes();
        b.len() == 24 && b[19] == b'.' && b[23] == b'Z' && t.datetime().is_some()
    }

    #[test]
    fn ids_have_the_platform_forms() {
        let id = object_id(Utc::now());
        assert!(is_object_id(&id), "{id}");
        let call = new_call_id(Utc::now());
        let parts: Vec<&str> = call.as_str().split('-').collect();
        assert_eq!(parts.len(), 3, "{call}");
        assert_eq!(parts[0], "CALL");
        assert_eq!(parts[1].len(), 13, "{call}");
        assert!(parts[1].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(parts[2].len(), 6);
        assert!(parts[2].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(CallOptions::new().call_id, CallOptions::new().call_id);
    }

    #[test]
    fn three_events_share_the_call_and_differ_in_delivery_id() {
        let opts = CallOptions::new();
        let events = call_events(&opts, "https://example.com/h", "desc");
        let types: Vec<EventType> = events.iter().map(WebhookEvent::event_type).collect();
        assert_eq!(types, EventType::ALL.to_vec());
        let mut ids = Vec::new();
        for e in &events {
            assert_eq!(e.call_id(), Some(&opts.call_id));
            assert_eq!(e.agent_id(), Some(&AgentId::new(DEFAULT_AGENT_ID)));
            let id = e.delivery_id().unwrap();
            assert!(id.is_object_id(), "{id}");
            ids.push(id);
            let v = e.to_value();
            assert_eq!(v["url"], "https://example.com/h");
            assert_eq!(v["description"], "desc");
            assert_eq!(
                v["event"],
                format!("{DEFAULT_AGENT_ID}.{}", e.event_type()).as_str()
            );
            assert!(v["metadata"].get("conversationType").is_some());
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 3);
    }

    #[test]
    fn completed_call_is_consistent() {
        let opts = CallOptions::new().turns(13).variable("loan_id", 42);
        let events = generate(&opts, Utc::now());
        let p = post(&events);
        let data = p.metadata.call_data.as_ref().unwrap();
        let (answer, end) = (
            data.answer_time.clone().unwrap(),
            data.end_time.clone().unwrap(),
        );
        assert!(is_api_timestamp(&answer) && is_api_timestamp(&end));
        let span_ms = (end.datetime().unwrap() - answer.datetime().unwrap()).num_milliseconds();
        let secs = data.duration_secs().unwrap();
        assert!(secs > 4.0, "{secs}");
        assert_eq!(span_ms, (secs * 1000.0).round() as i64);
        assert_eq!(data.call_status, Some(CallStatus::Completed));
        assert_eq!(data.call_direction, Some(CallDirection::TelephonyOutbound));
        assert_eq!(data.from_number.as_deref(), Some(DEFAULT_AGENT_NUMBER));
        assert_eq!(data.to_number.as_deref(), Some(DEFAULT_USER_NUMBER));
        assert!(p.metadata.recording_url.is_some());

        let turns = p.metadata.transcript.as_ref().unwrap();
        assert_eq!(turns.len(), 13);
        let mut previous = answer.datetime().unwrap();
        for (i, t) in turns.iter().enumerate() {
            let expected = if i % 2 == 0 { Role::Agent } else { Role::User };
            assert_eq!(t.role.as_ref(), Some(&expected), "turn {i}");
            let at = t.timestamp.as_ref().unwrap();
            assert!(is_api_timestamp(at));
            assert!(
                at.datetime().unwrap() > previous,
                "turn {i} not after the previous"
            );
            assert!(at.datetime().unwrap() <= end.datetime().unwrap());
            previous = at.datetime().unwrap();
            assert!(
                !t.text().contains('{'),
                "unfilled placeholder: {}",
                t.text()
            );
        }
        assert!(turns.iter().any(|t| !t.text().is_ascii()));
        // Calls longer than the script say fillers, then still end with the goodbyes.
        assert!(
            turns[8].text().contains("auto-debit"),
            "{}",
            turns[8].text()
        );
        assert!(turns[9].text().contains("link"), "{}", turns[9].text());
        assert!(
            turns[10].text().contains("और जानकारी"),
            "{}",
            turns[10].text()
        );
        assert!(
            turns[11].text().contains("बस इतना ही"),
            "{}",
            turns[11].text()
        );
        assert!(turns[12].text().contains("धन्यवाद"), "{}", turns[12].text());

        let vars = p.metadata.variables.as_ref().unwrap();
        let keys: Vec<&str> = vars.iter().map(|(k, _)| k).collect();
        assert_eq!(&keys[..11], &Variables::STANDARD_KEYS[..]);
        assert_eq!(vars.call_id(), Some(opts.call_id.as_str()));
        assert_eq!(vars.user_number(), Some(DEFAULT_USER_NUMBER));
        assert_eq!(vars.agent_number(), Some(DEFAULT_AGENT_NUMBER));
        assert_eq!(vars.conversation_type(), Some("telephonyOutbound"));
        assert!(vars.current_date_parsed().is_some());
        assert_eq!(
            vars.get("loan_id").map(|v| v.to_value()),
            Some(Value::from(42))
        );
        assert!(vars.custom().count() >= 5);

        let a = analytics_of(&events);
        let data = a.metadata.call_data.as_ref().unwrap();
        assert_eq!(data.call_direction, None);
        assert_eq!(data.answer_time, Some(answer));
        let analytics = a.metadata.analytics.as_ref().unwrap();
        assert!(analytics.summary.as_deref().unwrap().contains("promised"));
        let types: Vec<MetricType> = analytics
            .disposition_list()
            .iter()
            .filter_map(|m| m.metric_type.clone())
            .collect();
        for t in [
            MetricType::Integer,
            MetricType::Boolean,
            MetricType::String,
            MetricType::Enum,
        ] {
            assert!(types.contains(&t), "{t} missing");
        }
        let values: Vec<&MetricValue> = analytics
            .disposition_list()
            .iter()
            .filter_map(|m| m.value.as_ref())
            .collect();
        assert!(values.iter().any(|v| v.as_i64().is_some()));
        assert!(values.iter().any(|v| v.as_bool().is_some()));
        assert!(values.iter().any(|v| v.as_str().is_some()));
        assert!(!analytics.success_list().is_empty());
    }

    #[test]
    fn inbound_swaps_the_default_numbers() {
        let opts = CallOptions::new().direction(Direction::Inbound);
        let events = generate(&opts, Utc::now());
        let WebhookEvent::PreConversation(pre) = &events[0] else {
            panic!("pre first")
        };
        assert_eq!(
            pre.metadata.from_phone.as_deref(),
            Some(DEFAULT_USER_NUMBER)
        );
        assert_eq!(pre.metadata.to_phone.as_deref(), Some(DEFAULT_AGENT_NUMBER));
        assert_eq!(
            pre.metadata.conversation_type,
            Some(ConversationType::TelephonyInbound)
        );
        let p = post(&events);
        let data = p.metadata.call_data.as_ref().unwrap();
        assert_eq!(data.call_direction, Some(CallDirection::TelephonyInbound));
        let vars = p.metadata.variables.as_ref().unwrap();
        assert_eq!(vars.user_number(), Some(DEFAULT_USER_NUMBER));
        assert_eq!(vars.agent_number(), Some(DEFAULT_AGENT_NUMBER));

        let given = CallOptions::new()
            .direction(Direction::Inbound)
            .from_number("+15550100")
            .to_number("+15550199");
        let p = generate(&given, Utc::now());
        let vars = post(&p).metadata.variables.as_ref().unwrap();
        assert_eq!(vars.user_number(), Some("+15550100"));
        assert_eq!(vars.agent_number(), Some("+15550199"));
    }

    #[test]
    fn unanswered_calls_are_empty_and_short() {
        for status in ["no_answer", "busy", "failed", "cancelled"] {
            let events = generate(&CallOptions::new().call_status(status), Utc::now());
            let p = post(&events);
            assert_eq!(p.metadata.transcript.as_deref(), Some(&[][..]), "{status}");
            assert_eq!(p.metadata.recording_url, None);
            let data = p.metadata.call_data.as_ref().unwrap();
            assert_eq!(data.duration_secs(), Some(0.0));
            assert_eq!(data.answer_time, None);
            assert!(data.end_time.is_some());
            assert_eq!(data.call_status.as_ref().unwrap().as_str(), status);
            let a = analytics_of(&events).metadata.analytics.as_ref().unwrap();
            assert!(a.summary.as_deref().unwrap().contains("did not connect"));
        }
    }

    #[test]
    fn explicit_duration_and_variables_win() {
        let opts = CallOptions::new()
            .duration(Duration::from_millis(12_345))
            .turns(0)
            .variable("customer_name", "Kabir Shah")
            .variable("timezone", "UTC");
        let events = generate(&opts, Utc::now());
        let p = post(&events);
        let data = p.metadata.call_data.as_ref().unwrap();
        assert_eq!(data.duration_secs(), Some(12.345));
        assert!(p.metadata.transcript.as_ref().unwrap().is_empty());
        let vars = p.metadata.variables.as_ref().unwrap();
        assert_eq!(vars.timezone(), Some("UTC"));
        assert_eq!(vars.iter().position(|(k, _)| k == "timezone"), Some(10));
        let a = analytics_of(&events).metadata.analytics.as_ref().unwrap();
        assert!(a.summary.as_deref().unwrap().contains("Kabir Shah"));

        let big = generate(&CallOptions::new().turns(10_000), Utc::now());
        assert_eq!(
            post(&big).metadata.transcript.as_ref().unwrap().len(),
            MAX_TURNS
        );
    }

    #[test]
    fn bodies_parse_back_and_match_the_documented_shape() {
        let events = call_events(&CallOptions::new(), "https://example.com/h", "d");
        for e in &events {
            let body = event_body(e);
            assert_eq!(&WebhookEvent::from_slice(&body).unwrap(), e);
            // Read in order (serde_json's own map sorts keys without `preserve_order`).
            let fields: atoms_webhook_models::Fields = serde_json::from_slice(&body).unwrap();
            let keys: Vec<&str> = fields.keys().collect();
            assert_eq!(keys, ["url", "description", "event", "metadata", "id"]);
        }
        let v = events[0].to_value();
        for k in [
            "agentId",
            "eventType",
            "conversationType",
            "toPhone",
            "fromPhone",
            "callId",
        ] {
            assert!(v["metadata"].get(k).is_some(), "pre-conversation {k}");
        }
    }

    #[test]
    fn directions_parse() {
        assert_eq!("Outbound".parse(), Ok(Direction::Outbound));
        assert_eq!("inbound".parse(), Ok(Direction::Inbound));
        assert_eq!("sideways".parse::<Direction>(), Err(ParseDirectionError));
        assert_eq!(Direction::Inbound.to_string(), "inbound");
    }
}
