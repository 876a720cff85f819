//! Typed sample deliveries: a convenience over the models crate's
//! [`testkit`](atoms_webhook_models::testkit) (which has the generator, its options and the raw
//! signed bodies, without a server).
//!
//! ```
//! use atoms_webhook_emulator::sample::{call_events, event_body, CallOptions};
//! use atoms_webhook_models::{CallDirection, WebhookEvent};
//!
//! let opts = CallOptions::new().direction(CallDirection::TelephonyInbound).turns(4).seed(1);
//! let [pre, post, analytics] = call_events(&opts, "https://example.com/hook", "CRM");
//! assert_eq!(pre.call_id(), post.call_id());
//! assert_eq!(post.call_id(), analytics.call_id());
//! let WebhookEvent::PostConversation(p) = &post else { unreachable!() };
//! assert_eq!(p.metadata.transcript.as_ref().map(Vec::len), Some(4));
//! // The bytes a receiver gets parse back to the same event.
//! assert_eq!(WebhookEvent::from_slice(&event_body(&post)).unwrap(), post);
//! ```

use atoms_webhook_models::WebhookEvent;

pub use atoms_webhook_models::testkit::{
    CallOptions, SampleCall, DEFAULT_AGENT_ID, DEFAULT_AGENT_NUMBER, DEFAULT_USER_NUMBER,
    MAX_DURATION, MAX_TURNS,
};

/// The three deliveries of one call, in delivery order (pre-conversation, post-conversation,
/// analytics-completed), addressed to a webhook with this `url` and `description`, parsed.
pub fn call_events(opts: &CallOptions, url: &str, description: &str) -> [WebhookEvent; 3] {
    SampleCall::generate(opts)
        .bodies(url, description)
        // The generator writes the documented shapes, which always parse; were one not to,
        // its raw JSON would still be kept (as an unknown event).
        .map(|body| {
            WebhookEvent::from_slice(&body).unwrap_or_else(|_| {
                WebhookEvent::Unknown(serde_json::from_slice(&body).unwrap_or_default())
            })
        })
}

/// The exact bytes a delivery of `event` carries (compact JSON): sign these, send these.
pub fn event_body(event: &WebhookEvent) -> Vec<u8> {
    event.to_vec()
}
