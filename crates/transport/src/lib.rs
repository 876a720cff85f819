//! The Atoms webhook API described as data: one owned request type per operation
//! ([`endpoint`]), [`build`] to turn one into an `http::Request`, [`decode`] to turn the
//! `http::Response` into a typed result or an [`Error`], a pure [`RetryPolicy`], the
//! attempt loop [`Call`], and the planning functions of the conveniences ([`plan`]).
//!
//! There is no I/O here and no sleeping: `atoms-webhook-blocking` (ureq) and
//! `atoms-webhook-async` (reqwest + tokio) only send, sleep and convert errors.
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
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod call;
mod codec;
mod config;
pub mod endpoint;
mod error;
pub mod plan;
mod retry;
pub mod trace;
pub mod validate;

pub use atoms_webhook_models as models;

pub use call::{Call, Step};
pub use codec::{
    api_error, build, decode, decode_at, retry_after, snippet, url, Prepared, SNIPPET_CHARS,
    USER_AGENT_VALUE,
};
pub use config::{
    Config, Jitter, RetryConfig, API_KEY_ENV, BASE_URL_ENV, CURRENT_BASE_URL, DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
};
pub use endpoint::{
    ClearAgentSubscriptions, CreateWebhook, DeleteWebhook, Endpoint, GetAgentSubscriptions,
    GetWebhook, ListWebhooks, ReplaceAgentSubscriptions, UpdateWebhook,
};
pub use error::{
    is_retryable_status, AgentSubscriptions, ApiError, ApiErrorKind, BodyTooLarge, BoxError, Error,
    ForeignSubscriptions, Stage, ValidationError,
};
pub use plan::{AddEventsPlan, AgentRemoval, CascadePlan, CascadeReport, CreatedWebhook};
pub use retry::{random_jitter, Clock, Decision, JitterSource, Outcome, RetryPolicy};
