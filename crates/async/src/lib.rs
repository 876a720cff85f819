//! An async client for the Smallest.ai Atoms webhook API, on reqwest and tokio.
//!
//! Everything about the API (requests, validation, decoding, errors, the retry policy, the
//! multi-request flows of the conveniences) lives in `atoms-webhook-transport`; this crate
//! drives its operations (sends, sleeps between retries) and converts reqwest's errors. `atoms-webhook-blocking` has the same
//! methods, blocking.
//!
//! ```no_run
//! use atoms_webhook_async::{Client, models::{CreateWebhookRequest, EventType}};
//!
//! # async fn run() -> Result<(), atoms_webhook_async::Error> {
//! let client = Client::from_env()?; // SMALLEST_API_KEY, optional ATOMS_BASE_URL
//! for webhook in client.list_webhooks().await? {
//!     println!("{} {}", webhook.id, webhook.url.as_deref().unwrap_or(""));
//! }
//! let created = client
//!     .create_webhook_with_secret(
//!         CreateWebhookRequest::new("https://example.com/atoms", "CRM sync")
//!             .event("60d0fe4f5311236168a109ca", EventType::PostConversation),
//!     )
//!     .await?;
//! println!("created {}; verify deliveries with its secret", created.id);
//! # Ok(()) }
//! ```
//!
//! The pure parts need no server:
//!
//! ```
//! use atoms_webhook_async::{Client, Config, Error};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! let client = Client::new(Config::new("sk-example").base_url("http://127.0.0.1:9"))?;
//! // Refused before any I/O: an update must change something.
//! let err = client
//!     .update_webhook("64f0c0ffee0000000000abcd", atoms_webhook_async::models::UpdateWebhookRequest::new())
//!     .await
//!     .unwrap_err();
//! assert!(matches!(err, Error::Validation(_)));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use atoms_webhook_models::{
    AgentId, CallId, CallLog, CallLogPage, CreateWebhookRequest, EventType, SigningSecret,
    UpdateWebhookRequest, Webhook, WebhookId, WebhookSubscription,
};
use atoms_webhook_transport::endpoint::{
    ClearAgentSubscriptions, CreateWebhook, DeleteWebhook, Endpoint, GetAgentSubscriptions,
    GetConversation, GetWebhook, ListConversations, ListWebhooks, ReplaceAgentSubscriptions,
    UpdateWebhook,
};
use atoms_webhook_transport::flow::{
    AddAgentEvents, CreateWebhookWithSecret, DeleteWebhookCascade, GetSigningSecret,
};
use atoms_webhook_transport::{
    BodyTooLarge, Bytes, Call, Next, Operation, Prepared, Stage, ValidationError,
};
use tracing::{Instrument, Span};

mod deadline;

pub use atoms_webhook_models as models;
pub use atoms_webhook_transport as transport;
pub use atoms_webhook_transport::{
    AddEventsPlan, ApiError, ApiErrorKind, CascadeReport, Config, CreatedWebhook, Error,
    ForeignSubscriptions, Jitter, RetryConfig, RetryPolicy, DEFAULT_BASE_URL, LEGACY_BASE_URL,
};
/// The reqwest this crate is built on (0.13): [`Client::with_http_client`] takes its
/// `Client`.
pub use reqwest;

/// What the client awaits between attempts (by default `tokio::time::sleep`).
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// An async client. Cheap to clone (the connection pool is shared), `Send` and `Sync`; its
/// futures are `Send`. Needs a tokio runtime.
///
/// Sequential calls reuse one keep-alive connection. Failed calls are retried by the
/// [`RetryPolicy`] of the [`Config`]; a create is never repeated once it may have reached the
/// server, unless allowed with [`CreateWebhook::allow_retry`].
///
/// The total timeout of each attempt ([`Config::timeout`], body included) is kept by one
/// background thread of the process, `atoms-webhook-timeouts`, started on the first request
/// that has to wait, rather than by a runtime timer per request: it costs a request two short
/// lock holds instead of a timer set up and torn down, and it fires on whatever runtime drives
/// the client. A process that forks without `exec` after that first request has no such thread
/// in the child, so requests made there would have no total timeout (the connect timeout
/// still applies), or could even block on the thread's table: fork before the first request,
/// as tokio asks of its runtimes too.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    prepared: Prepared,
    policy: RetryPolicy,
    http: reqwest::Client,
    sleeper: Option<Sleeper>,
    base: Option<BaseUrl>,
}

/// The base URL parsed once, both ways: each request's [`reqwest::Url`] is the base's with the
/// request's path and query set, instead of printing the request's `Uri` and parsing it again
/// (scheme, host and port included) on every attempt. Requests elsewhere (an operation of the
/// caller's with another host) take the general conversion.
#[derive(Clone, Debug)]
struct BaseUrl {
    uri: http::Uri,
    url: reqwest::Url,
}

impl BaseUrl {
    fn new(base_url: &str) -> Option<Self> {
        let uri = http::Uri::try_from(base_url).ok()?;
        let mut url = reqwest::Url::parse(base_url).ok()?;
        if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        // An `http::Uri` carries no fragment, so neither does a URL parsed from one.
        url.set_fragment(None);
        Some(Self { uri, url })
    }

    /// The URL of `uri`, the same as `Url::parse(&uri.to_string())`, when `uri` has the
    /// base's scheme and authority; `None` otherwise. The path and query are parsed relative
    /// to the base (one pass, the base's scheme and host reused as they are).
    fn url_of(&self, uri: &http::Uri) -> Option<reqwest::Url> {
        // Compared as written (the request's were copied from the base URL): cheaper than the
        // case-insensitive `==`, and a difference in case only takes the general conversion.
        if uri.scheme_str() != self.uri.scheme_str()
            || uri.authority().map(|a| a.as_str()) != self.uri.authority().map(|a| a.as_str())
        {
            return None;
        }
        let path_and_query = uri.path_and_query()?.as_str();
        // `//host` or `/\\host` would name another host when read as a relative reference.
        if !path_and_query.starts_with('/')
            || matches!(path_and_query.as_bytes().get(1), Some(b'/' | b'\\'))
        {
            return None;
        }
        self.url.join(path_and_query).ok()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for this configuration, with its own connection pool.
    ///
    /// ```
    /// use atoms_webhook_async::{Client, Config};
    /// let client = Client::new(Config::new("sk-example"))?;
    /// assert_eq!(client.config().base_url, atoms_webhook_async::DEFAULT_BASE_URL);
    /// # Ok::<(), atoms_webhook_async::Error>(())
    /// ```
    pub fn new(config: Config) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                Error::Validation(
                    ValidationError::new(
                        "http_client",
                        "could not be built (TLS back end unavailable?)",
                    )
                    .with_source(e),
                )
            })?;
        Self::build(config, http)
    }

    /// A client configured from `SMALLEST_API_KEY` and the optional `ATOMS_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        Self::new(Config::from_env()?)
    }

    /// A client sending through `http` (for its proxy, TLS or pool settings). The total
    /// timeout of `config` applies to each attempt (as well as any timeout of `http`'s); the
    /// connect timeout and the redirect policy are `http`'s own (build it with
    /// `redirect(Policy::none())` so that a 3xx is returned as an [`ApiError`] instead of
    /// followed).
    pub fn with_http_client(config: Config, http: reqwest::Client) -> Result<Self, Error> {
        Self::build(config, http)
    }

    fn build(config: Config, http: reqwest::Client) -> Result<Self, Error> {
        let prepared = Prepared::new(&config)?;
        let policy = RetryPolicy::new(config.retry);
        let base = BaseUrl::new(&config.base_url);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                prepared,
                policy,
                http,
                sleeper: None,
                base,
            }),
        })
    }

    /// The same client with another retry policy (to inject a jitter source or a clock).
    pub fn with_retry_policy(self, policy: RetryPolicy) -> Self {
        self.with_inner(|inner| inner.policy = policy)
    }

    /// The same client waiting between attempts with `sleeper` instead of
    /// `tokio::time::sleep` (to record the delays the retry policy chose, in tests, or to
    /// wait on another timer).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use atoms_webhook_async::{Client, Config};
    /// let slept = Arc::new(Mutex::new(Vec::new()));
    /// let record = slept.clone();
    /// let client = Client::new(Config::new("sk-example"))?.with_sleeper(move |d| {
    ///     record.lock().unwrap().push(d);
    ///     std::future::ready(())
    /// });
    /// # Ok::<(), atoms_webhook_async::Error>(())
    /// ```
    pub fn with_sleeper<F>(self, sleeper: impl Fn(Duration) -> F + Send + Sync + 'static) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let sleeper: Sleeper = Arc::new(move |d| Box::pin(sleeper(d)));
        self.with_inner(|inner| inner.sleeper = Some(sleeper))
    }

    fn with_inner(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            config: self.inner.config.clone(),
            prepared: self.inner.prepared.clone(),
            policy: self.inner.policy,
            http: self.inner.http.clone(),
            sleeper: self.inner.sleeper.clone(),
            base: self.inner.base.clone(),
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Sends any endpoint: builds it (validating first), sends it, retries per the policy,
    /// decodes the answer.
    ///
    /// ```no_run
    /// use atoms_webhook_async::{Client, models::CreateWebhookRequest, transport::CreateWebhook};
    /// # async fn run() -> Result<(), atoms_webhook_async::Error> {
    /// let client = Client::from_env()?;
    /// // This caller de-duplicates by URL itself, so it allows every retry of the create.
    /// let id = client
    ///     .execute(CreateWebhook::new(CreateWebhookRequest::new("https://example.com/h", "")).allow_retry(true))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn execute<'a, R: Endpoint + Send + 'a>(
        &'a self,
        request: R,
    ) -> impl Future<Output = Result<R::Output, Error>> + Send + 'a
    where
        R::Output: Send,
    {
        self.drive(Call::prepared(
            &self.inner.prepared,
            &self.inner.policy,
            request,
        ))
    }

    /// Drives any operation of the transport crate to its end: sends what it asks, sleeps
    /// when it says. The one loop of this client.
    pub fn run<'a, O: Operation + Send + 'a>(
        &'a self,
        operation: O,
    ) -> impl Future<Output = Result<O::Output, Error>> + Send + 'a
    where
        O::Output: Send,
    {
        self.drive(Ok(operation))
    }

    /// [`Client::run`] of an operation that may have failed to build: one future either way,
    /// so that [`Client::execute`] adds no state machine of its own around the loop.
    fn drive<'a, O: Operation + Send + 'a>(
        &'a self,
        mut operation: Result<O, Error>,
    ) -> impl Future<Output = Result<O::Output, Error>> + Send + 'a
    where
        O::Output: Send,
    {
        let span = match &operation {
            Ok(operation) => operation.span().clone(),
            Err(_) => Span::none(),
        };
        async move {
            // Borrowed where it was captured rather than moved into a local of its own: the
            // future holds the operation once.
            let operation = match operation {
                Ok(ref mut operation) => operation,
                Err(e) => return Err(e),
            };
            let mut next = operation.resume();
            loop {
                next = match next {
                    Next::Send(request) => {
                        let response = self.send(request).await;
                        operation.receive(response)
                    }
                    Next::Sleep(delay) => {
                        match &self.inner.sleeper {
                            Some(sleep) => sleep(delay).await,
                            None => tokio::time::sleep(delay).await,
                        }
                        operation.resume()
                    }
                    Next::Done(result) => return result,
                };
            }
        }
        .instrument(span)
    }

    /// One attempt, within the total timeout of the configuration (kept by the watchdog of
    /// [`deadline`], not by reqwest: see there why).
    async fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Bytes>, Error> {
        let timeout = self.inner.config.timeout;
        match deadline::within(timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(deadline::TimedOut) => {
                Err(Error::timeout(Stage::Exchange, TimeoutElapsed { timeout }))
            }
        }
    }

    async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Bytes>, Error> {
        let config = &self.inner.config;
        // In a block of its own, so that the request (moved into reqwest's future) takes no
        // room in this one.
        let sending = {
            let request = self.to_reqwest(request)?;
            self.inner.http.execute(request)
        };
        let mut response = sending.await.map_err(map_error)?;
        let limit = config.max_response_bytes;
        let declared = response.content_length();
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large(limit));
        }
        // A body that arrives in one chunk (a small answer, usually) is handed over as hyper
        // read it, without a copy; only a body in several chunks is gathered into a buffer,
        // sized once when the length is declared (at most `limit`, checked above). The limit
        // is checked on what actually arrives.
        let mut received: u64 = 0;
        let mut first: Option<Bytes> = None;
        let mut gathered: Option<Vec<u8>> = None;
        while let Some(chunk) = response.chunk().await.map_err(map_error)? {
            received += chunk.len() as u64;
            if received > limit {
                return Err(too_large(limit));
            }
            match (&mut gathered, first.take()) {
                (Some(buffer), _) => buffer.extend_from_slice(&chunk),
                (None, None) => first = Some(chunk),
                (None, Some(earlier)) => {
                    let size = declared.map_or(0, |n| usize::try_from(n).unwrap_or(0));
                    let mut buffer = Vec::with_capacity(size.max(earlier.len() + chunk.len()));
                    buffer.extend_from_slice(&earlier);
                    buffer.extend_from_slice(&chunk);
                    gathered = Some(buffer);
                }
            }
        }
        let body = gathered.map_or_else(|| first.unwrap_or_default(), Bytes::from);
        let mut out = http::Response::new(body);
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }

    /// `request` as reqwest's: what `reqwest::Request::try_from` does, with the URL built from
    /// the parsed base URL when the request is to it.
    fn to_reqwest(&self, request: http::Request<Vec<u8>>) -> Result<reqwest::Request, Error> {
        // reqwest keeps an `http::Request`'s extensions only through `try_from`.
        let url = match &self.inner.base {
            Some(base) if request.extensions().is_empty() => base.url_of(request.uri()),
            _ => None,
        };
        let Some(url) = url else {
            return reqwest::Request::try_from(request).map_err(|e| {
                // Nothing was sent: the URL (built from the validated base URL) was refused.
                Error::Validation(
                    ValidationError::new("base_url", "could not be used to build a request")
                        .with_source(e),
                )
            });
        };
        let (parts, body) = request.into_parts();
        let mut out = reqwest::Request::new(parts.method, url);
        *out.headers_mut() = parts.headers;
        *out.version_mut() = parts.version;
        *out.body_mut() = Some(body.into());
        Ok(out)
    }

    /// Every webhook of the organization (`GET /webhook`), with their signing secrets.
    pub fn list_webhooks(&self) -> impl Future<Output = Result<Vec<Webhook>, Error>> + Send + '_ {
        self.execute(ListWebhooks::new())
    }

    /// One webhook (`GET /webhook?webhookId=`).
    pub fn get_webhook(
        &self,
        id: impl Into<WebhookId>,
    ) -> impl Future<Output = Result<Webhook, Error>> + Send + '_ {
        self.execute(GetWebhook::new(id))
    }

    /// Creates a webhook (`POST /webhook`); returns its id. Not retried once the request may
    /// have reached the server (see [`CreateWebhook`]).
    pub fn create_webhook(
        &self,
        request: CreateWebhookRequest,
    ) -> impl Future<Output = Result<WebhookId, Error>> + Send + '_ {
        self.execute(CreateWebhook::new(request))
    }

    /// Changes a webhook's endpoint, description or custom headers (`PATCH /webhook/{id}`).
    pub fn update_webhook(
        &self,
        id: impl Into<WebhookId>,
        request: UpdateWebhookRequest,
    ) -> impl Future<Output = Result<WebhookId, Error>> + Send + '_ {
        self.execute(UpdateWebhook::new(id, request))
    }

    /// Deletes a webhook no agent is subscribed to (`DELETE /webhook/{id}`); returns the
    /// server's message. See [`Client::delete_webhook_cascade`] for one with subscriptions.
    pub fn delete_webhook(
        &self,
        id: impl Into<WebhookId>,
    ) -> impl Future<Output = Result<String, Error>> + Send + '_ {
        self.execute(DeleteWebhook::new(id))
    }

    /// All of an agent's subscriptions, to any webhook.
    pub fn agent_subscriptions(
        &self,
        agent_id: impl Into<AgentId>,
    ) -> impl Future<Output = Result<Vec<WebhookSubscription>, Error>> + Send + '_ {
        self.execute(GetAgentSubscriptions::new(agent_id))
    }

    /// REPLACES all of an agent's subscriptions (to every webhook) with `event_types` on
    /// `webhook_id`. See [`Client::add_agent_events`] to add without removing.
    pub fn replace_agent_subscriptions(
        &self,
        agent_id: impl Into<AgentId>,
        webhook_id: impl Into<WebhookId>,
        event_types: impl IntoIterator<Item = EventType>,
    ) -> impl Future<Output = Result<String, Error>> + Send + '_ {
        let request = ReplaceAgentSubscriptions::new(agent_id, webhook_id, event_types);
        self.execute(request)
    }

    /// Removes ALL of an agent's subscriptions, across webhooks.
    pub fn clear_agent_subscriptions(
        &self,
        agent_id: impl Into<AgentId>,
    ) -> impl Future<Output = Result<String, Error>> + Send + '_ {
        self.execute(ClearAgentSubscriptions::new(agent_id))
    }

    /// One page of the organization's call logs (`GET /conversation`), in the server's
    /// default order (last updated first). Build the page, size and filters with
    /// [`ListConversations`]; it offers no `createdAt` sort or date range on purpose.
    pub fn list_conversations(
        &self,
        request: ListConversations,
    ) -> impl Future<Output = Result<CallLogPage, Error>> + Send + '_ {
        self.execute(request)
    }

    /// One call log with transcript, variables and analytics (`GET /conversation/{callId}`).
    /// The call id must have the form `CALL-{13 digits}-{6 hex}` ([`Error::Validation`]
    /// otherwise); an unknown call is [`ApiErrorKind::NotFound`].
    pub fn get_conversation(
        &self,
        call_id: impl Into<CallId>,
    ) -> impl Future<Output = Result<CallLog, Error>> + Send + '_ {
        self.execute(GetConversation::new(call_id))
    }

    /// A webhook's signing secret (fetched by id); [`Error::MissingSecret`] if the response
    /// has none, [`Error::UnexpectedResponse`] (and no secret) if the answer is about another
    /// webhook.
    pub fn signing_secret(
        &self,
        id: impl Into<WebhookId>,
    ) -> impl Future<Output = Result<SigningSecret, Error>> + Send + '_ {
        self.run(GetSigningSecret::new(self.prepared(), self.policy(), id))
    }

    /// Creates a webhook, then fetches its signing secret (the create answers only the id).
    /// If the fetch fails, the error is [`Error::CreatedWithoutSecret`] with the new id. See
    /// [`transport::flow::CreateWebhookWithSecret`].
    pub fn create_webhook_with_secret(
        &self,
        request: CreateWebhookRequest,
    ) -> impl Future<Output = Result<CreatedWebhook, Error>> + Send + '_ {
        self.run(CreateWebhookWithSecret::new(
            self.prepared(),
            self.policy(),
            request,
        ))
    }

    /// Adds event types on a webhook to an agent, keeping the ones it has on that webhook
    /// (the API only replaces: this reads, merges and writes). Refuses with
    /// [`Error::ForeignSubscriptions`] when the agent is also subscribed to other webhooks,
    /// which the write would remove, unless `force`. Returns what was (or, when nothing was
    /// new, would have been) sent. See [`transport::flow::AddAgentEvents`].
    pub fn add_agent_events(
        &self,
        agent_id: impl Into<AgentId>,
        webhook_id: impl Into<WebhookId>,
        event_types: impl IntoIterator<Item = EventType>,
        force: bool,
    ) -> impl Future<Output = Result<AddEventsPlan, Error>> + Send + '_ {
        self.run(AddAgentEvents::new(
            self.prepared(),
            self.policy(),
            agent_id,
            webhook_id,
            event_types,
            force,
        ))
    }

    /// Deletes a webhook after clearing the subscriptions of every agent subscribed to it.
    /// Refuses with [`Error::ForeignSubscriptions`] when one of those agents is also subscribed
    /// to other webhooks (clearing removes those too), unless `force`. The report lists what
    /// was removed, per agent. Acts only on `id`: an answer about another webhook ends it with
    /// [`Error::UnexpectedResponse`] before any write. See
    /// [`transport::flow::DeleteWebhookCascade`].
    pub fn delete_webhook_cascade(
        &self,
        id: impl Into<WebhookId>,
        force: bool,
    ) -> impl Future<Output = Result<CascadeReport, Error>> + Send + '_ {
        self.run(DeleteWebhookCascade::new(
            self.prepared(),
            self.policy(),
            id,
            force,
        ))
    }

    /// The configuration as prepared for requests, to build operations for [`Client::run`]
    /// (the transport crate's flows take it).
    pub fn prepared(&self) -> &Prepared {
        &self.inner.prepared
    }

    /// The retry policy, to build operations for [`Client::run`].
    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }
}

#[cold]
#[inline(never)]
fn too_large(limit: u64) -> Error {
    Error::transport(BodyTooLarge { limit })
}

/// The source of an [`Error::Timeout`] of the configured total timeout.
#[derive(Debug)]
struct TimeoutElapsed {
    timeout: Duration,
}

impl fmt::Display for TimeoutElapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no complete answer within the total timeout of {} ms",
            self.timeout.as_millis()
        )
    }
}

impl std::error::Error for TimeoutElapsed {}

/// Maps a reqwest error to the SDK's, deciding whether anything may have been sent.
#[cold]
#[inline(never)]
fn map_error(e: reqwest::Error) -> Error {
    let stage = if e.is_connect() {
        Stage::Connect
    } else {
        Stage::Exchange
    };
    if e.is_timeout() {
        Error::timeout(stage, e)
    } else {
        match stage {
            Stage::Connect => Error::connect(e),
            _ => Error::transport(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn client_is_send_sync_clone_and_futures_are_send() {
        assert_send_sync::<Client>();
        let c = Client::new(Config::new("k")).unwrap();
        assert_send(&c.list_webhooks());
        assert_send(&c.delete_webhook_cascade("w", false));
        assert_send(&c.add_agent_events("a", "w", [EventType::PreConversation], false));
        assert_send(&c.create_webhook_with_secret(CreateWebhookRequest::new("https://x.test", "")));
    }

    #[test]
    fn urls_from_the_base_are_the_parsed_ones() {
        let bases = [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "https://api.smallest.ai/atoms/v1",
            "https://API.Example.COM:443/v1/#frag",
            "http://[::1]:9/prefix/",
            "http://localhost",
        ];
        let paths = [
            "/webhook",
            "/webhook?webhookId=64f0c0ffee0000000000abcd",
            "/webhook/a%2Fb%20c?x=%C3%A9&y=1+2",
            "/agent/60d0fe4f5311236168a109ca/webhook-subscriptions",
            "/a/../b/./c?",
            "/",
            "/a//b",
        ];
        for base in bases {
            let parsed = BaseUrl::new(base).unwrap();
            let trimmed = base.trim_end_matches('/');
            let trimmed = trimmed.split('#').next().unwrap().trim_end_matches('/');
            for path in paths {
                let uri: http::Uri = format!("{trimmed}{path}").parse().unwrap();
                let expected = reqwest::Url::parse(&uri.to_string()).unwrap();
                assert_eq!(parsed.url_of(&uri), Some(expected), "{base} {path}");
            }
        }
        // Another host, scheme or port: the general conversion.
        let parsed = BaseUrl::new("http://127.0.0.1:8080").unwrap();
        for other in [
            "http://127.0.0.1:8081/webhook",
            "https://127.0.0.1:8080/webhook",
            "http://localhost:8080/webhook",
        ] {
            assert_eq!(parsed.url_of(&other.parse().unwrap()), None, "{other}");
        }
        for other in [
            "http://127.0.0.1:8080//evil.test/webhook",
            "http://127.0.0.1:8080/\\evil.test/x",
        ] {
            if let Ok(uri) = other.parse::<http::Uri>() {
                assert_eq!(parsed.url_of(&uri), None, "{other}");
            }
        }
        assert!(BaseUrl::new("ftp://127.0.0.1/").is_none());
    }

    #[test]
    fn debug_hides_the_key() {
        let c = Client::new(Config::new("sk-very-secret")).unwrap();
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }
}
