//! The operations of several requests, written once as sans-IO state machines: each is an
//! [`Operation`] that yields "send this request" and "sleep this long" (retries stay inside,
//! through [`Call`]) and ends with its typed result. The clients drive them; so can any other
//! HTTP client (see the crate documentation).
//!
//! Every flow acts on the ids its caller named. An answer about another webhook ends it with
//! [`Error::UnexpectedResponse`] before anything is written.
//!
//! Each state of a flow that waits on the server holds one [`Stage`]: the call in flight and
//! what the flow keeps until it ends. The stage does the sending, the retries and the putting
//! back into the state, so that each flow reads as its steps only.

use std::mem;

use atoms_webhook_models::{AgentId, EventType, SigningSecret, WebhookId, WebhookSubscription};
use bytes::Bytes;
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

type Answer = Result<Response<Bytes>, Error>;

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

    /// Starts a call of `endpoint` as the stage `wrap` of `state` (keeping `keep` beside it)
    /// and yields its first attempt. A call refused before sending leaves `state` as it is.
    fn open<R: Endpoint, K, S, T>(
        &self,
        endpoint: R,
        keep: K,
        state: &mut S,
        wrap: fn(Stage<'c, R, K>) -> S,
    ) -> Result<Next<T>, Error> {
        let call = self.call(endpoint)?;
        Ok(Stage { call, keep }.send(state, wrap))
    }
}

/// The one call a flow has in flight, and what the flow keeps beside it until the call ends.
#[derive(Debug)]
struct Stage<'c, R: Endpoint, K = ()> {
    call: Call<'c, R>,
    keep: K,
}

/// What came of an answer to a stage's attempt.
enum Answered<K, O, T> {
    /// The call retries: the stage is back in its state; yield this sleep.
    Again(Next<T>),
    /// The call is over: what the stage kept, and the call's result.
    Over(K, Result<O, Error>),
}

impl<'c, R: Endpoint, K> Stage<'c, R, K> {
    /// Yields the next attempt, putting the stage back into `state` as `wrap`.
    fn send<S, T>(mut self, state: &mut S, wrap: fn(Self) -> S) -> Next<T> {
        let next = Next::Send(self.call.request());
        *state = wrap(self);
        next
    }

    /// Hands the answer to the call. A retry puts the stage back into `state` as `wrap` and
    /// sleeps; the end gives back what was kept and the result.
    fn receive<S, T>(
        mut self,
        response: Answer,
        state: &mut S,
        wrap: fn(Self) -> S,
    ) -> Answered<K, R::Output, T> {
        match self.call.finish(response) {
            Step::Retry(delay) => {
                *state = wrap(self);
                Answered::Again(Next::Sleep(delay))
            }
            Step::Done(result) => Answered::Over(self.keep, result),
        }
    }
}

/// A step that failed before it could yield anything ends the flow with its error.
fn or_end<T>(step: Result<Next<T>, Error>) -> Next<T> {
    step.unwrap_or_else(|e| Next::Done(Err(e)))
}

/// A flow driven again after it ended: a bug of the driver, reported rather than panicking.
fn over<T>() -> Next<T> {
    Next::Done(Err(ValidationError::new(
        "operation",
        "was driven again after it ended",
    )
    .into()))
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
    Fetch(Stage<'c, GetWebhook>),
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
        let state = &mut self.state;
        match mem::replace(state, SecretState::Done) {
            SecretState::Start(id) => {
                let fetch = GetWebhook::new(id);
                or_end(self.ctx.open(fetch, (), state, SecretState::Fetch))
            }
            SecretState::Fetch(stage) => stage.send(state, SecretState::Fetch),
            SecretState::Done => over(),
        }
    }

    fn receive(&mut self, response: Answer) -> Next<SigningSecret> {
        let state = &mut self.state;
        match mem::replace(state, SecretState::Done) {
            SecretState::Fetch(stage) => match stage.receive(response, state, SecretState::Fetch) {
                Answered::Again(next) => next,
                Answered::Over((), result) => {
                    Next::Done(result.and_then(|w| plan::signing_secret(&w)))
                }
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
    Create(Stage<'c, CreateWebhook>),
    Fetch(Stage<'c, GetWebhook, WebhookId>),
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
        let fetch = GetWebhook::new(id.clone());
        match self.ctx.call(fetch) {
            Ok(call) => Stage { call, keep: id }.send(&mut self.state, CreateState::Fetch),
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
        let state = &mut self.state;
        match mem::replace(state, CreateState::Done) {
            CreateState::Start(create) => {
                or_end(self.ctx.open(create, (), state, CreateState::Create))
            }
            CreateState::Create(stage) => stage.send(state, CreateState::Create),
            CreateState::Fetch(stage) => stage.send(state, CreateState::Fetch),
            CreateState::Done => over(),
        }
    }

    fn receive(&mut self, response: Answer) -> Next<CreatedWebhook> {
        let state = &mut self.state;
        match mem::replace(state, CreateState::Done) {
            CreateState::Create(stage) => match stage.receive(response, state, CreateState::Create)
            {
                Answered::Again(next) => next,
                Answered::Over((), Ok(id)) => self.fetch(id),
                Answered::Over((), Err(e)) => Next::Done(Err(e)),
            },
            CreateState::Fetch(stage) => match stage.receive(response, state, CreateState::Fetch) {
                Answered::Again(next) => next,
                Answered::Over(id, result) => {
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
    Read(Stage<'c, GetAgentSubscriptions>),
    Write(Stage<'c, ReplaceAgentSubscriptions, AddEventsPlan>),
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
        let read = GetAgentSubscriptions::new(self.agent_id.clone());
        self.ctx.open(read, (), &mut self.state, AddState::Read)
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
        self.ctx
            .open(request, plan, &mut self.state, AddState::Write)
    }
}

impl Operation for AddAgentEvents<'_> {
    type Output = AddEventsPlan;

    fn span(&self) -> &Span {
        &self.ctx.span
    }

    fn resume(&mut self) -> Next<AddEventsPlan> {
        let state = &mut self.state;
        match mem::replace(state, AddState::Done) {
            AddState::Start => or_end(self.start()),
            AddState::Read(stage) => stage.send(state, AddState::Read),
            AddState::Write(stage) => stage.send(state, AddState::Write),
            AddState::Done => over(),
        }
    }

    fn receive(&mut self, response: Answer) -> Next<AddEventsPlan> {
        let state = &mut self.state;
        match mem::replace(state, AddState::Done) {
            AddState::Read(stage) => match stage.receive(response, state, AddState::Read) {
                Answered::Again(next) => next,
                Answered::Over((), Ok(current)) => or_end(self.write(&current)),
                Answered::Over((), Err(e)) => Next::Done(Err(e)),
            },
            AddState::Write(stage) => match stage.receive(response, state, AddState::Write) {
                Answered::Again(next) => next,
                Answered::Over(plan, result) => Next::Done(result.map(|_| plan)),
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

/// The agents listed on the webhook, and the subscriptions of those read so far.
type Reads = (Vec<AgentId>, Vec<(AgentId, Vec<WebhookSubscription>)>);

#[derive(Debug)]
enum CascadeState<'c> {
    Start,
    Fetch(Stage<'c, GetWebhook>),
    Read(Stage<'c, GetAgentSubscriptions, Reads>),
    /// The plan, and how many of its clears are done.
    Clear(Stage<'c, ClearAgentSubscriptions, (CascadePlan, usize)>),
    Delete(Stage<'c, DeleteWebhook, CascadePlan>),
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
        if let Some(agent) = agents.get(per_agent.len()).cloned() {
            let read = GetAgentSubscriptions::new(agent);
            let reads = (agents, per_agent);
            return self
                .ctx
                .open(read, reads, &mut self.state, CascadeState::Read);
        }
        let plan = plan::plan_cascade_delete(&self.id, &per_agent, self.force)?;
        Ok(self.clear(plan, 0))
    }

    /// Clears the next agent, or deletes once all are cleared.
    fn clear(&mut self, plan: CascadePlan, cleared: usize) -> Next<CascadeReport> {
        let state = &mut self.state;
        if let Some(clear) = plan.clears.get(cleared).cloned() {
            return match self.ctx.call(clear) {
                Ok(call) => Stage {
                    call,
                    keep: (plan, cleared),
                }
                .send(state, CascadeState::Clear),
                Err(e) => Next::Done(Err(plan.incomplete(cleared, e))),
            };
        }
        match self.ctx.call(plan.delete.clone()) {
            Ok(call) => Stage { call, keep: plan }.send(state, CascadeState::Delete),
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
        let state = &mut self.state;
        match mem::replace(state, CascadeState::Done) {
            CascadeState::Start => {
                let fetch = GetWebhook::new(self.id.clone());
                or_end(self.ctx.open(fetch, (), state, CascadeState::Fetch))
            }
            CascadeState::Fetch(stage) => stage.send(state, CascadeState::Fetch),
            CascadeState::Read(stage) => stage.send(state, CascadeState::Read),
            CascadeState::Clear(stage) => stage.send(state, CascadeState::Clear),
            CascadeState::Delete(stage) => stage.send(state, CascadeState::Delete),
            CascadeState::Done => over(),
        }
    }

    fn receive(&mut self, response: Answer) -> Next<CascadeReport> {
        let state = &mut self.state;
        match mem::replace(state, CascadeState::Done) {
            CascadeState::Fetch(stage) => match stage.receive(response, state, CascadeState::Fetch)
            {
                Answered::Again(next) => next,
                // The call checked that the answer is about `self.id`.
                Answered::Over((), Ok(webhook)) => or_end(
                    plan::cascade_agents(&webhook).and_then(|agents| self.read(agents, Vec::new())),
                ),
                Answered::Over((), Err(e)) => Next::Done(Err(e)),
            },
            CascadeState::Read(stage) => {
                let agent = stage.call.endpoint().agent_id.clone();
                match stage.receive(response, state, CascadeState::Read) {
                    Answered::Again(next) => next,
                    Answered::Over((agents, mut per_agent), Ok(subscriptions)) => {
                        per_agent.push((agent, subscriptions));
                        or_end(self.read(agents, per_agent))
                    }
                    Answered::Over(_, Err(e)) => Next::Done(Err(e)),
                }
            }
            CascadeState::Clear(stage) => match stage.receive(response, state, CascadeState::Clear)
            {
                Answered::Again(next) => next,
                Answered::Over((plan, cleared), Ok(_)) => self.clear(plan, cleared + 1),
                Answered::Over((plan, cleared), Err(e)) => {
                    Next::Done(Err(plan.incomplete(cleared, e)))
                }
            },
            CascadeState::Delete(stage) => {
                match stage.receive(response, state, CascadeState::Delete) {
                    Answered::Again(next) => next,
                    Answered::Over(plan, result) => Next::Done(plan.finish(result)),
                }
            }
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
            .body(Bytes::copy_from_slice(body.as_bytes()))
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
