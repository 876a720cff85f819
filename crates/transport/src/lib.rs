//! The Atoms webhook API described as data: one owned request type per operation
//! ([`endpoint`]), [`build`] to turn one into an `http::Request`, [`decode_for`] to turn the
//! `http::Response` into a typed result or an [`Error`], a pure [`RetryPolicy`], the
//! attempt loop [`Call`], and the operations of several requests as state machines
//! ([`flow`]), planned by pure functions ([`plan`]).
//!
//! There is no I/O here and no sleeping: `atoms-webhook-blocking` (ureq) and
//! `atoms-webhook-async` (reqwest + tokio) only drive [`Operation`]s: send what they yield,
//! sleep when they ask, convert errors.
//!
//! ```
//! use atoms_webhook_transport::{build, decode, Config, endpoint::ListWebhooks};
//!
//! let config = Config::new("sk-example").base_url("http://127.0.0.1:8080");
//! let request = build(&config, &ListWebhooks::new())?;
//! assert_eq!(request.uri(), "http://127.0.0.1:8080/webhook");
//!
//! // Any HTTP client sends `request`; its answer goes back through `decode`.
//! let response = http::Response::builder()
//!     .status(200)
//!     .body(br#"{"status":true,"data":[{"_id":"64f0c0ffee0000000000abcd","url":"https://example.com/h"}]}"#.to_vec())
//!     .unwrap();
//! let webhooks = decode::<ListWebhooks>(response)?;
//! assert_eq!(webhooks[0].url.as_deref(), Some("https://example.com/h"));
//! # Ok::<(), atoms_webhook_transport::Error>(())
//! ```
//!
//! # Bring your own HTTP client
//!
//! A single call ([`Call`]) and a flow of several ([`flow`]) are both [`Operation`]s: a loop
//! that sends what they ask and sleeps when they say is a whole client, retries included.
//! Here the "HTTP client" is a closure answering from a script; a real one sends the request
//! and maps its failures with [`Error::connect`], [`Error::transport`] or [`Error::timeout`].
//!
//! ```
//! use std::collections::VecDeque;
//! use std::time::Duration;
//! use atoms_webhook_transport::{
//!     Bytes, Call, Config, DeleteWebhookCascade, Error, Jitter, Next, Operation, Prepared,
//!     RetryConfig, RetryPolicy, endpoint::ListWebhooks,
//! };
//!
//! type Send<'a> = dyn FnMut(http::Request<Vec<u8>>) -> Result<http::Response<Bytes>, Error> + 'a;
//!
//! /// The whole driver: send, sleep, repeat.
//! fn drive<O: Operation>(mut op: O, send: &mut Send<'_>, slept: &mut Vec<Duration>) -> Result<O::Output, Error> {
//!     let _span = op.span().clone().entered();
//!     let mut next = op.resume();
//!     loop {
//!         next = match next {
//!             Next::Send(request) => op.receive(send(request)),
//!             Next::Sleep(delay) => {
//!                 slept.push(delay); // a real client sleeps here
//!                 op.resume()
//!             }
//!             Next::Done(result) => return result,
//!         };
//!     }
//! }
//!
//! let answer = |status: u16, body: &str| {
//!     Ok(http::Response::builder().status(status).body(Bytes::copy_from_slice(body.as_bytes())).unwrap())
//! };
//! let config = Config::new("sk-example")
//!     .base_url("http://127.0.0.1:8080")
//!     .retry(RetryConfig::default().jitter(Jitter::None));
//! let prepared = Prepared::new(&config)?;
//! let policy = RetryPolicy::new(config.retry);
//!
//! const W: &str = "64f0c0ffee0000000000abcd";
//! const A: &str = "60d0fe4f5311236168a109ca";
//! let mut script = VecDeque::from([
//!     // The list: a 503 first.
//!     answer(503, ""),
//!     answer(200, r#"{"status":true,"data":[]}"#),
//!     // The cascade.
//!     answer(200, &format!(r#"{{"status":true,"data":{{"_id":"{W}","subscriptions":[{{"_id":"p","agentId":"{A}"}}]}}}}"#)),
//!     answer(200, &format!(r#"{{"status":true,"data":[{{"_id":"s1","agentId":"{A}","webhookId":"{W}","eventType":"pre-conversation"}}]}}"#)),
//!     answer(200, r#"{"status":true,"data":"Subscriptions deleted"}"#),
//!     answer(200, r#"{"status":true,"data":"Webhook deleted"}"#),
//! ]);
//! let mut sent = Vec::new();
//! let mut send = |request: http::Request<Vec<u8>>| {
//!     sent.push(format!("{} {}", request.method(), request.uri().path()));
//!     script.pop_front().unwrap_or_else(|| answer(418, ""))
//! };
//! let mut slept = Vec::new();
//!
//! // One operation: the 503 is retried after the policy's backoff, then the list arrives.
//! let call = Call::prepared(&prepared, &policy, ListWebhooks::new())?;
//! assert!(drive(call, &mut send, &mut slept)?.is_empty());
//! assert_eq!(slept, [Duration::from_millis(250)]);
//!
//! // A flow: fetch the webhook, read its agent's subscriptions, clear them, delete.
//! let report = drive(DeleteWebhookCascade::new(&prepared, &policy, W, false), &mut send, &mut slept)?;
//! assert_eq!(report.webhook_id.as_str(), W);
//! assert_eq!(report.removed_count(), 1);
//! drop(send);
//! assert_eq!(sent[2..], [
//!     "GET /webhook".to_owned(),
//!     format!("GET /agent/{A}/webhook-subscriptions"),
//!     format!("DELETE /agent/{A}/webhook-subscriptions"),
//!     format!("DELETE /webhook/{W}"),
//! ]);
//! # Ok::<(), Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod call;
mod codec;
mod config;
pub mod endpoint;
mod error;
pub mod flow;
mod operation;
pub mod plan;
mod report;
mod retry;
pub mod trace;
pub mod validate;

pub use atoms_webhook_models as models;
/// The bytes crate (1.x) of the response bodies clients hand to [`Operation::receive`].
pub use bytes;
pub use bytes::Bytes;

pub use call::{Call, Step};
pub use codec::{
    api_error, build, decode, decode_at, decode_for, decode_for_at, retry_after, snippet, url,
    Prepared, SNIPPET_CHARS, USER_AGENT_VALUE,
};
pub use config::{
    Config, Jitter, RetryConfig, API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES, LEGACY_BASE_URL,
};
pub use endpoint::{
    ClearAgentSubscriptions, CreateWebhook, DeleteWebhook, Endpoint, GetAgentSubscriptions,
    GetConversation, GetWebhook, ListConversations, ListWebhooks, ReplaceAgentSubscriptions,
    UpdateWebhook, MAX_CONVERSATION_PAGE,
};
pub use error::{
    is_retryable_status, AgentSubscriptions, ApiError, ApiErrorKind, BodyTooLarge, BoxError, Error,
    ForeignSubscriptions, Stage, ValidationError,
};
pub use flow::{AddAgentEvents, CreateWebhookWithSecret, DeleteWebhookCascade, GetSigningSecret};
pub use operation::{Next, Operation};
pub use plan::{AddEventsPlan, CascadePlan, CreatedWebhook};
pub use report::{AgentRemoval, CascadeReport};
pub use retry::{random_jitter, Clock, Decision, JitterSource, Outcome, RetryPolicy};
