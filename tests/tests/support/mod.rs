//! One interface over both clients, so that the conformance suite is written once.

use std::time::Duration;

use atoms_webhook_models::{
    CreateWebhookRequest, EventType, SigningSecret, UpdateWebhookRequest, Webhook, WebhookId,
    WebhookSubscription,
};
use atoms_webhook_transport::endpoint::CreateWebhook;
use atoms_webhook_transport::{
    AddEventsPlan, CascadeReport, Config, CreatedWebhook, Error, Jitter, RetryConfig,
};

/// Every operation of a client, blocking. The async client runs each call to completion on a
/// runtime of its own.
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
}

/// Makes a client of one kind.
pub trait Flavor {
    fn client(&self, config: Config) -> Box<dyn Ops>;
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

pub struct Blocking;

impl Flavor for Blocking {
    fn client(&self, config: Config) -> Box<dyn Ops> {
        Box::new(atoms_webhook_blocking::Client::new(config).expect("blocking client"))
    }
}

impl Ops for atoms_webhook_blocking::Client {
    fn list_webhooks(&self) -> Result<Vec<Webhook>, Error> {
        self.list_webhooks()
    }
    fn get_webhook(&self, id: &str) -> Result<Webhook, Error> {
        self.get_webhook(id)
    }
    fn create_webhook(&self, req: CreateWebhookRequest) -> Result<WebhookId, Error> {
        self.create_webhook(req)
    }
    fn create_webhook_retrying(&self, req: CreateWebhookRequest) -> Result<WebhookId, Error> {
        self.execute(CreateWebhook::new(req).allow_retry(true))
    }
    fn update_webhook(&self, id: &str, req: UpdateWebhookRequest) -> Result<WebhookId, Error> {
        self.update_webhook(id, req)
    }
    fn delete_webhook(&self, id: &str) -> Result<String, Error> {
        self.delete_webhook(id)
    }
    fn agent_subscriptions(&self, agent: &str) -> Result<Vec<WebhookSubscription>, Error> {
        self.agent_subscriptions(agent)
    }
    fn replace_agent_subscriptions(
        &self,
        agent: &str,
        webhook: &str,
        types: Vec<EventType>,
    ) -> Result<String, Error> {
        self.replace_agent_subscriptions(agent, webhook, types)
    }
    fn clear_agent_subscriptions(&self, agent: &str) -> Result<String, Error> {
        self.clear_agent_subscriptions(agent)
    }
    fn signing_secret(&self, id: &str) -> Result<SigningSecret, Error> {
        self.signing_secret(id)
    }
    fn create_webhook_with_secret(
        &self,
        req: CreateWebhookRequest,
    ) -> Result<CreatedWebhook, Error> {
        self.create_webhook_with_secret(req)
    }
    fn add_agent_events(
        &self,
        agent: &str,
        webhook: &str,
        types: Vec<EventType>,
        force: bool,
    ) -> Result<AddEventsPlan, Error> {
        self.add_agent_events(agent, webhook, types, force)
    }
    fn delete_webhook_cascade(&self, id: &str, force: bool) -> Result<CascadeReport, Error> {
        self.delete_webhook_cascade(id, force)
    }
}

pub struct Async;

/// The async client with the runtime that drives it; the runtime lives as long as the client,
/// so that its pooled connections survive between calls.
pub struct AsyncOps {
    rt: tokio::runtime::Runtime,
    client: atoms_webhook_async::Client,
}

impl Flavor for Async {
    fn client(&self, config: Config) -> Box<dyn Ops> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = atoms_webhook_async::Client::new(config).expect("async client");
        Box::new(AsyncOps { rt, client })
    }
}

impl Ops for AsyncOps {
    fn list_webhooks(&self) -> Result<Vec<Webhook>, Error> {
        self.rt.block_on(self.client.list_webhooks())
    }
    fn get_webhook(&self, id: &str) -> Result<Webhook, Error> {
        self.rt.block_on(self.client.get_webhook(id))
    }
    fn create_webhook(&self, req: CreateWebhookRequest) -> Result<WebhookId, Error> {
        self.rt.block_on(self.client.create_webhook(req))
    }
    fn create_webhook_retrying(&self, req: CreateWebhookRequest) -> Result<WebhookId, Error> {
        self.rt.block_on(
            self.client
                .execute(CreateWebhook::new(req).allow_retry(true)),
        )
    }
    fn update_webhook(&self, id: &str, req: UpdateWebhookRequest) -> Result<WebhookId, Error> {
        self.rt.block_on(self.client.update_webhook(id, req))
    }
    fn delete_webhook(&self, id: &str) -> Result<String, Error> {
        self.rt.block_on(self.client.delete_webhook(id))
    }
    fn agent_subscriptions(&self, agent: &str) -> Result<Vec<WebhookSubscription>, Error> {
        self.rt.block_on(self.client.agent_subscriptions(agent))
    }
    fn replace_agent_subscriptions(
        &self,
        agent: &str,
        webhook: &str,
        types: Vec<EventType>,
    ) -> Result<String, Error> {
        self.rt.block_on(
            self.client
                .replace_agent_subscriptions(agent, webhook, types),
        )
    }
    fn clear_agent_subscriptions(&self, agent: &str) -> Result<String, Error> {
        self.rt
            .block_on(self.client.clear_agent_subscriptions(agent))
    }
    fn signing_secret(&self, id: &str) -> Result<SigningSecret, Error> {
        self.rt.block_on(self.client.signing_secret(id))
    }
    fn create_webhook_with_secret(
        &self,
        req: CreateWebhookRequest,
    ) -> Result<CreatedWebhook, Error> {
        self.rt
            .block_on(self.client.create_webhook_with_secret(req))
    }
    fn add_agent_events(
        &self,
        agent: &str,
        webhook: &str,
        types: Vec<EventType>,
        force: bool,
    ) -> Result<AddEventsPlan, Error> {
        self.rt
            .block_on(self.client.add_agent_events(agent, webhook, types, force))
    }
    fn delete_webhook_cascade(&self, id: &str, force: bool) -> Result<CascadeReport, Error> {
        self.rt
            .block_on(self.client.delete_webhook_cascade(id, force))
    }
}
