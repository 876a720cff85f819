//! The platform's rules for the conveniences, as pure planning functions. The clients fetch
//! what a plan needs, call the function, and execute the requests it returns.
//!
//! The rules come from the API's shape: `POST /agent/{agentId}/webhook-subscriptions`
//! replaces ALL of an agent's subscriptions with event types on ONE webhook, and `DELETE` on the
//! same path removes all of them, across webhooks. So adding one event type means reading
//! the current set first, and an agent that is also subscribed to another webhook would lose
//! those subscriptions: the plans refuse ([`Error::ForeignSubscriptions`]) unless forced.

use atoms_webhook_models::{
    AgentId, EventType, SigningSecret, Webhook, WebhookId, WebhookSubscription,
};

use crate::endpoint::{ClearAgentSubscriptions, DeleteWebhook, ReplaceAgentSubscriptions};
use crate::error::{AgentSubscriptions, Error, ForeignSubscriptions, ValidationError};
pub use crate::report::{AgentRemoval, CascadeReport};
use crate::validate;

/// The signing secret of a fetched webhook, or [`Error::MissingSecret`].
pub fn signing_secret(webhook: &Webhook) -> Result<SigningSecret, Error> {
    webhook
        .signing_secret()
        .filter(|s| !s.is_empty())
        .cloned()
        .ok_or_else(|| Error::MissingSecret {
            id: webhook.id.clone(),
        })
}

/// A webhook and its signing secret, as returned by `create_webhook_with_secret`.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct CreatedWebhook {
    /// The new webhook's id.
    pub id: WebhookId,
    /// Its signing secret (`Debug` prints `[redacted]`).
    pub secret: SigningSecret,
}

impl CreatedWebhook {
    /// A webhook id with its secret.
    pub fn new(id: WebhookId, secret: SigningSecret) -> Self {
        Self { id, secret }
    }

    /// The outcome of fetching the secret of the webhook just created as `id`: a failure
    /// becomes [`Error::CreatedWithoutSecret`], so the caller still learns the id.
    pub fn from_fetch(id: WebhookId, secret: Result<SigningSecret, Error>) -> Result<Self, Error> {
        match secret {
            Ok(secret) => Ok(Self::new(id, secret)),
            Err(e) => Err(Error::CreatedWithoutSecret {
                id,
                source: Box::new(e),
            }),
        }
    }
}

fn is_for(s: &WebhookSubscription, webhook_id: &WebhookId) -> bool {
    s.webhook_id.as_ref() == Some(webhook_id)
}

/// What `add_agent_events` sends, and what it changes.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct AddEventsPlan {
    /// The agent.
    pub agent_id: AgentId,
    /// The webhook.
    pub webhook_id: WebhookId,
    /// The request to send; `None` when the agent already has every event type asked for on
    /// this webhook (nothing to change, nothing is sent).
    pub request: Option<ReplaceAgentSubscriptions>,
    /// The agent's event types on the webhook afterwards, current ones first.
    pub event_types: Vec<EventType>,
    /// The event types that are new.
    pub added: Vec<EventType>,
    /// Subscriptions to other webhooks that the request removes (only when forced).
    pub removed: Vec<WebhookSubscription>,
}

/// Plans adding `new_types` on `webhook_id` to an agent whose subscriptions are `current`,
/// keeping the event types it already has on that webhook.
///
/// Fails with [`Error::ForeignSubscriptions`] when a change is needed and the agent also has
/// subscriptions to other webhooks (a subscription without a `webhookId` counts as another
/// webhook's), unless `force`; then the plan lists them in [`AddEventsPlan::removed`].
///
/// ```
/// use atoms_webhook_models::{EventType, WebhookSubscription};
/// use atoms_webhook_transport::plan::plan_add_events;
/// let mut current = WebhookSubscription::default();
/// current.webhook_id = Some("w1".into());
/// current.event_type = Some(EventType::PreConversation);
/// let plan = plan_add_events(&"a1".into(), &"w1".into(), &[current], &[EventType::PostConversation], false)?;
/// let request = plan.request.unwrap();
/// assert_eq!(request.body.event_types, [EventType::PreConversation, EventType::PostConversation]);
/// # Ok::<(), atoms_webhook_transport::Error>(())
/// ```
pub fn plan_add_events(
    agent_id: &AgentId,
    webhook_id: &WebhookId,
    current: &[WebhookSubscription],
    new_types: &[EventType],
    force: bool,
) -> Result<AddEventsPlan, Error> {
    validate::id("agent_id", agent_id.as_str())?;
    validate::id("webhook_id", webhook_id.as_str())?;
    if new_types.is_empty() {
        return Err(
            ValidationError::new("event_types", "must name at least one event type").into(),
        );
    }
    for (i, e) in new_types.iter().enumerate() {
        validate::event_type(&format!("event_types[{i}]"), e)?;
    }

    let mut event_types: Vec<EventType> = Vec::new();
    for e in current
        .iter()
        .filter(|s| is_for(s, webhook_id))
        .filter_map(|s| s.event_type.clone())
    {
        if !event_types.contains(&e) {
            event_types.push(e);
        }
    }
    let mut added = Vec::new();
    for e in new_types {
        if !event_types.contains(e) {
            event_types.push(e.clone());
            added.push(e.clone());
        }
    }
    let foreign: Vec<WebhookSubscription> = current
        .iter()
        .filter(|s| !is_for(s, webhook_id))
        .cloned()
        .collect();

    if added.is_empty() {
        return Ok(AddEventsPlan {
            agent_id: agent_id.clone(),
            webhook_id: webhook_id.clone(),
            request: None,
            event_types,
            added,
            removed: Vec::new(),
        });
    }
    if !foreign.is_empty() && !force {
        return Err(ForeignSubscriptions::new(
            webhook_id.clone(),
            vec![AgentSubscriptions::new(agent_id.clone(), foreign)],
        )
        .into());
    }
    Ok(AddEventsPlan {
        agent_id: agent_id.clone(),
        webhook_id: webhook_id.clone(),
        request: Some(ReplaceAgentSubscriptions::new(
            agent_id.clone(),
            webhook_id.clone(),
            event_types.clone(),
        )),
        event_types,
        added,
        removed: foreign,
    })
}

/// The agents whose subscriptions `delete_webhook_cascade` must fetch: those the webhook lists.
///
/// The ids come from the server's answer, so one that could not be put in a path (empty,
/// with whitespace or a `/`) is the server's fault: [`Error::InvalidResponse`], not a
/// validation error of the caller's.
pub fn cascade_agents(webhook: &Webhook) -> Result<Vec<AgentId>, Error> {
    let agents = webhook.agent_ids();
    for a in &agents {
        validate::id("data.subscriptions[].agentId", a.as_str())
            .map_err(|e| Error::invalid_response("get_webhook", e))?;
    }
    Ok(agents)
}

/// The requests of a cascade delete, in order: clear each agent, then delete the webhook.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct CascadePlan {
    /// One clear per agent subscribed to the webhook.
    pub clears: Vec<ClearAgentSubscriptions>,
    /// The delete, sent after all the clears.
    pub delete: DeleteWebhook,
    /// What the plan removes; `message` is filled once it has been carried out.
    pub report: CascadeReport,
}

impl CascadePlan {
    /// The outcome of the final delete, every clear having succeeded: the report, or
    /// [`Error::CascadeIncomplete`] listing every agent cleared.
    pub fn finish(self, delete: Result<String, Error>) -> Result<CascadeReport, Error> {
        match delete {
            Ok(message) => Ok(self.into_report(message)),
            Err(e) => {
                let cleared = self.clears.len();
                Err(self.incomplete(cleared, e))
            }
        }
    }

    /// The report of the plan once carried out, with the delete's message.
    pub fn into_report(self, message: String) -> CascadeReport {
        CascadeReport {
            message,
            ..self.report
        }
    }

    /// The error for a plan that failed after its first `cleared` clears succeeded: the
    /// report then lists only those agents, so nothing removed goes unreported.
    pub fn incomplete(self, cleared: usize, source: Error) -> Error {
        let mut report = self.report;
        let done: Vec<AgentId> = self.clears[..cleared.min(self.clears.len())]
            .iter()
            .map(|c| c.agent_id.clone())
            .collect();
        report.agents.retain(|a| done.contains(&a.agent_id));
        Error::CascadeIncomplete {
            report: Box::new(report),
            source: Box::new(source),
        }
    }
}

/// Plans deleting the webhook `webhook_id` (the id the caller named) with every subscription
/// to it, given the current subscriptions of each agent the webhook lists (see
/// [`cascade_agents`]). Every request of the plan and its report name `webhook_id`, never an
/// id read from an answer.
///
/// An agent without a subscription to the webhook any more is left alone. An agent that also
/// has subscriptions to other webhooks makes the plan fail with
/// [`Error::ForeignSubscriptions`] (listing every such agent), unless `force`, since clearing
/// an agent removes all its subscriptions.
pub fn plan_cascade_delete(
    webhook_id: &WebhookId,
    per_agent: &[(AgentId, Vec<WebhookSubscription>)],
    force: bool,
) -> Result<CascadePlan, Error> {
    validate::id("id", webhook_id.as_str())?;
    let mut clears = Vec::new();
    let mut agents = Vec::new();
    let mut conflicts = Vec::new();
    for (agent_id, subs) in per_agent {
        let (mine, others): (Vec<_>, Vec<_>) =
            subs.iter().cloned().partition(|s| is_for(s, webhook_id));
        if mine.is_empty() {
            continue;
        }
        if !others.is_empty() {
            conflicts.push(AgentSubscriptions::new(agent_id.clone(), others.clone()));
        }
        clears.push(ClearAgentSubscriptions::new(agent_id.clone()));
        agents.push(AgentRemoval {
            agent_id: agent_id.clone(),
            removed: mine,
            removed_other: others,
        });
    }
    if !conflicts.is_empty() && !force {
        return Err(ForeignSubscriptions::new(webhook_id.clone(), conflicts).into());
    }
    Ok(CascadePlan {
        clears,
        delete: DeleteWebhook::new(webhook_id.clone()),
        report: CascadeReport {
            webhook_id: webhook_id.clone(),
            agents,
            message: String::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use atoms_webhook_models::{AgentRef, PopulatedSubscription};

    fn sub(webhook: &str, agent: &str, e: EventType) -> WebhookSubscription {
        let mut s = WebhookSubscription::default();
        s.id = format!("s-{webhook}-{agent}-{e}").as_str().into();
        s.webhook_id = Some(webhook.into());
        s.agent_id = Some(agent.into());
        s.event_type = Some(e);
        s
    }

    use EventType::{AnalyticsCompleted as Ana, PostConversation as Post, PreConversation as Pre};

    #[test]
    fn add_unions_with_current() {
        let current = [sub("w1", "a", Pre), sub("w1", "a", Post)];
        let plan =
            plan_add_events(&"a".into(), &"w1".into(), &current, &[Post, Ana], false).unwrap();
        assert_eq!(plan.event_types, vec![Pre, Post, Ana]);
        assert_eq!(plan.added, vec![Ana]);
        let req = plan.request.unwrap();
        assert_eq!(req.agent_id.as_str(), "a");
        assert_eq!(req.body.webhook_id.as_str(), "w1");
        assert_eq!(req.body.event_types, vec![Pre, Post, Ana]);
        assert!(plan.removed.is_empty());
    }

    #[test]
    fn add_nothing_new_sends_nothing() {
        let current = [sub("w1", "a", Pre), sub("w2", "a", Post)];
        let plan = plan_add_events(&"a".into(), &"w1".into(), &current, &[Pre], false).unwrap();
        assert!(plan.request.is_none());
        assert!(plan.added.is_empty());
    }

    #[test]
    fn add_refuses_to_drop_other_webhooks_unless_forced() {
        let current = [
            sub("w1", "a", Pre),
            sub("w2", "a", Post),
            sub("w3", "a", Ana),
        ];
        let err = plan_add_events(&"a".into(), &"w1".into(), &current, &[Post], false).unwrap_err();
        let Error::ForeignSubscriptions(f) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(f.webhook_id.as_str(), "w1");
        assert_eq!(f.agents.len(), 1);
        assert_eq!(f.agents[0].subscriptions.len(), 2);
        let msg = err.to_string();
        assert!(
            msg.contains("post-conversation on w2") && msg.contains("analytics-completed on w3"),
            "{msg}"
        );

        let plan = plan_add_events(&"a".into(), &"w1".into(), &current, &[Post], true).unwrap();
        assert_eq!(plan.removed.len(), 2);
        assert_eq!(plan.request.unwrap().body.event_types, vec![Pre, Post]);
    }

    #[test]
    fn add_validates() {
        assert!(matches!(
            plan_add_events(&"a".into(), &"w".into(), &[], &[], false),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            plan_add_events(&"".into(), &"w".into(), &[], &[Pre], false),
            Err(Error::Validation(_))
        ));
        let plan = plan_add_events(&"a".into(), &"w".into(), &[], &[Pre, Pre], false).unwrap();
        assert_eq!(plan.event_types, vec![Pre]);
    }

    fn webhook(id: &str, agents: &[&str]) -> Webhook {
        let mut w = Webhook::default();
        w.id = id.into();
        w.subscriptions = Some(
            agents
                .iter()
                .map(|a| {
                    let mut s = PopulatedSubscription::default();
                    s.agent = Some(AgentRef::Id((*a).into()));
                    s
                })
                .collect(),
        );
        w
    }

    #[test]
    fn cascade_clears_each_agent_then_deletes() {
        let w = webhook("w1", &["a", "b", "a", "c"]);
        assert_eq!(
            cascade_agents(&w).unwrap(),
            vec![AgentId::from("a"), "b".into(), "c".into()]
        );
        let per_agent = vec![
            ("a".into(), vec![sub("w1", "a", Pre), sub("w1", "a", Post)]),
            ("b".into(), vec![sub("w1", "b", Ana)]),
            ("c".into(), vec![]),
        ];
        let plan = plan_cascade_delete(&w.id, &per_agent, false).unwrap();
        assert_eq!(
            plan.clears,
            vec![
                ClearAgentSubscriptions::new("a"),
                ClearAgentSubscriptions::new("b")
            ]
        );
        assert_eq!(plan.delete, DeleteWebhook::new("w1"));
        let report = plan.into_report("gone".into());
        assert_eq!(report.removed_count(), 3);
        assert_eq!(report.message, "gone");
        assert_eq!(report.agents[0].removed.len(), 2);
    }

    #[test]
    fn cascade_refuses_agents_with_other_webhooks_unless_forced() {
        let w = webhook("w1", &["a", "b"]);
        let per_agent = vec![
            ("a".into(), vec![sub("w1", "a", Pre), sub("w2", "a", Post)]),
            ("b".into(), vec![sub("w1", "b", Pre), sub("w3", "b", Pre)]),
        ];
        let err = plan_cascade_delete(&w.id, &per_agent, false).unwrap_err();
        let Error::ForeignSubscriptions(f) = err else {
            panic!()
        };
        assert_eq!(f.agents.len(), 2);
        let plan = plan_cascade_delete(&w.id, &per_agent, true).unwrap();
        assert_eq!(plan.clears.len(), 2);
        assert_eq!(
            plan.report.agents[1].removed_other,
            vec![sub("w3", "b", Pre)]
        );
    }

    #[test]
    fn cascade_without_subscriptions_only_deletes() {
        let plan = plan_cascade_delete(&"w1".into(), &[], false).unwrap();
        assert!(plan.clears.is_empty());
        assert!(plan.report.agents.is_empty());
    }

    #[test]
    fn cascade_agents_from_the_answer_must_be_usable() {
        let e = cascade_agents(&webhook("w1", &["a", "b c"])).unwrap_err();
        assert!(matches!(e, Error::InvalidResponse { .. }), "{e:?}");
        assert!(e.to_string().contains("get_webhook"), "{e}");
    }

    #[test]
    fn secrets() {
        let mut w = webhook("w1", &[]);
        assert!(matches!(
            signing_secret(&w),
            Err(Error::MissingSecret { .. })
        ));
        w.decrypted_secret_key = Some(SigningSecret::new("s"));
        assert_eq!(signing_secret(&w).unwrap().expose(), "s");
    }
}
