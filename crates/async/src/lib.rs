//! An async client for the Smallest.ai Atoms webhook API, on reqwest and tokio.
//!
//! Everything about the API (requests, validation, decoding, errors, the retry policy, the
//! plans of the conveniences) lives in `atoms-webhook-transport`; this crate sends, sleeps
//! between retries and converts reqwest's errors. `atoms-webhook-blocking` has the same
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
use std::sync::Arc;

use atoms_webhook_models::{
    AgentId, CreateWebhookRequest, EventType, SigningSecret, UpdateWebhookRequest, Webhook,
    WebhookId, WebhookSubscription,
};
use atoms_webhook_transport::endpoint::{
    ClearAgentSubscriptions, CreateWebhook, DeleteWebhook, Endpoint, GetAgentSubscriptions,
    GetWebhook, ListWebhooks, ReplaceAgentSubscriptions, UpdateWebhook,
};
use atoms_webhook_transport::{
    plan, trace, BodyTooLarge, Call, Prepared, Stage, Step, ValidationError,
};
use tracing::Instrument;

pub use atoms_webhook_models as models;
pub use atoms_webhook_transport as transport;
pub use atoms_webhook_transport::{
    AddEventsPlan, ApiError, ApiErrorKind, CascadeReport, Config, CreatedWebhook, Error,
    ForeignSubscriptions, Jitter, RetryConfig, RetryPolicy, CURRENT_BASE_URL, DEFAULT_BASE_URL,
};

/// An async client. Cheap to clone (the connection pool is shared), `Send` and `Sync`; its
/// futures are `Send`. Needs a tokio runtime.
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
    http: reqwest::Client,
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
            .timeout(config.timeout)
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
        Self::with_http_client(config, http)
    }

    /// A client configured from `SMALLEST_API_KEY` and the optional `ATOMS_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        Self::new(Config::from_env()?)
    }

    /// A client sending through `http` (for its proxy, TLS or pool settings). The total
    /// timeout of `config` applies per request; the connect timeout and the redirect policy
    /// are `http`'s own (build it with `redirect(Policy::none())` so that a 3xx is returned as
    /// an [`ApiError`] instead of followed).
    pub fn with_http_client(config: Config, http: reqwest::Client) -> Result<Self, Error> {
        let prepared = Prepared::new(&config)?;
        let policy = RetryPolicy::new(config.retry);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                prepared,
                policy,
                http,
            }),
        })
    }

    /// The same client with another retry policy (to inject a jitter source or a clock).
    pub fn with_retry_policy(self, policy: RetryPolicy) -> Self {
        Self {
            inner: Arc::new(Inner {
                config: self.inner.config.clone(),
                prepared: self.inner.prepared.clone(),
                policy,
                http: self.inner.http.clone(),
            }),
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
    pub async fn execute<R: Endpoint>(&self, request: R) -> Result<R::Output, Error> {
        let mut call = Call::prepared(&self.inner.prepared, &self.inner.policy, &request)?;
        let span = call.span().clone();
        async move {
            loop {
                let result = self.send(call.request()).await;
                match call.finish(result) {
                    Step::Retry(delay) => tokio::time::sleep(delay).await,
                    Step::Done(result) => return result,
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, Error> {
        let config = &self.inner.config;
        let mut request = reqwest::Request::try_from(request).map_err(|e| {
            // Nothing was sent: the URL (built from the validated base URL) was refused.
            Error::Validation(
                ValidationError::new("base_url", "could not be used to build a request")
                    .with_source(e),
            )
        })?;
        *request.timeout_mut() = Some(config.timeout);
        let mut response = self.inner.http.execute(request).await.map_err(map_error)?;

        let limit = config.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(Error::transport(BodyTooLarge { limit }));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map_error)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(Error::transport(BodyTooLarge { limit }));
            }
            body.extend_from_slice(&chunk);
        }
        let mut out = http::Response::new(body);
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }

    /// Every webhook of the organization (`GET /webhook`), with their signing secrets.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, Error> {
        self.execute(ListWebhooks::new()).await
    }

    /// One webhook (`GET /webhook?webhookId=`).
    pub async fn get_webhook(&self, id: impl Into<WebhookId>) -> Result<Webhook, Error> {
        self.execute(GetWebhook::new(id)).await
    }

    /// Creates a webhook (`POST /webhook`); returns its id. Not retried once the request may
    /// have reached the server (see [`CreateWebhook`]).
    pub async fn create_webhook(&self, request: CreateWebhookRequest) -> Result<WebhookId, Error> {
        self.execute(CreateWebhook::new(request)).await
    }

    /// Changes a webhook's endpoint, description or custom headers (`PATCH /webhook/{id}`).
    pub async fn update_webhook(
        &self,
        id: impl Into<WebhookId>,
        request: UpdateWebhookRequest,
    ) -> Result<WebhookId, Error> {
        self.execute(UpdateWebhook::new(id, request)).await
    }

    /// Deletes a webhook no agent is subscribed to (`DELETE /webhook/{id}`); returns the
    /// server's message. See [`Client::delete_webhook_cascade`] for one with subscriptions.
    pub async fn delete_webhook(&self, id: impl Into<WebhookId>) -> Result<String, Error> {
        self.execute(DeleteWebhook::new(id)).await
    }

    /// All of an agent's subscriptions, to any webhook.
    pub async fn agent_subscriptions(
        &self,
        agent_id: impl Into<AgentId>,
    ) -> Result<Vec<WebhookSubscription>, Error> {
        self.execute(GetAgentSubscriptions::new(agent_id)).await
    }

    /// REPLACES all of an agent's subscriptions (to every webhook) with `event_types` on
    /// `webhook_id`. See [`Client::add_agent_events`] to add without removing.
    pub async fn replace_agent_subscriptions(
        &self,
        agent_id: impl Into<AgentId>,
        webhook_id: impl Into<WebhookId>,
        event_types: impl IntoIterator<Item = EventType>,
    ) -> Result<String, Error> {
        let request = ReplaceAgentSubscriptions::new(agent_id, webhook_id, event_types);
        self.execute(request).await
    }

    /// Removes ALL of an agent's subscriptions, across webhooks.
    pub async fn clear_agent_subscriptions(
        &self,
        agent_id: impl Into<AgentId>,
    ) -> Result<String, Error> {
        self.execute(ClearAgentSubscriptions::new(agent_id)).await
    }

    /// A webhook's signing secret (fetched by id); [`Error::MissingSecret`] if the response
    /// has none.
    pub async fn signing_secret(&self, id: impl Into<WebhookId>) -> Result<SigningSecret, Error> {
        plan::signing_secret(&self.get_webhook(id).await?)
    }

    /// Creates a webhook, then fetches its signing secret (the create answers only the id).
    /// If the fetch fails, the error is [`Error::CreatedWithoutSecret`] with the new id.
    pub async fn create_webhook_with_secret(
        &self,
        request: CreateWebhookRequest,
    ) -> Result<CreatedWebhook, Error> {
        async {
            let id = self.create_webhook(request).await?;
            let secret = self.signing_secret(id.clone()).await;
            CreatedWebhook::from_fetch(id, secret)
        }
        .instrument(trace::operation_span("create_webhook_with_secret"))
        .await
    }

    /// Adds event types on a webhook to an agent, keeping the ones it has on that webhook
    /// (the API only replaces: this reads, merges and writes). Refuses with
    /// [`Error::ForeignSubscriptions`] when the agent is also subscribed to other webhooks,
    /// which the write would remove, unless `force`. Returns what was (or, when nothing was
    /// new, would have been) sent.
    pub async fn add_agent_events(
        &self,
        agent_id: impl Into<AgentId>,
        webhook_id: impl Into<WebhookId>,
        event_types: impl IntoIterator<Item = EventType>,
        force: bool,
    ) -> Result<AddEventsPlan, Error> {
        let (agent_id, webhook_id) = (agent_id.into(), webhook_id.into());
        let new_types: Vec<EventType> = event_types.into_iter().collect();
        async {
            // Validate before the read, so that a bad argument costs no request.
            plan::plan_add_events(&agent_id, &webhook_id, &[], &new_types, true)?;
            let current = self.agent_subscriptions(agent_id.clone()).await?;
            let plan = plan::plan_add_events(&agent_id, &webhook_id, &current, &new_types, force)?;
            if let Some(request) = &plan.request {
                self.execute(request.clone()).await?;
            }
            Ok(plan)
        }
        .instrument(trace::operation_span("add_agent_events"))
        .await
    }

    /// Deletes a webhook after clearing the subscriptions of every agent subscribed to it.
    /// Refuses with [`Error::ForeignSubscriptions`] when one of those agents is also subscribed
    /// to other webhooks (clearing removes those too), unless `force`. The report lists what
    /// was removed, per agent.
    pub async fn delete_webhook_cascade(
        &self,
        id: impl Into<WebhookId>,
        force: bool,
    ) -> Result<CascadeReport, Error> {
        let id = id.into();
        async {
            let webhook = self.get_webhook(id).await?;
            let mut per_agent = Vec::new();
            for agent_id in plan::cascade_agents(&webhook) {
                let subscriptions = self.agent_subscriptions(agent_id.clone()).await?;
                per_agent.push((agent_id, subscriptions));
            }
            let plan = plan::plan_cascade_delete(&webhook, &per_agent, force)?;
            for (done, clear) in plan.clears.iter().enumerate() {
                if let Err(e) = self.execute(clear.clone()).await {
                    return Err(plan.incomplete(done, e));
                }
            }
            let deleted = self.execute(plan.delete.clone()).await;
            plan.finish(deleted)
        }
        .instrument(trace::operation_span("delete_webhook_cascade"))
        .await
    }
}

/// Maps a reqwest error to the SDK's, deciding whether anything may have been sent.
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
    fn debug_hides_the_key() {
        let c = Client::new(Config::new("sk-very-secret")).unwrap();
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }

    #[tokio::test]
    async fn connection_refused_is_a_connect_failure() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = Client::new(
            Config::new("k")
                .base_url(format!("http://127.0.0.1:{port}"))
                .retry(RetryConfig::disabled()),
        )
        .unwrap();
        let err = client.list_webhooks().await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(!format!("{err:?}").contains("Bearer"));
    }
}
