//! The emulator the client figures run against, with one webhook to fetch.

use atoms_webhook_blocking::models::{CreateWebhookRequest, EventType, WebhookId};
use atoms_webhook_blocking::{Client, Config, RetryConfig};
use atoms_webhook_emulator::Emulator;

use crate::raw::{RawAsync, RawBlocking};
use crate::BoxError;

/// The API key the benchmark emulator accepts.
pub const API_KEY: &str = "bench-api-key";

/// The agent subscribed to the benchmark webhook (seeded with a name, so that the answer carries
/// a populated subscription like the real API's).
pub const AGENT_ID: &str = "60d0fe4f5311236168a109ca";

/// An emulator on 127.0.0.1 (on its own runtime and thread) holding one webhook.
#[derive(Debug)]
pub struct Server {
    /// The emulator.
    pub emulator: Emulator,
    /// The webhook every client figure fetches.
    pub webhook_id: WebhookId,
}

impl Server {
    /// Starts the emulator and creates the webhook.
    pub fn start() -> Result<Self, BoxError> {
        let emulator = Emulator::builder()
            .api_key(API_KEY)
            .agent(AGENT_ID, "Bench agent", "Answers benchmark calls")
            .start_background()?;
        let client = Client::new(sdk_config(&emulator.url()))?;
        let webhook_id = client.create_webhook(
            CreateWebhookRequest::new("https://example.com/atoms/bench", "benchmark endpoint")
                .event(AGENT_ID, EventType::PreConversation)
                .event(AGENT_ID, EventType::PostConversation)
                .event(AGENT_ID, EventType::AnalyticsCompleted),
        )?;
        Ok(Self {
            emulator,
            webhook_id,
        })
    }

    /// The base URL.
    pub fn url(&self) -> String {
        self.emulator.url()
    }

    /// A fresh blocking SDK client (its own pool).
    pub fn blocking_sdk(&self) -> Result<Client, BoxError> {
        Ok(Client::new(sdk_config(&self.url()))?)
    }

    /// A fresh async SDK client (its own pool).
    pub fn async_sdk(&self) -> Result<atoms_webhook_async::Client, BoxError> {
        Ok(atoms_webhook_async::Client::new(sdk_config(&self.url()))?)
    }

    /// A fresh raw ureq baseline.
    pub fn blocking_raw(&self) -> RawBlocking {
        RawBlocking::new(&self.url(), API_KEY, &self.webhook_id)
    }

    /// A fresh raw reqwest baseline.
    pub fn async_raw(&self) -> RawAsync {
        RawAsync::new(&self.url(), API_KEY, &self.webhook_id)
    }
}

/// The SDK configuration of every figure: defaults, except retries off (a benchmark that
/// retried would hide failures; none are expected on loopback).
pub fn sdk_config(base_url: &str) -> Config {
    Config::new(API_KEY)
        .base_url(base_url)
        .retry(RetryConfig::disabled())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_and_raw_clients_read_the_same_webhook() {
        let server = Server::start().unwrap();
        let sdk = server
            .blocking_sdk()
            .unwrap()
            .get_webhook(server.webhook_id.clone())
            .unwrap();
        let raw = server.blocking_raw().get_webhook().unwrap();
        assert_eq!(sdk, raw);
        assert_eq!(sdk.id, server.webhook_id);

        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (a_sdk, a_raw) = rt.block_on(async {
            let sdk = server.async_sdk().unwrap();
            let sdk = sdk.get_webhook(server.webhook_id.clone()).await.unwrap();
            (sdk, server.async_raw().get_webhook().await.unwrap())
        });
        assert_eq!(a_sdk, raw);
        assert_eq!(a_raw, raw);
        server.emulator.shutdown();
    }
}
