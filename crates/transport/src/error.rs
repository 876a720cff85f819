//! The one error type of the SDK, shared by both clients.

use std::fmt;
use std::time::Duration;

use atoms_webhook_models::{AgentId, ParseError, WebhookId, WebhookSubscription};
use http::StatusCode;

/// A boxed error from the HTTP stack (ureq or reqwest), kept opaque so that neither library's
/// types are part of this SDK's public API.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when calling the Atoms webhook API.
///
/// ```
/// use atoms_webhook_transport::{ApiErrorKind, Error};
/// # fn handle(e: Error) {
/// match &e {
///     Error::Api(api) if api.kind() == ApiErrorKind::UrlAlreadyRegistered => { /* reuse it */ }
///     Error::Validation(v) => eprintln!("fix field {}: {}", v.field(), v.message()),
///     _ if e.is_retryable() => eprintln!("try again later ({:?})", e.retry_after()),
///     _ => eprintln!("{e}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status, or with `"status": false`.
    #[error(transparent)]
    Api(ApiError),

    /// The request was refused before any I/O: a field breaks a documented rule.
    #[error(transparent)]
    Validation(ValidationError),

    /// The request timed out.
    #[error("request timed out {stage}: {source}")]
    Timeout {
        /// Whether the request may have reached the server.
        stage: Stage,
        /// The HTTP library's error.
        #[source]
        source: BoxError,
    },

    /// The exchange failed below HTTP: DNS, connection refused, TLS, connection reset, a
    /// response body over [`Config::max_response_bytes`](crate::Config::max_response_bytes)
    /// ([`BodyTooLarge`]), ...
    #[error("HTTP transport failed {stage}: {source}")]
    Transport {
        /// Whether the request may have reached the server.
        stage: Stage,
        /// The HTTP library's error.
        #[source]
        source: BoxError,
    },

    /// The server answered with a success status but a body that is not what the API documents.
    #[error(
        "could not decode the {status} response: {source}; body: {}",
        display_snippet(snippet)
    )]
    Decode {
        /// The HTTP status of the response.
        status: StatusCode,
        /// The JSON path where decoding failed (`.` for the whole body).
        path: String,
        /// The start of the body (secrets masked, at most about 200 characters).
        snippet: String,
        /// What was wrong.
        #[source]
        source: Box<ParseError>,
    },

    /// The answer names another webhook than the one asked for (a by-id `GET` answering with
    /// another `_id`, an update echoing another id). Nothing was done with it: a convenience
    /// stops before any write. Only the two ids are kept, never the rest of the answer (it
    /// carries the other webhook's signing secret).
    #[error(
        "the answer to {operation} is about webhook {}, not the webhook {} that was asked for",
        received.as_str().escape_debug(),
        requested
    )]
    UnexpectedResponse {
        /// The operation (`"get_webhook"`, `"update_webhook"`).
        operation: &'static str,
        /// The id the caller named.
        requested: WebhookId,
        /// The id the answer named.
        received: WebhookId,
    },

    /// The answer carries a value that cannot be used for what comes next (an id with
    /// whitespace, an empty id): the server's fault, not the caller's.
    #[error("the answer to {operation} carries an unusable value: {source}")]
    InvalidResponse {
        /// The operation whose answer it was.
        operation: &'static str,
        /// What is wrong with the value (its `field` is the place in the answer).
        #[source]
        source: ValidationError,
    },

    /// A convenience refused to go on because it would remove the agents' subscriptions to
    /// other webhooks (`POST /agent/{agentId}/webhook-subscriptions` and `DELETE` on the same
    /// path act on all of an agent's subscriptions). Pass `force = true` to proceed anyway.
    #[error(transparent)]
    ForeignSubscriptions(ForeignSubscriptions),

    /// The webhook came back without a signing secret (`decryptedSecretKey`).
    #[error("webhook {id} was returned without a signing secret")]
    MissingSecret {
        /// The webhook.
        id: WebhookId,
    },

    /// A cascade delete failed part way: `report` lists the agents whose subscriptions were
    /// already cleared (they are gone), `source` says what failed next. The webhook itself was
    /// not deleted unless every clear succeeded and the delete's answer was lost.
    #[error(
        "cascade delete of webhook {} stopped after clearing {} agent(s): {source}",
        report.webhook_id,
        report.agents.len()
    )]
    CascadeIncomplete {
        /// What was removed before the failure.
        report: Box<crate::report::CascadeReport>,
        /// The failure.
        #[source]
        source: Box<Error>,
    },

    /// The webhook was created, but fetching its signing secret then failed. The webhook
    /// exists: do not create it again, fetch its secret with its id.
    #[error("webhook {id} was created, but fetching its signing secret failed: {source}")]
    CreatedWithoutSecret {
        /// The id of the webhook that was created.
        id: WebhookId,
        /// Why fetching the secret failed.
        #[source]
        source: Box<Error>,
    },
}

/// How far a failed request got, which decides whether it may be sent again safely.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Stage {
    /// While connecting (DNS, TCP, TLS): no byte of the request was sent.
    Connect,
    /// After the connection was made: the request may have reached the server.
    Exchange,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "while connecting (nothing was sent)",
            Stage::Exchange => "(the request may have reached the server)",
        })
    }
}

impl Error {
    /// An [`Error::InvalidResponse`] for the answer to `operation`.
    pub fn invalid_response(operation: &'static str, source: ValidationError) -> Self {
        Error::InvalidResponse { operation, source }
    }

    /// True when the server's answer, not the caller's input or the network, is at fault: an
    /// undecodable body ([`Error::Decode`]), an answer about another webhook
    /// ([`Error::UnexpectedResponse`]) or one carrying an unusable id
    /// ([`Error::InvalidResponse`]), also inside a failed convenience.
    pub fn is_bad_response(&self) -> bool {
        match self {
            Error::Decode { .. }
            | Error::UnexpectedResponse { .. }
            | Error::InvalidResponse { .. } => true,
            Error::CreatedWithoutSecret { source, .. }
            | Error::CascadeIncomplete { source, .. } => source.is_bad_response(),
            _ => false,
        }
    }

    /// A connect failure: nothing was sent, so any request may be retried.
    pub fn connect(source: impl Into<BoxError>) -> Self {
        Error::Transport {
            stage: Stage::Connect,
            source: source.into(),
        }
    }

    /// A failure after the connection was made.
    pub fn transport(source: impl Into<BoxError>) -> Self {
        Error::Transport {
            stage: Stage::Exchange,
            source: source.into(),
        }
    }

    /// A timeout at the given stage.
    pub fn timeout(stage: Stage, source: impl Into<BoxError>) -> Self {
        Error::Timeout {
            stage,
            source: source.into(),
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode { status, .. } => Some(*status),
            Error::CreatedWithoutSecret { source, .. } => source.status(),
            Error::CascadeIncomplete { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The API error, when the server answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            Error::CreatedWithoutSecret { source, .. } => source.api(),
            Error::CascadeIncomplete { source, .. } => source.api(),
            _ => None,
        }
    }

    /// What kind of API error this is, when the server answered with one.
    pub fn api_kind(&self) -> Option<ApiErrorKind> {
        self.api().map(ApiError::kind)
    }

    /// True for a timeout, at any stage.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// True when the failure happened while connecting, before anything was sent.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Error::Timeout {
                stage: Stage::Connect,
                ..
            } | Error::Transport {
                stage: Stage::Connect,
                ..
            }
        )
    }

    /// True when trying the same request again later may succeed: timeouts, connection
    /// failures, and the statuses 408, 429 and 5xx (except 501 and 505). Not a response body
    /// over the size limit ([`BodyTooLarge`]): the same answer would come again.
    ///
    /// This says nothing about whether a retry is *safe*: a create that timed out may have
    /// created the webhook. The clients' retry policy takes that into account.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => is_retryable_status(e.status),
            Error::Transport { .. } if self.is_body_too_large() => false,
            Error::Timeout { .. } | Error::Transport { .. } => true,
            _ => false,
        }
    }

    /// True when the response body was larger than
    /// [`Config::max_response_bytes`](crate::Config::max_response_bytes) ([`BodyTooLarge`]).
    pub fn is_body_too_large(&self) -> bool {
        matches!(self, Error::Transport { source, .. } if source.is::<BodyTooLarge>())
    }

    /// How long the server asked to wait (`Retry-After` or `retry-after-ms`), when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(|e| e.retry_after)
    }
}

/// True for 408, 429 and 5xx except 501 (Not Implemented) and 505 (HTTP Version Not
/// Supported), which will not change on a second try.
pub fn is_retryable_status(status: StatusCode) -> bool {
    match status.as_u16() {
        408 | 429 => true,
        501 | 505 => false,
        s => (500..600).contains(&s),
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(e)
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::Validation(e)
    }
}

impl From<ForeignSubscriptions> for Error {
    fn from(e: ForeignSubscriptions) -> Self {
        Error::ForeignSubscriptions(e)
    }
}

fn display_snippet(s: &str) -> &str {
    if s.is_empty() {
        "(empty body)"
    } else {
        s
    }
}

/// An error answer from the server.
///
/// `Display` reads `"<status>: <messages>"`, or `"<status>: <body snippet>"` when the body was
/// not the documented JSON (an HTML page from a proxy, an empty body):
///
/// ```
/// use atoms_webhook_transport::decode;
/// use atoms_webhook_transport::endpoint::ListWebhooks;
/// let response = http::Response::builder()
///     .status(502)
///     .body(b"<html><body>Bad gateway</body></html>".to_vec())
///     .unwrap();
/// let err = decode::<ListWebhooks>(response).unwrap_err();
/// assert_eq!(err.to_string(), "502 Bad Gateway: <html><body>Bad gateway</body></html>");
/// assert!(err.is_retryable());
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The messages of the body's `errors` (and `message`), empty when the body had none.
    pub messages: Vec<String>,
    /// The start of the raw body, whatever it was (secrets masked, whitespace collapsed, at
    /// most about 200 characters, empty for an empty body).
    pub snippet: String,
    /// How long the server asked to wait before trying again.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An API error with these parts.
    pub fn new(
        status: StatusCode,
        messages: Vec<String>,
        snippet: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        Self {
            status,
            messages,
            snippet: snippet.into(),
            retry_after,
        }
    }

    /// What the error means, from the status and the documented messages.
    pub fn kind(&self) -> ApiErrorKind {
        let has = |needle: &str| {
            self.messages
                .iter()
                .any(|m| m.to_ascii_lowercase().contains(needle))
        };
        if self.status.is_client_error() || self.status.is_success() {
            if has("already been registered") {
                return ApiErrorKind::UrlAlreadyRegistered;
            }
            if has("cannot delete webhook") || has("currently assigned") {
                return ApiErrorKind::WebhookStillAssigned;
            }
            if has("id is invalid") {
                return ApiErrorKind::InvalidId;
            }
        }
        match self.status.as_u16() {
            401 => ApiErrorKind::Unauthorized,
            403 => ApiErrorKind::Forbidden,
            404 => ApiErrorKind::NotFound,
            429 => ApiErrorKind::RateLimited,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Other,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if self.status.is_success() {
            f.write_str(" with \"status\": false")?;
        }
        if self.messages.is_empty() {
            write!(f, ": {}", display_snippet(&self.snippet))
        } else {
            write!(f, ": {}", self.messages.join("; "))
        }
    }
}

impl std::error::Error for ApiError {}

/// What an [`ApiError`] means.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400 "A webhook with this URL has already been registered".
    UrlAlreadyRegistered,
    /// 400 "Cannot delete webhook: It is currently assigned to one or more agents...".
    WebhookStillAssigned,
    /// 400 "The provided Webhook ID is invalid."
    InvalidId,
    /// 401: the API key is missing, wrong or revoked.
    Unauthorized,
    /// 403: the key may not do this.
    Forbidden,
    /// 404: no such webhook or agent.
    NotFound,
    /// 429: too many requests.
    RateLimited,
    /// 5xx.
    Server,
    /// Anything else.
    Other,
}

/// A request refused before any I/O.
///
/// ```
/// use atoms_webhook_transport::{build, Config, endpoint::DeleteWebhook, Error};
/// let err = build(&Config::new("key"), &DeleteWebhook::new("")).unwrap_err();
/// let Error::Validation(v) = err else { panic!() };
/// assert_eq!(v.field(), "id");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("invalid {field}: {message}")]
pub struct ValidationError {
    field: String,
    message: String,
    #[source]
    source: Option<BoxError>,
}

impl ValidationError {
    /// `field` (a name or JSON path such as `headers.X-Token`) breaks a rule described by
    /// `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            source: None,
        }
    }

    /// The same, keeping the underlying error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The offending field.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// An agent's subscriptions to webhooks other than the one being worked on.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct AgentSubscriptions {
    /// The agent.
    pub agent_id: AgentId,
    /// Its subscriptions to other webhooks.
    pub subscriptions: Vec<WebhookSubscription>,
}

impl AgentSubscriptions {
    /// An agent and some of its subscriptions.
    pub fn new(agent_id: AgentId, subscriptions: Vec<WebhookSubscription>) -> Self {
        Self {
            agent_id,
            subscriptions,
        }
    }
}

/// A refusal: going on would remove these agents' subscriptions to other webhooks.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct ForeignSubscriptions {
    /// The webhook being worked on.
    pub webhook_id: WebhookId,
    /// Each affected agent with its subscriptions to other webhooks.
    pub agents: Vec<AgentSubscriptions>,
}

impl ForeignSubscriptions {
    /// A refusal for these agents.
    pub fn new(webhook_id: WebhookId, agents: Vec<AgentSubscriptions>) -> Self {
        Self { webhook_id, agents }
    }
}

impl fmt::Display for ForeignSubscriptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refusing to touch the subscriptions of webhook {}: ",
            self.webhook_id
        )?;
        for (i, a) in self.agents.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "agent {} is also subscribed to ", a.agent_id)?;
            for (j, s) in a.subscriptions.iter().enumerate() {
                if j > 0 {
                    f.write_str(", ")?;
                }
                let webhook = s
                    .webhook_id
                    .as_ref()
                    .map_or("an unknown webhook", |w| w.as_str());
                let event = s.event_type.as_ref().map_or("?", |e| e.as_str());
                write!(f, "{event} on {webhook}")?;
            }
        }
        f.write_str(
            " (an agent's subscriptions are replaced or cleared as a whole, so these would be \
             removed; pass force to remove them anyway)",
        )
    }
}

impl std::error::Error for ForeignSubscriptions {}

/// A response body larger than the configured limit ([`Config::max_response_bytes`]).
///
/// [`Config::max_response_bytes`]: crate::Config::max_response_bytes
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("response body larger than the limit of {limit} bytes")]
pub struct BodyTooLarge {
    /// The limit in bytes.
    pub limit: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_errors_say_whether_anything_was_sent() {
        let e = Error::timeout(Stage::Exchange, std::io::Error::other("global"));
        assert_eq!(
            e.to_string(),
            "request timed out (the request may have reached the server): global"
        );
        assert!(e.is_timeout() && !e.is_connect() && e.is_retryable());
        let e = Error::connect(std::io::Error::other("connection refused"));
        assert_eq!(
            e.to_string(),
            "HTTP transport failed while connecting (nothing was sent): connection refused"
        );
        assert!(e.is_connect() && !e.is_timeout());
        let e = Error::transport(BodyTooLarge { limit: 10 });
        assert!(e
            .to_string()
            .ends_with("response body larger than the limit of 10 bytes"));
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(source.downcast_ref(), Some(&BodyTooLarge { limit: 10 }));
        assert_eq!(e.status(), None);
        // The same answer would come again.
        assert!(e.is_body_too_large() && !e.is_retryable());
        assert!(!Error::transport(std::io::Error::other("reset")).is_body_too_large());
    }

    #[test]
    fn created_without_secret_keeps_the_cause() {
        let cause = Error::Api(ApiError::new(
            StatusCode::NOT_FOUND,
            vec!["gone".into()],
            "",
            None,
        ));
        let e = Error::CreatedWithoutSecret {
            id: WebhookId::new("w1"),
            source: Box::new(cause),
        };
        assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(e.api_kind(), Some(ApiErrorKind::NotFound));
        assert!(e.to_string().contains("w1 was created"), "{e}");
    }
}
