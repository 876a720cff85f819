//! The baselines of the client figures: the same `GET /webhook?webhookId=` with the same HTTP
//! clients the SDK uses (ureq 3, reqwest), the same `Authorization: Bearer` and `Accept`
//! headers and the same JSON parse into `ApiResponse<Webhook>`, and nothing else: no
//! validation, no retry loop, no tracing span, no body limit. SDK ÷ raw is the SDK's overhead.
//!
//! The URL and the header values are built once, which makes the baseline as cheap as it can be.

// The very versions the SDK is built on, through its re-exports.
use atoms_webhook_async::reqwest;
use atoms_webhook_blocking::ureq;
use atoms_webhook_models::{ApiResponse, Webhook, WebhookId};
use http::header::{ACCEPT, AUTHORIZATION};

use crate::BoxError;

/// `{base_url}/webhook?webhookId={id}` (ids are hex: nothing to encode).
fn get_url(base_url: &str, id: &WebhookId) -> String {
    format!(
        "{}/webhook?webhookId={}",
        base_url.trim_end_matches('/'),
        id.as_str()
    )
}

/// A plain ureq 3 agent with its default configuration.
#[derive(Clone, Debug)]
pub struct RawBlocking {
    agent: ureq::Agent,
    url: String,
    auth: String,
}

impl RawBlocking {
    /// A fresh agent (its own connection pool) for one webhook.
    pub fn new(base_url: &str, api_key: &str, id: &WebhookId) -> Self {
        Self {
            agent: ureq::Agent::new_with_defaults(),
            url: get_url(base_url, id),
            auth: format!("Bearer {api_key}"),
        }
    }

    /// One request, read and parsed.
    pub fn get_webhook(&self) -> Result<Webhook, BoxError> {
        let mut response = self
            .agent
            .get(&self.url)
            .header(AUTHORIZATION, &self.auth)
            .header(ACCEPT, "application/json")
            .call()?;
        let body = response.body_mut().read_to_vec()?;
        let envelope: ApiResponse<Webhook> = serde_json::from_slice(&body)?;
        Ok(envelope.data)
    }
}

/// A plain `reqwest::Client::new()`.
#[derive(Clone, Debug)]
pub struct RawAsync {
    client: reqwest::Client,
    url: String,
    auth: String,
}

impl RawAsync {
    /// A fresh client (its own connection pool) for one webhook.
    pub fn new(base_url: &str, api_key: &str, id: &WebhookId) -> Self {
        Self::with_client(reqwest::Client::new(), base_url, api_key, id)
    }

    /// The same baseline on another reqwest client (for example one with a timeout).
    pub fn with_client(
        client: reqwest::Client,
        base_url: &str,
        api_key: &str,
        id: &WebhookId,
    ) -> Self {
        Self {
            client,
            url: get_url(base_url, id),
            auth: format!("Bearer {api_key}"),
        }
    }

    /// One request, read and parsed.
    pub async fn get_webhook(&self) -> Result<Webhook, BoxError> {
        let response = self
            .client
            .get(&self.url)
            .header(AUTHORIZATION, &self.auth)
            .header(ACCEPT, "application/json")
            .send()
            .await?
            .error_for_status()?;
        let body = response.bytes().await?;
        let envelope: ApiResponse<Webhook> = serde_json::from_slice(&body)?;
        Ok(envelope.data)
    }
}
