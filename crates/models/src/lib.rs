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
//! - Verification (feature `verify`, on by default): [`Verifier`] and [`sign`].
//!
//! Every type is lossless: fields it does not know are kept in `extra` and written back, and
//! every enum is open (`Unknown(String)`), so parse → serialize gives back the JSON that came in.
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
//! # Ok::<(), atoms_webhook_models::VerifyError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[macro_use]
mod macros;

mod enums;
mod error;
mod event;
pub mod ids;
mod rest;
mod secret;
mod timestamp;
mod variables;
#[cfg(feature = "verify")]
pub mod verify;

#[cfg(feature = "proptest")]
pub mod strategies;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use enums::{
    CallDirection, CallStatus, ConversationType, EventType, MetricType, Role, WebhookStatus,
};
pub use error::{from_slice, from_value, ParseError};
pub use event::{
    Analytics, AnalyticsCompletedEvent, AnalyticsCompletedMetadata, CallData, Metric, MetricValue,
    PostConversationEvent, PostConversationMetadata, PreConversationEvent, PreConversationMetadata,
    TranscriptTurn, WebhookEvent,
};
pub use ids::{AgentId, CallId, DeliveryId, OrganizationId, SubscriptionId, UserId, WebhookId};
pub use rest::{
    AgentRef, ApiErrorBody, ApiResponse, CreateWebhookRequest, EventSubscription, HeadersUpdate,
    OneOrMany, PopulatedSubscription, ReplaceSubscriptionsRequest, UpdateWebhookRequest, Webhook,
    WebhookAgent, WebhookSubscription,
};
pub use secret::{ApiKey, SigningSecret};
pub use timestamp::Timestamp;
pub use variables::Variables;
#[cfg(feature = "verify")]
pub use verify::{sign, Verifier, VerifyError, SIGNATURE_HEADER};
