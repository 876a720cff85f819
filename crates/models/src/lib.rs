//! Wire types of the Smallest.ai Atoms webhook API, and verification of signed deliveries.
//!
//! This crate has no HTTP client and no async runtime: a receiver can use it alone inside any
//! web server. The REST clients are `atoms-webhook-blocking` and `atoms-webhook-async`.
//!
//! - Deliveries: [`WebhookEvent`] (pre-conversation, post-conversation, analytics-completed, or
//!   `Unknown` for event types this version does not know), with accessors that hide the
//!   naming differences between events ([`WebhookEvent::call_id`],
//!   [`WebhookEvent::from_number`], ...).
//! - REST: [`Webhook`], [`WebhookSubscription`], the request bodies and the response envelopes.
//! - Call logs: [`CallLog`] and [`CallLogPage`] (`GET /conversation`), for reconciliation.
//! - Verification (feature `verify`, on by default): [`Verifier`] and [`sign`]; reading the
//!   header from an `http::HeaderMap` needs the feature `http`.
//!
//! Every type is lossless: fields it does not know are kept in `extra` (a [`Fields`] map that
//! keeps their order and exact text) and written back, numbers keep their digits ([`Number`]),
//! and every enum is open (`Unknown(String)`), so parse → serialize gives back the JSON that came
//! in. None of this turns on a serde_json feature that would change how the rest of your program
//! parses JSON.
//!
//! # Features
//! - `verify` (default): [`Verifier`], [`sign`].
//! - `http`: `Verifier::verify_headers` and `Verifier::verify_request` on `http::HeaderMap`.
//! - `clock`: `Timestamp::now` (reads the system clock, which `wasm32-unknown-unknown` lacks).
//! - `proptest`: strategies for every type (module `strategies`).
//!
//! # Receiving a delivery
//! ```
//! use atoms_webhook_models::{sign, SigningSecret, Verifier, WebhookEvent};
//! # let secret = SigningSecret::new("whsec");
//! # let body: &[u8] = br#"{"url":"u","description":"d","event":"a.post-conversation","id":"d1",
//! #   "metadata":{"agentId":"a","eventType":"post-conversation","callId":"CALL-1"}}"#;
//! # let signature = sign(&secret, body);
//! let verifier = Verifier::new(secret)?;
//! match verifier.verify_and_parse(body, &signature)? {
//!     WebhookEvent::PostConversation(e) => println!("call {} ended", e.metadata.call_id),
//!     other => println!("{} for call {:?}", other.event_type(), other.call_id()),
//! }
//! # let event = verifier.verify_and_parse(body, &signature)?;
//! // The accessors read the same on every event.
//! for turn in event.transcript() {
//!     println!("{:?}: {}", turn.role, turn.text());
//! }
//! if let Some(metric) = event.analytics().and_then(|a| a.metric("promised_to_pay")) {
//!     println!("promised: {:?}", metric.value);
//! }
//! # Ok::<(), atoms_webhook_models::VerifyError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod macros;

mod calllog;
mod enums;
mod error;
mod event;
pub mod ids;
mod json;
mod rest;
mod secret;
mod timestamp;
mod variables;
#[cfg(feature = "verify")]
#[cfg_attr(docsrs, doc(cfg(feature = "verify")))]
pub mod verify;

#[cfg(feature = "proptest")]
#[cfg_attr(docsrs, doc(cfg(feature = "proptest")))]
pub mod strategies;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use calllog::{CallLog, CallLogPage, Pagination};
pub use enums::{
    CallDirection, CallStatus, ConversationType, EventType, MetricType, Role, WebhookStatus,
};
pub use error::{from_slice, from_value, ParseError};
pub use event::{
    Analytics, AnalyticsCompletedEvent, AnalyticsCompletedMetadata, CallData, Metric, MetricValue,
    PostConversationEvent, PostConversationMetadata, PreConversationEvent, PreConversationMetadata,
    TranscriptTurn, UnknownEvent, WebhookEvent, RECOVERED_KEY,
};
pub use ids::{AgentId, CallId, DeliveryId, OrganizationId, SubscriptionId, UserId, WebhookId};
pub use json::{Fields, Json, Number};
pub use rest::{
    AgentRef, ApiErrorBody, ApiResponse, CreateWebhookRequest, EventSubscription, HeadersUpdate,
    OneOrMany, PopulatedSubscription, ReplaceSubscriptionsRequest, UpdateWebhookRequest, Webhook,
    WebhookAgent, WebhookSubscription,
};
pub use secret::{ApiKey, SigningSecret};
pub use timestamp::Timestamp;
pub use variables::Variables;
#[cfg(feature = "verify")]
pub use verify::{sign, Verifier, VerifyError, SIGNATURE_HEADER, SIGNATURE_HEADERS};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
