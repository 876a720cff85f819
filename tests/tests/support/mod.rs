//! One interface over both clients, so that the suites are written once. The method list is
//! written once too ([`ops!`]): each client's wrapper is the same list, the async one run to
//! completion on a runtime of its own. Every client made here waits between attempts with a
//! sleeper that records the delay instead of sleeping, so tests assert the delays the retry
//! policy chose, never the time that passed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atoms_webhook_models::{
    CallLog, CallLogPage, CreateWebhookRequest, EventType, SigningSecret, UpdateWebhookRequest,
    Webhook, WebhookId, WebhookSubscription,
};
use atoms_webhook_transport::endpoint::{CreateWebhook, ListConversations};
use atoms_webhook_transport::{
    AddEventsPlan, CascadeReport, Config, CreatedWebhook, Error, Jitter, RetryConfig, RetryPolicy,
};

/// The delays a client was asked to sleep, in order.
pub type Slept = Arc<Mutex<Vec<Duration>>>;

/// Every operation of a client, blocking.
pub trait Ops {
    fn list_webhooks(&self) -> Result<Vec<Webhook>, Error>;
    fn get_webhook(&self, id: &str) -> Result<Webhook, Error>;
    fn create_webhook(&self, req: CreateWebhookRequest) -> Result<WebhookId, Error>;
    /// A create through `execute`, with every retry allowed.
    fn create_webhook_retrying(&self, req: CreateWebhookRequest) -> Result<WebhookId, Error>;
    fn update_webhook(&self, id: &str, req: UpdateWebhookRequest) -> Result<WebhookId, Error>;
    fn delete_webhook(&self, id: &str) -> Result<String, Error>;
    fn agent_subscriptions(&self, agent: &str) -> Result<Vec<WebhookSubscription>, Error>;
    fn replace_agent_subscriptions(
        &self,
        agent: &str,
        webhook: &str,
        types: Vec<EventType>,
    ) -> Result<String, Error>;
    fn clear_agent_subscriptions(&self, agent: &str) -> Result<String, Error>;
    fn signing_secret(&self, id: &str) -> Result<SigningSecret, Error>;
    fn create_webhook_with_secret(
        &self,
        req: CreateWebhookRequest,
    ) -> Result<CreatedWebhook, Error>;
    fn add_agent_events(
        &self,
        agent: &str,
        webhook: &str,
        types: Vec<EventType>,
        force: bool,
    ) -> Result<AddEventsPlan, Error>;
    fn delete_webhook_cascade(&self, id: &str, force: bool) -> Result<CascadeReport, Error>;
    fn list_conversations(&self, req: ListConversations) -> Result<CallLogPage, Error>;
    fn get_conversation(&self, call_id: &str) -> Result<CallLog, Error>;
    /// The delays the client slept between attempts so far (recorded, not slept).
    fn slept(&self) -> Vec<Duration>;
}

/// Makes a client of one kind.
pub trait Flavor {
    /// A client with the retry policy of `config`.
    fn client(&self, config: Config) -> Box<dyn Ops> {
        let policy = RetryPolicy::new(config.retry);
        self.client_with(config, policy)
    }
    /// A client with this retry policy (an injected clock, a jitter source).
    fn client_with(&self, config: Config, policy: RetryPolicy) -> Box<dyn Ops>;
}

/// Fast retries for tests: 5 ms, 10 ms; no jitter so that runs are reproducible.
pub fn test_config(url: &str, key: &str) -> Config {
    Config::new(key)
        .base_url(url)
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(2))
        .retry(
            RetryConfig::default()
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20))
                .max_retry_after(Duration::from_secs(2))
                .jitter(Jitter::None),
        )
}

/// The one list of operations, for a wrapper whose client is `self.client` and whose calls
/// end through `$done!(self, call)`.
macro_rules! ops {
    ($ty:ty, $done:ident) => {
        impl Ops for $ty {
            fn list_webhooks(&self) -> Result<Vec<Webhook>, Error> {
                $done!(self, self.client.list_webhooks())
            }
            fn get_webhook(&self, id: &str) -> Result<Webhook, Error> {
                $done!(self, self.client.get_webhook(id))
            }
            fn create_webhook(&self, req: CreateWebhookRequest) -> Result<WebhookId, Error> {
                $done!(self, self.client.create_webhook(req))
            }
            fn create_webhook_retrying(
                &self,
                req: CreateWebhookRequest,
            ) -> Result<WebhookId, Error> {
                $done!(
                    self,
                    self.client
                        .execute(CreateWebhook::new(req).allow_retry(true))
                )
            }
            fn update_webhook(
                &self,
                id: &str,
                req: UpdateWebhookRequest,
            ) -> Result<WebhookId, Error> {
                $done!(self, self.client.update_webhook(id, req))
            }
            fn delete_webhook(&self, id: &str) -> Result<String, Error> {
                $done!(self, self.client.delete_webhook(id))
            }
            fn agent_subscriptions(&self, agent: &str) -> Result<Vec<WebhookSubscription>, Error> {
                $done!(self, self.client.agent_subscriptions(agent))
            }
            fn replace_agent_subscriptions(
                &self,
                agent: &str,
                webhook: &str,
                types: Vec<EventType>,
            ) -> Result<String, Error> {
                $done!(
                    self,
                    self.client
                        .replace_agent_subscriptions(agent, webhook, types)
                )
            }
            fn clear_agent_subscriptions(&self, agent: &str) -> Result<String, Error> {
                $done!(self, self.client.clear_agent_subscriptions(agent))
            }
            fn signing_secret(&self, id: &str) -> Result<SigningSecret, Error> {
                $done!(self, self.client.signing_secret(id))
            }
            fn create_webhook_with_secret(
                &self,
                req: CreateWebhookRequest,
            ) -> Result<CreatedWebhook, Error> {
                $done!(self, self.client.create_webhook_with_secret(req))
            }
            fn add_agent_events(
                &self,
                agent: &str,
                webhook: &str,
                types: Vec<EventType>,
                force: bool,
            ) -> Result<AddEventsPlan, Error> {
                $done!(
                    self,
                    self.client.add_agent_events(agent, webhook, types, force)
                )
            }
            fn delete_webhook_cascade(
                &self,
                id: &str,
                force: bool,
            ) -> Result<CascadeReport, Error> {
                $done!(self, self.client.delete_webhook_cascade(id, force))
            }
            fn list_conversations(&self, req: ListConversations) -> Result<CallLogPage, Error> {
                $done!(self, self.client.list_conversations(req))
            }
            fn get_conversation(&self, call_id: &str) -> Result<CallLog, Error> {
                $done!(self, self.client.get_conversation(call_id))
            }
            fn slept(&self) -> Vec<Duration> {
                self.slept.lock().unwrap().clone()
            }
        }
    };
}

macro_rules! at_once {
    ($this:ident, $call:expr) => {
        $call
    };
}

macro_rules! on_runtime {
    ($this:ident, $call:expr) => {
        $this.rt.block_on($call)
    };
}

pub struct Blocking;

pub struct BlockingOps {
    client: atoms_webhook_blocking::Client,
    slept: Slept,
}

impl Flavor for Blocking {
    fn client_with(&self, config: Config, policy: RetryPolicy) -> Box<dyn Ops> {
        let slept = Slept::default();
        let record = slept.clone();
        let client = atoms_webhook_blocking::Client::new(config)
            .expect("blocking client")
            .with_retry_policy(policy)
            .with_sleeper(move |d| record.lock().unwrap().push(d));
        Box::new(BlockingOps { client, slept })
    }
}

ops!(BlockingOps, at_once);

pub struct Async;

/// The async client with the runtime that drives it; the runtime lives as long as the client,
/// so that its pooled connections survive between calls.
pub struct AsyncOps {
    rt: tokio::runtime::Runtime,
    client: atoms_webhook_async::Client,
    slept: Slept,
}

impl Flavor for Async {
    fn client_with(&self, config: Config, policy: RetryPolicy) -> Box<dyn Ops> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let slept = Slept::default();
        let record = slept.clone();
        let client = atoms_webhook_async::Client::new(config)
            .expect("async client")
            .with_retry_policy(policy)
            .with_sleeper(move |d| {
                record.lock().unwrap().push(d);
                std::future::ready(())
            });
        Box::new(AsyncOps { rt, client, slept })
    }
}

ops!(AsyncOps, on_runtime);
