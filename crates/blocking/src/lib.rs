//! A blocking client for the Smallest.ai Atoms webhook API, on ureq 3 (no async runtime).
//!
//! Everything about the API (requests, validation, decoding, errors, the retry policy, the
//! multi-request flows of the conveniences) lives in `atoms-webhook-transport`; this crate
//! drives its operations (sends, sleeps between retries) and converts ureq's errors. `atoms-webhook-async` has the same methods.
//!
//! ```no_run
//! use atoms_webhook_blocking::{Client, models::{CreateWebhookRequest, EventType}};
//!
//! let client = Client::from_env()?; // SMALLEST_API_KEY, optional ATOMS_BASE_URL
//! for webhook in client.list_webhooks()? {
//!     println!("{} {}", webhook.id, webhook.url.as_deref().unwrap_or(""));
//! }
//! let created = client.create_webhook_with_secret(
//!     CreateWebhookRequest::new("https://example.com/atoms", "CRM sync")
//!         .event("60d0fe4f5311236168a109ca", EventType::PostConversation),
//! )?;
//! println!("created {}; verify deliveries with its secret", created.id);
//! # Ok::<(), atoms_webhook_blocking::Error>(())
//! ```
//!
//! The pure parts need no server:
//!
//! ```
//! use atoms_webhook_blocking::{Client, Config, Error};
//! let client = Client::new(Config::new("sk-example").base_url("http://127.0.0.1:9"))?;
//! // Refused before any I/O: an update must change something.
//! let err = client
//!     .update_webhook("64f0c0ffee0000000000abcd", atoms_webhook_blocking::models::UpdateWebhookRequest::new())
//!     .unwrap_err();
//! assert!(matches!(err, Error::Validation(_)));
//! # Ok::<(), Error>(())
//! ```
//!
//! # Logging
//!
//! The SDK's own `tracing` spans carry method, path template, status, attempt and elapsed time,
//! never bodies or secrets. ureq itself, however, writes raw requests (the `Authorization`
//! header included) to the `log` crate at trace level. If your program forwards `log` records
//! into `tracing` (tracing-subscriber's `init()` and `try_init()` do so by default), filter
//! out the `ureq` and `ureq_proto` targets, or install your subscriber with
//! `tracing::subscriber::set_global_default`, which does not forward them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::fmt;
use std::io;
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
use atoms_webhook_transport::{BodyTooLarge, Bytes, Call, Next, Operation, Prepared, Stage};
use ureq::RequestExt;

pub use atoms_webhook_models as models;
pub use atoms_webhook_transport as transport;
pub use atoms_webhook_transport::{
    AddEventsPlan, ApiError, ApiErrorKind, CascadeReport, Config, CreatedWebhook, Error,
    ForeignSubscriptions, Jitter, RetryConfig, RetryPolicy, DEFAULT_BASE_URL, LEGACY_BASE_URL,
};
/// The ureq this crate is built on (3.x): [`Client::with_agent`] takes its `Agent`.
pub use ureq;

/// What the client calls to wait between attempts (by default `std::thread::sleep`).
pub type Sleeper = Arc<dyn Fn(Duration) + Send + Sync>;

/// A blocking client. Cheap to clone (the connection pool is shared), `Send` and `Sync`.
///
/// Sequential calls reuse one keep-alive connection. Failed calls are retried by the
/// [`RetryPolicy`] of the [`Config`]; a create is never repeated once it may have reached the
/// server, unless allowed with [`CreateWebhook::allow_retry`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    prepared: Prepared,
    policy: RetryPolicy,
    agent: ureq::Agent,
    sleeper: Option<Sleeper>,
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
    /// use atoms_webhook_blocking::{Client, Config};
    /// let client = Client::new(Config::new("sk-example"))?;
    /// assert_eq!(client.config().base_url, atoms_webhook_blocking::DEFAULT_BASE_URL);
    /// # Ok::<(), atoms_webhook_blocking::Error>(())
    /// ```
    pub fn new(config: Config) -> Result<Self, Error> {
        let builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout));
        // ureq never picks native-tls by itself: with the `native-tls` feature, ask for it.
        #[cfg(feature = "native-tls")]
        let builder = builder.tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .build(),
        );
        let agent = ureq::Agent::new_with_config(builder.build());
        Self::with_agent(config, agent)
    }

    /// A client configured from `SMALLEST_API_KEY` and the optional `ATOMS_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        Self::new(Config::from_env()?)
    }

    /// A client sending through `agent` (for its proxy, TLS or pool settings). The timeouts
    /// of `config` apply per request; statuses are never turned into ureq errors and
    /// redirects are not followed (a 3xx is returned as an [`ApiError`]).
    pub fn with_agent(config: Config, agent: ureq::Agent) -> Result<Self, Error> {
        let prepared = Prepared::new(&config)?;
        let policy = RetryPolicy::new(config.retry);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                prepared,
                policy,
                agent,
                sleeper: None,
            }),
        })
    }

    /// The same client with another retry policy (to inject a jitter source or a clock).
    pub fn with_retry_policy(self, policy: RetryPolicy) -> Self {
        self.with_inner(|inner| inner.policy = policy)
    }

    /// The same client waiting between attempts with `sleeper` instead of
    /// `std::thread::sleep` (to record the delays the retry policy chose, in tests, or to
    /// wait on something else).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use atoms_webhook_blocking::{Client, Config};
    /// let slept = Arc::new(Mutex::new(Vec::new()));
    /// let record = slept.clone();
    /// let client = Client::new(Config::new("sk-example"))?
    ///     .with_sleeper(move |d| record.lock().unwrap().push(d));
    /// # Ok::<(), atoms_webhook_blocking::Error>(())
    /// ```
    pub fn with_sleeper(self, sleeper: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.with_inner(|inner| inner.sleeper = Some(Arc::new(sleeper)))
    }

    fn with_inner(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            config: self.inner.config.clone(),
            prepared: self.inner.prepared.clone(),
            policy: self.inner.policy,
            agent: self.inner.agent.clone(),
            sleeper: self.inner.sleeper.clone(),
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
    /// use atoms_webhook_blocking::{Client, models::CreateWebhookRequest, transport::CreateWebhook};
    /// let client = Client::from_env()?;
    /// // This caller de-duplicates by URL itself, so it allows every retry of the create.
    /// let id = client.execute(
    ///     CreateWebhook::new(CreateWebhookRequest::new("https://example.com/h", "")).allow_retry(true),
    /// )?;
    /// # Ok::<(), atoms_webhook_blocking::Error>(())
    /// ```
    pub fn execute<R: Endpoint>(&self, request: R) -> Result<R::Output, Error> {
        self.run(Call::prepared(
            &self.inner.prepared,
            &self.inner.policy,
            request,
        )?)
    }

    /// Drives any operation of the transport crate to its end: sends what it asks, sleeps
    /// when it says. The one loop of this client.
    pub fn run<O: Operation>(&self, mut operation: O) -> Result<O::Output, Error> {
        let span = operation.span().clone();
        let _entered = span.enter();
        let mut next = operation.resume();
        loop {
            next = match next {
                Next::Send(request) => operation.receive(self.send(request)),
                Next::Sleep(delay) => {
                    match &self.inner.sleeper {
                        Some(sleep) => sleep(delay),
                        None => std::thread::sleep(delay),
                    }
                    operation.resume()
                }
                Next::Done(result) => return result,
            };
        }
    }

    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Bytes>, Error> {
        let response = if request.body().is_empty() {
            self.exchange(request.map(|_| ()))
        } else {
            self.exchange(request)
        }?;
        let limit = self.inner.config.max_response_bytes;
        let (parts, body) = response.into_parts();
        let bytes = body
            .into_with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => Error::transport(BodyTooLarge { limit }),
                e => map_error(e),
            })?;
        // The vector becomes the `Bytes` as it is (no copy).
        Ok(http::Response::from_parts(parts, Bytes::from(bytes)))
    }

    fn exchange<S: ureq::AsSendBody>(
        &self,
        request: http::Request<S>,
    ) -> Result<http::Response<ureq::Body>, Error> {
        let config = &self.inner.config;
        request
            .with_agent(&self.inner.agent)
            .configure()
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout))
            .max_redirects(0)
            .max_redirects_will_error(false)
            .run()
            .map_err(map_error)
    }

    /// Every webhook of the organization (`GET /webhook`), with their signing secrets.
    pub fn list_webhooks(&self) -> Result<Vec<Webhook>, Error> {
        self.execute(ListWebhooks::new())
    }

    /// One webhook (`GET /webhook?webhookId=`).
    pub fn get_webhook(&self, id: impl Into<WebhookId>) -> Result<Webhook, Error> {
        self.execute(GetWebhook::new(id))
    }

    /// Creates a webhook (`POST /webhook`); returns its id. Not retried once the request may
    /// have reached the server (see [`CreateWebhook`]).
    pub fn create_webhook(&self, request: CreateWebhookRequest) -> Result<WebhookId, Error> {
        self.execute(CreateWebhook::new(request))
    }

    /// Changes a webhook's endpoint, description or custom headers (`PATCH /webhook/{id}`).
    pub fn update_webhook(
        &self,
        id: impl Into<WebhookId>,
        request: UpdateWebhookRequest,
    ) -> Result<WebhookId, Error> {
        self.execute(UpdateWebhook::new(id, request))
    }

    /// Deletes a webhook no agent is subscribed to (`DELETE /webhook/{id}`); returns the
    /// server's message. See [`Client::delete_webhook_cascade`] for one with subscriptions.
    pub fn delete_webhook(&self, id: impl Into<WebhookId>) -> Result<String, Error> {
        self.execute(DeleteWebhook::new(id))
    }

    /// All of an agent's subscriptions, to any webhook.
    pub fn agent_subscriptions(
        &self,
        agent_id: impl Into<AgentId>,
    ) -> Result<Vec<WebhookSubscription>, Error> {
        self.execute(GetAgentSubscriptions::new(agent_id))
    }

    /// REPLACES all of an agent's subscriptions (to every webhook) with `event_types` on
    /// `webhook_id`. See [`Client::add_agent_events`] to add without removing.
    pub fn replace_agent_subscriptions(
        &self,
        agent_id: impl Into<AgentId>,
        webhook_id: impl Into<WebhookId>,
        event_types: impl IntoIterator<Item = EventType>,
    ) -> Result<String, Error> {
        self.execute(ReplaceAgentSubscriptions::new(
            agent_id,
            webhook_id,
            event_types,
        ))
    }

    /// Removes ALL of an agent's subscriptions, across webhooks.
    pub fn clear_agent_subscriptions(&self, agent_id: impl Into<AgentId>) -> Result<String, Error> {
        self.execute(ClearAgentSubscriptions::new(agent_id))
    }

    /// One page of the organization's call logs (`GET /conversation`), in the server's
    /// default order (last updated first). Build the page, size and filters with
    /// [`ListConversations`]; it offers no `createdAt` sort or date range on purpose.
    pub fn list_conversations(&self, request: ListConversations) -> Result<CallLogPage, Error> {
        self.execute(request)
    }

    /// One call log with transcript, variables and analytics (`GET /conversation/{callId}`).
    /// The call id must have the form `CALL-{13 digits}-{6 hex}` ([`Error::Validation`]
    /// otherwise); an unknown call is [`ApiErrorKind::NotFound`].
    pub fn get_conversation(&self, call_id: impl Into<CallId>) -> Result<CallLog, Error> {
        self.execute(GetConversation::new(call_id))
    }

    /// A webhook's signing secret (fetched by id); [`Error::MissingSecret`] if the response
    /// has none, [`Error::UnexpectedResponse`] (and no secret) if the answer is about another
    /// webhook.
    pub fn signing_secret(&self, id: impl Into<WebhookId>) -> Result<SigningSecret, Error> {
        self.run(GetSigningSecret::new(self.prepared(), self.policy(), id))
    }

    /// Creates a webhook, then fetches its signing secret (the create answers only the id).
    /// If the fetch fails, the error is [`Error::CreatedWithoutSecret`] with the new id. See
    /// [`transport::flow::CreateWebhookWithSecret`].
    pub fn create_webhook_with_secret(
        &self,
        request: CreateWebhookRequest,
    ) -> Result<CreatedWebhook, Error> {
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
    ) -> Result<AddEventsPlan, Error> {
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
    ) -> Result<CascadeReport, Error> {
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

/// Maps a ureq error to the SDK's, deciding whether anything may have been sent.
fn map_error(e: ureq::Error) -> Error {
    use ureq::Error as U;
    match e {
        U::Timeout(t) => {
            let stage = match t {
                ureq::Timeout::Connect | ureq::Timeout::Resolve => Stage::Connect,
                _ => Stage::Exchange,
            };
            Error::timeout(stage, U::Timeout(t))
        }
        U::Io(io) if io.kind() == io::ErrorKind::TimedOut => {
            Error::timeout(Stage::Exchange, U::Io(io))
        }
        U::Io(io) if is_connect_io(&io) => Error::connect(U::Io(io)),
        e @ (U::HostNotFound | U::ConnectionFailed | U::ConnectProxyFailed(_) | U::Tls(_)) => {
            Error::connect(e)
        }
        #[cfg(feature = "rustls")]
        e @ U::Rustls(_) => Error::connect(e),
        e => Error::transport(e),
    }
}

fn is_connect_io(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::NetworkDown
            | io::ErrorKind::AddrNotAvailable
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn client_is_send_sync_clone() {
        assert_send_sync::<Client>();
    }

    #[test]
    fn debug_hides_the_key() {
        let c = Client::new(Config::new("sk-very-secret")).unwrap();
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }

    #[test]
    fn bad_config_is_refused() {
        assert!(matches!(
            Client::new(Config::new("k").base_url("nope")),
            Err(Error::Validation(_))
        ));
    }
}
