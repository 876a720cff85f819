//! The operations of several requests, written once as sans-IO state machines: each is an
//! [`Operation`] that yields "send this request" and "sleep this long" (retries stay inside,
//! through [`Call`]) and ends with its typed result. The clients drive them; so can any other
//! HTTP client (see the crate documentation).
//!
//! Every flow acts on the ids its caller named. An answer about another webhook ends it with
//! [`Error::UnexpectedResponse`] before anything is written.

use std::mem;

use atoms_webhook_models::{AgentId, EventType, SigningSecret, WebhookId, WebhookSubscription};
use http::Response;
use tracing::Span;

use crate::call::{Call, Step};
use crate::codec::Prepared;
use crate::endpoint::{
    ClearAgentSubscriptions, CreateWebhook, DeleteWebhook, Endpoint, GetAgentSubscriptions,
    GetWebhook, ReplaceAgentSubscriptions,
};
use crate::error::{Error, ValidationError};
use crate::operation::{Next, Operation};
use crate::plan::{self, AddEventsPlan, CascadePlan, CascadeReport, CreatedWebhook};
use crate::retry::RetryPolicy;
use crate::trace;

type Answer = Result<Response<Vec<u8>>, Error>;

/// What every flow needs to start its calls: the prepared configuration, the retry policy
/// and its own span (the calls' spans nest inside it).
#[derive(Debug)]
struct Ctx<'c> {
    prepared: &'c Prepared,
    policy: &'c RetryPolicy,
    span: Span,
}

impl<'c> Ctx<'c> {
    fn new(prepared: &'c Prepared, policy: &'c RetryPolicy, operation: &'static str) -> Self {
        Self {
            prepared,
            policy,
            span: trace::operation_span(operation),
        }
    }

    fn call<R: Endpoint>(&self, endpoint: R) -> Result<Call<'c, R>, Error> {
        self.span
            .in_scope(|| Call::prepared(self.prepared, self.policy, endpoint))
    }
}

/// A flow driven again after it ended: a bug of the driver, reported rather than panicking.
fn over<T>() -> Next<T> {
    Next::Done(Err(ValidationError::new(
        "operation",
        "was driven again after it ended",
    )
    .into()))
}

/// Sends the next attempt of `call`.
fn send<R: Endpoint, T>(call: &mut Call<'_, R>) -> Next<T> {
    Next::Send(call.request())
}

/// `signing_secret`: fetches a webhook by id and returns its signing secret, or
/// [`Error::MissingSecret`]. An answer about another webhook is
/// [`Error::UnexpectedResponse`] and no secret is returned.
#[derive(Debug)]
pub struct GetSigningSecret<'c> {
    ctx: Ctx<'c>,
    state: SecretState<'c>,
}

// One call at a time lives in the state; boxing it would cost an allocation per step.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum SecretState<'c> {
    Start(WebhookId),
    Fetch(Call<'c, GetWebhook>),
    Done,
}

impl<'c> GetSigningSecret<'c> {
    /// The flow for the webhook `id`.
    pub fn new(prepared: &'c Prepared, policy: &'c RetryPolicy, id: impl Into<WebhookId>) -> Self {
        Self {
            ctx: Ctx::new(prepared, policy, "signing_secret"),
            state: SecretState::Start(id.into()),
        }
    }
}

impl Operation for GetSigningSecret<'_> {
    type Output = SigningSecret;

    fn span(&self) -> &Span {
        &self.ctx.span
    }

    fn resume(&mut self) -> Next<SigningSecret> {
        match mem::replace(&mut self.state, SecretState::Done) {
            SecretState::Start(id) => match self.ctx.call(GetWebhook::new(id)) {
                Ok(mut call) => {
                    let next = send(&mut call);
                    self.state = SecretState::Fetch(call);
                    next
                }
                Err(e) => Next::Done(Err(e)),
            },
            SecretState::Fetch(mut call) => {
                let next = send(&mut call);
                self.state = SecretState::Fetch(call);
                next
            }
            SecretState::Done => over(),
        }
    }

    fn receive(&mut self, response: Answer) -> Next<SigningSecret> {
        match mem::replace(&mut self.state, SecretState::Done) {
            SecretState::Fetch(mut call) => match call.finish(response) {
                Step::Retry(delay) => {
                    self.state = SecretState::Fetch(call);
                    Next::Sleep(delay)
                }
                Step::Done(result) => Next::Done(result.and_then(|w| plan::signing_secret(&w))),
            },
            _ => over(),
        }
    }
}

/// `create_webhook_with_secret`: creates a webhook, then fetches its signing secret (the
/// create answers only with the id). If the fetch fails, the error is
/// [`Error::CreatedWithoutSecret`] with the new id.
#[derive(Debug)]
pub struct CreateWebhookWithSecret<'c> {
    ctx: Ctx<'c>,
    state: CreateState<'c>,
}

#[derive(Debug)]
enum CreateState<'c> {
    Start(CreateWebhook),
    Create(Call<'c, CreateWebhook>),
    Fetch(WebhookId, Call<'c, GetWebhook>),
    Done,
}

impl<'c> CreateWebhookWithSecret<'c> {
    /// The flow for this create (see [`CreateWebhook`] for when it is retried).
    pub fn new(
        prepared: &'c Prepared,
        policy: &'c RetryPolicy,
        create: impl Into<CreateWebhook>,
    ) -> Self {
        Self {
            ctx: Ctx::new(prepared, policy, "create_webhook_with_secret"),
            state: CreateState::Start(create.into()),
        }
    }

    fn fetch(&mut self, id: WebhookId) -> Next<CreatedWebhook> {
        match self.ctx.call(GetWebhook::new(id.clone())) {
            Ok(mut call) => {
                let next = send(&mut call);
                self.state = CreateState::Fetch(id, call);
                next
            }
            Err(e) => Next::Done(CreatedWebhook::from_fetch(id, Err(e))),
        }
    }
}

impl Operation for CreateWebhookWithSecret<'_> {
    type Output = CreatedWebhook;

    fn span(&self) -> &Span {
        &self.ctx.span
    }

    fn resume(&mut self) -> Next<CreatedWebhook> {
        match mem::replace(&mut self.state, CreateState::Done) {
            CreateState::Start(create) => match self.ctx.call(create) {
                Ok(mut call) => {
                    let next = send(&mut call);
                    self.state = CreateState::Create(call);
                    next
                }
                Err(e) => Next::Done(Err(e)),
            },
            CreateState::Create(mut call) => {
                let next = send(&mut call);
                self.state = CreateState::Create(call);
                next
            }
            CreateState::Fetch(id, mut call) => {
                let next = send(&mut call);
                self.state = CreateState::Fetch(id, call);
                next
            }
            CreateState::Done => over(),
        }
    }

    fn receive(&mut self, response: Answer) -> Next<CreatedWebhook> {
        match mem::replace(&mut self.state, CreateState::Done) {
            CreateState::Create(mut call) => match call.finish(response) {
                Step::Retry(delay) => {
                    self.state = CreateState::Create(call);
                    Next::Sleep(delay)
                }
                Step::Done(Ok(id)) => self.fetch(id),
                Step::Done(Err(e)) => Next::Done(Err(e)),
            },
            CreateState::Fetch(id, mut call) => match call.finish(response) {
                Step::Retry(delay) => {
                    self.state = CreateState::Fetch(id, call);
                    Next::Sleep(delay)
                }
                Step::Done(result) => {
                    let secret = result.and_then(|w| plan::signing_secret(&w));
                    Next::Done(CreatedWebhook::from_fetch(id, secret))
                }
            },
            _ => over(),
        }
    }
}

/// `add_agent_events`: adds event types on a webhook to an agent, keeping the ones it has on
/// that webhook (the API only replaces: this reads, merges and writes). Refuses with
/// [`Error::ForeignSubscriptions`] when the agent is also subscribed to other webhooks, which
/// the write would remove, unless `force`. Ends with what was (or, when nothing was new,
/// would have been) sent.
#[derive(Debug)]
pub struct AddAgentEvents<'c> {
    ctx: Ctx<'c>,
    agent_id: AgentId,
    webhook_id: WebhookId,
    event_types: Vec<EventType>,
    force: bool,
    state: AddState<'c>,
}

// One call at a time lives in the state; boxing it would cost an allocation per step.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum AddState<'c> {
    Start,
    Read(Call<'c, GetAgentSubscriptions>),
    Write(AddEventsPlan, Call<'c, ReplaceAgentSubscriptions>),
    Done,
}

impl<'c> AddAgentEvents<'c> {
    /// The flow for this agent, webhook and event types.
    pub fn new(
        prepared: &'c Prepared,
        policy: &'c RetryPolicy,
        agent_id: impl Into<AgentId>,
        webhook_id: impl Into<WebhookId>,
        event_types: impl IntoIterator<Item = EventType>,
        force: bool,
    ) -> Self {
        Self {
            ctx: Ctx::new(prepared, policy, "add_agent_events"),
            agent_id: agent_id.into(),
            webhook_id: webhook_id.into(),
            event_types: event_types.into_iter().collect(),
            force,
            state: AddState::Start,
        }
    }

    fn start(&mut self) -> Result<Next<AddEventsPlan>, Error> {
        // Validate before the read, so that a bad argument costs no request.
        plan::plan_add_events(
            &self.agent_id,
            &self.webhook_id,
            &[],
            &self.event_types,
            true,
        )?;
        let mut call = self
            .ctx
            .call(GetAgentSubscriptions::new(self.agent_id.clone()))?;
        let next = send(&mut call);
        self.state = AddState::Read(call);
        Ok(next)
    }

    fn write(&mut self, current: &[WebhookSubscription]) -> Result<Next<AddEventsPlan>, Error> {
        let plan = plan::plan_add_events(
            &self.agent_id,
            &self.webhook_id,
            current,
            &self.event_types,
            self.force,
        )?;
        let Some(request) = plan.request.clone() else {
            return Ok(Next::Done(Ok(plan)));
        };
        let mut call = self.ctx.call(request)?;
        let next = send(&mut call);
        self.state = AddState::Write(plan, call);
        Ok(next)
    }
}

impl Operation for AddAgentEvents<'_> {
    type Output = AddEventsPlan;

    fn span(&self) -> &Span {
        &self.ctx.span
    }

    fn resume(&mut self) -> Next<AddEventsPlan> {
        match mem::replace(&mut self.state, AddState::Done) {
            AddState::Start => self.start().unwrap_or_else(|e| Next::Done(Err(e))),
            AddState::Read(mut call) => {
                let next = send(&mut call);
                self.state = AddState::Read(call);
                next
            }
            AddState::Write(plan, mut call) => {
                let next = send(&mut call);
                self.state = AddState::Write(plan, call);
                next
            }
            AddState::Done => over(),
        }
    }

    fn receive(&mut self, response: Answer) -> Next<AddEventsPlan> {
        match mem::replace(&mut self.state, AddState::Done) {
            AddState::Read(mut call) => match call.finish(response) {
                Step::Retry(delay) => {
                    self.state = AddState::Read(call);
                    Next::Sleep(delay)
                }
                Step::Done(Ok(current)) => {
                    self.write(&current).unwrap_or_else(|e| Next::Done(Err(e)))
                }
                Step::Done(Err(e)) => Next::Done(Err(e)),
            },
            AddState::Write(plan, mut call) => match call.finish(response) {
                Step::Retry(delay) => {
                    self.state = AddState::Write(plan, call);
                    Next::Sleep(delay)
                }
                Step::Done(result) => Next::Done(result.map(|_| plan)),
            },
            _ => over(),
        }
    }
}

/// `delete_webhook_cascade`: deletes a webhook after clearing the subscriptions of every
/// agent subscribed to it. Fetches the webhook (an answer about another webhook ends the flow
/// with [`Error::UnexpectedResponse`], before any write), reads each listed agent's
/// subscriptions, plans ([`plan::plan_cascade_delete`]: refuses with
/// [`Error::ForeignSubscriptions`] unless `force`), clears each agent, then deletes the
/// webhook. Every write and the report name the id the caller gave. A failure after a clear
/// is [`Error::CascadeIncomplete`], listing what was removed.
#[derive(Debug)]
pub struct DeleteWebhookCascade<'c> {
    ctx: Ctx<'c>,
    id: WebhookId,
    force: bool,
    state: CascadeState<'c>,
}

#[derive(Debug)]
enum CascadeState<'c> {
    Start,
    Fetch(Call<'c, GetWebhook>),
    Read {
        agents: Vec<AgentId>,
        per_agent: Vec<(AgentId, Vec<WebhookSubscription>)>,
        call: Call<'c, GetAgentSubscriptions>,
    },
    Clear {
        plan: CascadePlan,
        cleared: usize,
        call: Call<'c, ClearAgentSubscriptions>,
    },
    Delete {
        plan: CascadePlan,
        call: Call<'c, DeleteWebhook>,
    },
    Done,
}

impl<'c> DeleteWebhookCascade<'c> {
    /// The flow for the webhook `id`.
    pub fn new(
        prepared: &'c Prepared,
        policy: &'c RetryPolicy,
        id: impl Into<WebhookId>,
        force: bool,
    ) -> Self {
        Self {
            ctx: Ctx::new(prepared, policy, "delete_webhook_cascade"),
            id: id.into(),
            force,
            state: CascadeState::Start,
        }
    }

    /// Reads the next agent's subscriptions, or plans once all are read.
    fn read(
        &mut self,
        agents: Vec<AgentId>,
        per_agent: Vec<(AgentId, Vec<WebhookSubscription>)>,
    ) -> Result<Next<CascadeReport>, Error> {
        if per_agent.len() < agents.len() {
            let agent = agents[per_agent.len()].clone();
            let mut call = self.ctx.call(GetAgentSubscriptions::new(agent))?;
            let next = send(&mut call);
            self.state = CascadeState::Read {
                agents,
                per_agent,
                call,
            };
            return Ok(next);
        }
        let plan = plan::plan_cascade_delete(&self.id, &per_agent, self.force)?;
        Ok(self.clear(plan, 0))
    }

    /// Clears the next agent, or deletes once all are cleared.
    fn clear(&mut self, plan: CascadePlan, cleared: usize) -> Next<CascadeReport> {
        if let Some(clear) = plan.clears.get(cleared).cloned() {
            return match self.ctx.call(clear) {
                Ok(mut call) => {
                    let next = send(&mut call);
                    self.state = CascadeState::Clear {
                        plan,
                        cleared,
                        call,
                    };
                    next
                }
                Err(e) => Next::Done(Err(plan.incomplete(cleared, e))),
            };
        }
        match self.ctx.call(plan.delete.clone()) {
            Ok(mut call) => {
                let next = send(&mut call);
                self.state = CascadeState::Delete { plan, call };
                next
            }
            Err(e) => Next::Done(plan.finish(Err(e))),
        }
    }
}

impl Operation for DeleteWebhookCascade<'_> {
    type Output = CascadeReport;

    fn span(&self) -> &Span {
        &self.ctx.span
    }

    fn resume(&mut self) -> Next<CascadeReport> {
        match mem::replace(&mut self.state, CascadeState::Done) {
            CascadeState::Start => match self.ctx.call(GetWebhook::new(self.id.clone())) {
                Ok(mut call) => {
                    let next = send(&mut call);
                    self.state = CascadeState::Fetch(call);
                    next
                }
                Err(e) => Next::Done(Err(e)),
            },
            CascadeState::Fetch(mut call) => {
                let next = send(&mut call);
                self.state = CascadeState::Fetch(call);
                next
            }
            CascadeState::Read {
                agents,
                per_agent,
                mut call,
            } => {
                let next = send(&mut call);
                self.state = CascadeState::Read {
                    agents,
                    per_agent,
                    call,
                };
                next
            }
            CascadeState::Clear {
                plan,
                cleared,
                mut call,
            } => {
                let next = send(&mut call);
                self.state = CascadeState::Clear {
                    plan,
                    cleared,
                    call,
                };
                next
            }
            CascadeState::Delete { plan, mut call } => {
                let next = send(&mut call);
                self.state = CascadeState::Delete { plan, call };
                next
            }
            CascadeState::Done => over(),
        }
    }

    fn receive(&mut self, response: Answer) -> Next<CascadeReport> {
        match mem::replace(&mut self.state, CascadeState::Done) {
            CascadeState::Fetch(mut call) => match call.finish(response) {
                Step::Retry(delay) => {
                    self.state = CascadeState::Fetch(call);
                    Next::Sleep(delay)
                }
                // The call checked that the answer is about `self.id`.
                Step::Done(Ok(webhook)) => plan::cascade_agents(&webhook)
                    .and_then(|agents| self.read(agents, Vec::new()))
                    .unwrap_or_else(|e| Next::Done(Err(e))),
                Step::Done(Err(e)) => Next::Done(Err(e)),
            },
            CascadeState::Read {
                agents,
                mut per_agent,
                mut call,
            } => match call.finish(response) {
                Step::Retry(delay) => {
                    self.state = CascadeState::Read {
                        agents,
                        per_agent,
                        call,
                    };
                    Next::Sleep(delay)
                }
                Step::Done(Ok(subscriptions)) => {
                    per_agent.push((call.endpoint().agent_id.clone(), subscriptions));
                    self.read(agents, per_agent)
                        .unwrap_or_else(|e| Next::Done(Err(e)))
                }
                Step::Done(Err(e)) => Next::Done(Err(e)),
            },
            CascadeState::Clear {
                plan,
                cleared,
                mut call,
            } => match call.finish(response) {
                Step::Retry(delay) => {
                    self.state = CascadeState::Clear {
                        plan,
                        cleared,
                        call,
                    };
                    Next::Sleep(delay)
                }
                Step::Done(Ok(_)) => self.clear(plan, cleared + 1),
                Step::Done(Err(e)) => Next::Done(Err(plan.incomplete(cleared, e))),
            },
            CascadeState::Delete { plan, mut call } => match call.finish(response) {
                Step::Retry(delay) => {
                    self.state = CascadeState::Delete { plan, call };
                    Next::Sleep(delay)
                }
                Step::Done(result) => Next::Done(plan.finish(result)),
            },
            _ => over(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::*;
    use crate::config::{Config, Jitter, RetryConfig};
    use atoms_webhook_models::CreateWebhookRequest;

    const W: &str = "64f0c0ffee0000000000aaaa";
    const OTHER: &str = "64f0c0ffee0000000000bbbb";
    const A: &str = "60d0fe4f5311236168a109ca";

    fn answer(status: u16, body: &str) -> Answer {
        Ok(Response::builder()
            .status(status)
            .body(body.as_bytes().to_vec())
            .unwrap())
    }

    fn webhook(id: &str) -> String {
        format!(
            r#"{{"status":true,"data":{{"_id":"{id}","decryptedSecretKey":"whsec-of-{id}","subscriptions":[{{"_id":"p","agentId":"{A}"}}]}}}}"#
        )
    }

    /// Drives `op` against a script; returns the result, the requests sent and the sleeps.
    fn drive<O: Operation>(
        mut op: O,
        script: Vec<Answer>,
    ) -> (Result<O::Output, Error>, Vec<String>, Vec<Duration>) {
        let mut script = VecDeque::from(script);
        let (mut sent, mut slept) = (Vec::new(), Vec::new());
        let mut next = op.resume();
        loop {
            next = match next {
                Next::Send(r) => {
                    sent.push(format!("{} {}", r.method(), r.uri().path()));
                    op.receive(script.pop_front().unwrap_or_else(|| answer(418, "")))
                }
                Next::Sleep(d) => {
                    slept.push(d);
                    op.resume()
                }
                Next::Done(r) => {
                    assert!(matches!(op.resume(), Next::Done(Err(_))));
                    return (r, sent, slept);
                }
            }
        }
    }

    fn setup() -> (Prepared, RetryPolicy) {
        let config = Config::new("k")
            .base_url("http://127.0.0.1:1")
            .retry(RetryConfig::default().jitter(Jitter::None));
        (
            Prepared::new(&config).unwrap(),
            RetryPolicy::new(config.retry),
        )
    }

    #[test]
    fn cascade_stops_before_any_write_when_the_answer_is_another_webhook() {
        let (p, policy) = setup();
        let (result, sent, _) = drive(
            DeleteWebhookCascade::new(&p, &policy, W, true),
            vec![answer(200, &webhook(OTHER))],
        );
        let err = result.unwrap_err();
        let Error::UnexpectedResponse {
            requested,
            received,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!((requested.as_str(), received.as_str()), (W, OTHER));
        assert!(!format!("{err} {err:?}").contains("whsec"), "{err:?}");
        assert!(err.is_bad_response());
        assert_eq!(sent, ["GET /webhook"]);
    }

    #[test]
    fn cascade_retries_inside_and_names_the_requested_id() {
        let (p, policy) = setup();
        let subs = format!(
            r#"{{"status":true,"data":[{{"_id":"s","agentId":"{A}","webhookId":"{W}","eventType":"pre-conversation"}}]}}"#
        );
        let (result, sent, slept) = drive(
            DeleteWebhookCascade::new(&p, &policy, W, false),
            vec![
                answer(503, ""),
                answer(200, &webhook(W)),
                answer(200, &subs),
                answer(502, ""),
                answer(200, r#"{"status":true,"data":"cleared"}"#),
                answer(200, r#"{"status":true,"data":"deleted"}"#),
            ],
        );
        let report = result.unwrap();
        assert_eq!(report.webhook_id.as_str(), W);
        assert_eq!(report.message, "deleted");
        assert_eq!(sent.len(), 6);
        assert_eq!(sent[5], format!("DELETE /webhook/{W}"));
        assert_eq!(slept, [Duration::from_millis(250); 2]);
    }

    #[test]
    fn cascade_failing_on_a_clear_reports_what_was_removed() {
        let (p, policy) = setup();
        let subs = format!(
            r#"{{"status":true,"data":[{{"_id":"s","agentId":"{A}","webhookId":"{W}","eventType":"pre-conversation"}}]}}"#
        );
        let (result, sent, _) = drive(
            DeleteWebhookCascade::new(&p, &policy, W, false),
            vec![
                answer(200, &webhook(W)),
                answer(200, &subs),
                answer(400, r#"{"status":false,"errors":["no"]}"#),
            ],
        );
        let Err(Error::CascadeIncomplete { report, .. }) = result else {
            panic!("{result:?}")
        };
        assert!(report.agents.is_empty());
        assert_eq!(sent.len(), 3);
    }

    #[test]
    fn cascade_refuses_agent_ids_that_cannot_be_used() {
        let (p, policy) = setup();
        let body = format!(
            r#"{{"status":true,"data":{{"_id":"{W}","subscriptions":[{{"_id":"p","agentId":"a b"}}]}}}}"#
        );
        let (result, sent, _) = drive(
            DeleteWebhookCascade::new(&p, &policy, W, false),
            vec![answer(200, &body)],
        );
        let err = result.unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        assert!(err.is_bad_response());
        assert_eq!(sent.len(), 1);
    }

    #[test]
    fn signing_secret_of_another_webhook_is_never_returned() {
        let (p, policy) = setup();
        let (result, _, _) = drive(
            GetSigningSecret::new(&p, &policy, W),
            vec![answer(200, &webhook(OTHER))],
        );
        assert!(matches!(result, Err(Error::UnexpectedResponse { .. })));
        let (result, _, _) = drive(
            GetSigningSecret::new(&p, &policy, W),
            vec![answer(200, &webhook(W))],
        );
        assert_eq!(result.unwrap().expose(), format!("whsec-of-{W}"));
    }

    #[test]
    fn create_with_secret_checks_the_fetched_webhook_and_the_new_id() {
        let (p, policy) = setup();
        let create = CreateWebhookRequest::new("https://example.com/h", "");
        let created = format!(r#"{{"status":true,"data":"{W}"}}"#);
        let (result, sent, _) = drive(
            CreateWebhookWithSecret::new(&p, &policy, create.clone()),
            vec![answer(201, &created), answer(200, &webhook(OTHER))],
        );
        let Err(Error::CreatedWithoutSecret { id, source }) = &result else {
            panic!("{result:?}")
        };
        assert_eq!(id.as_str(), W);
        assert!(matches!(**source, Error::UnexpectedResponse { .. }));
        assert_eq!(sent, ["POST /webhook", "GET /webhook"]);

        let (result, sent, _) = drive(
            CreateWebhookWithSecret::new(&p, &policy, create.clone()),
            vec![answer(201, r#"{"status":true,"data":"64f0 c0ffee"}"#)],
        );
        let err = result.unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        assert_eq!(sent.len(), 1);

        let (result, _, _) = drive(
            CreateWebhookWithSecret::new(&p, &policy, create),
            vec![answer(201, &created), answer(200, &webhook(W))],
        );
        assert_eq!(result.unwrap().secret.expose(), format!("whsec-of-{W}"));
    }

    #[test]
    fn add_events_reads_plans_and_writes() {
        let (p, policy) = setup();
        let subs = format!(
            r#"{{"status":true,"data":[{{"_id":"s","agentId":"{A}","webhookId":"{W}","eventType":"pre-conversation"}}]}}"#
        );
        let (result, sent, _) = drive(
            AddAgentEvents::new(&p, &policy, A, W, [EventType::PostConversation], false),
            vec![
                answer(200, &subs),
                answer(201, r#"{"status":true,"data":"ok"}"#),
            ],
        );
        let plan = result.unwrap();
        assert_eq!(
            plan.event_types,
            [EventType::PreConversation, EventType::PostConversation]
        );
        assert_eq!(sent[1], format!("POST /agent/{A}/webhook-subscriptions"));

        let (result, sent, _) = drive(AddAgentEvents::new(&p, &policy, A, W, [], false), vec![]);
        assert!(matches!(result, Err(Error::Validation(_))));
        assert!(sent.is_empty());
    }
}
