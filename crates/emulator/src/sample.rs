//! Typed sample deliveries: a convenience over the models crate's
//! [`testkit`](atoms_webhook_models::testkit) (which has the generator, its options and the raw
//! signed bodies, without a server).
//!
//! ```
//! use atoms_webhook_emulator::sample::{call_events, event_body, CallOptions};
//! use atoms_webhook_models::{CallDirection, EventType, WebhookEvent};
//!
//! let opts = CallOptions::new().direction(CallDirection::TelephonyInbound).turns(4).seed(1);
//! let events = call_events(&opts, "https://example.com/hook", "CRM");
//! let [pre, post, analytics] = &events[..] else { unreachable!() };
//! assert_eq!(pre.call_id(), post.call_id());
//! assert_eq!(post.call_id(), analytics.call_id());
//! assert_eq!(post.event_type(), EventType::PostConversation);
//! // The bytes a receiver gets parse back to the same event.
//! assert_eq!(&WebhookEvent::from_slice(&event_body(post)).unwrap(), post);
//! ```

use atoms_webhook_models::WebhookEvent;

pub use atoms_webhook_models::testkit::{
    CallOptions, SampleCall, DEFAULT_AGENT_ID, DEFAULT_AGENT_NUMBER, DEFAULT_USER_NUMBER,
    MAX_DURATION, MAX_TURNS,
};

/// The three deliveries of one call, in delivery order (pre-conversation, post-conversation,
/// analytics-completed), addressed to a webhook with this `url` and `description`, parsed.
/// (The generator writes the documented shapes, so all three parse.)
pub fn call_events(opts: &CallOptions, url: &str, description: &str) -> Vec<WebhookEvent> {
    SampleCall::generate(opts)
        .bodies(url, description)
        .iter()
        .filter_map(|body| WebhookEvent::from_slice(body).ok())
        .collect()
}

/// The exact bytes a delivery of `event` carries (compact JSON): sign these, send these.
pub fn event_body(event: &WebhookEvent) -> Vec<u8> {
    event.to_vec()
}
