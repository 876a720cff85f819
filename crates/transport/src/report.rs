//! What a cascade delete removed. A leaf module: the error type reports a cascade that stopped
//! part way with it, and the plans build it.

use atoms_webhook_models::{AgentId, WebhookId, WebhookSubscription};

/// What a cascade delete removed from one agent.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct AgentRemoval {
    /// The agent.
    pub agent_id: AgentId,
    /// Its subscriptions to the deleted webhook.
    pub removed: Vec<WebhookSubscription>,
    /// Its subscriptions to other webhooks, removed too because clearing is all or nothing
    /// (only when forced).
    pub removed_other: Vec<WebhookSubscription>,
}

/// What `delete_webhook_cascade` did.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct CascadeReport {
    /// The deleted webhook: always the id the caller named.
    pub webhook_id: WebhookId,
    /// Each agent whose subscriptions were cleared, in order.
    pub agents: Vec<AgentRemoval>,
    /// The server's message for the delete (empty in a plan not yet carried out).
    pub message: String,
}

impl CascadeReport {
    /// Every subscription removed, to the webhook and (when forced) to others.
    pub fn removed_count(&self) -> usize {
        self.agents
            .iter()
            .map(|a| a.removed.len() + a.removed_other.len())
            .sum()
    }
}
