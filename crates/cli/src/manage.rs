//! The commands that call the REST API: `webhooks`, `subscriptions` and `secret`.

use atoms_webhook_blocking::{ApiErrorKind, CascadeReport, Client, Error, ForeignSubscriptions};
use atoms_webhook_models::{
    CreateWebhookRequest, EventType, UpdateWebhookRequest, Webhook, WebhookSubscription,
};
use serde_json::{json, Value};

use crate::cli::{
    flatten_events, AddArgs, CreateArgs, DeleteArgs, GlobalArgs, SecretArgs, SetArgs,
    SubscriptionsCmd, UpdateArgs, WebhooksCmd,
};
use crate::error::{api_error, CliError, Subject, Target};
use crate::output::{self, Cell, Style, Table, REDACTED};

/// A client for the global options, and what its errors need to name.
pub struct Api {
    client: Client,
    target: Target,
}

impl Api {
    /// Builds the client from `--base-url`, `--api-key` and `--timeout` (or their variables).
    pub fn new(global: &GlobalArgs) -> Result<Self, CliError> {
        let key = global
            .api_key()
            .ok_or_else(|| CliError::usage("no API key: pass --api-key or set SMALLEST_API_KEY"))?;
        Self::with_key(global, key)
    }

    /// Builds the client with an explicit key (the demo uses its emulator's).
    pub fn with_key(global: &GlobalArgs, key: &str) -> Result<Self, CliError> {
        let target = Target {
            base_url: global.api_base_url().to_owned(),
            timeout: global.api_timeout(),
        };
        let client = Client::new(global.api_config(key))
            .map_err(|e| api_error(&e, Subject::None, &target))?;
        Ok(Self { client, target })
    }

    /// The blocking client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The one-line error for a failed call about `subject`.
    pub fn fail(&self, e: &Error, subject: Subject<'_>) -> CliError {
        api_error(e, subject, &self.target)
    }
}

/// `webhooks ...`.
pub fn webhooks(global: &GlobalArgs, cmd: WebhooksCmd) -> Result<(), CliError> {
    let api = Api::new(global)?;
    match cmd {
        WebhooksCmd::List => list(&api, global.json),
        WebhooksCmd::Get { id } => get(&api, &id, global.json),
        WebhooksCmd::Create(args) => create(&api, args, global.json),
        WebhooksCmd::Update(args) => update(&api, args, global.json),
        WebhooksCmd::Delete(args) => delete(&api, args, global.json),
    }
}

/// `subscriptions ...`.
pub fn subscriptions(global: &GlobalArgs, cmd: SubscriptionsCmd) -> Result<(), CliError> {
    let api = Api::new(global)?;
    match cmd {
        SubscriptionsCmd::Get { agent } => subscriptions_get(&api, &agent, global.json),
        SubscriptionsCmd::Set(args) => subscriptions_set(&api, args, global.json),
        SubscriptionsCmd::Add(args) => subscriptions_add(&api, args, global.json),
        SubscriptionsCmd::Clear { agent } => subscriptions_clear(&api, &agent, global.json),
    }
}

/// `secret ID`: the one command that prints a signing secret.
pub fn secret(global: &GlobalArgs, args: SecretArgs) -> Result<(), CliError> {
    let api = Api::new(global)?;
    let secret = api
        .client()
        .signing_secret(args.id.as_str())
        .map_err(|e| api.fail(&e, Subject::Webhook(&args.id)))?;
    if global.json {
        output::json_pretty(&json!({ "id": args.id, "secret": secret.expose() }))
    } else {
        output::line(secret.expose())
    }
}

/// Distinct event types of a webhook's subscriptions, in order of appearance.
fn webhook_events(w: &Webhook) -> Vec<EventType> {
    let mut out: Vec<EventType> = Vec::new();
    for e in w
        .subscription_list()
        .iter()
        .filter_map(|s| s.event_type.clone())
    {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

fn status_cell(w: &Webhook) -> Cell {
    match &w.status {
        Some(s) if w.is_enabled() => Cell::styled(s.as_str(), Style::green),
        Some(s) => Cell::styled(s.as_str(), Style::yellow),
        None => Cell::plain("-"),
    }
}

fn event_names(events: &[EventType]) -> String {
    if events.is_empty() {
        "-".to_owned()
    } else {
        events
            .iter()
            .map(EventType::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn list(api: &Api, json: bool) -> Result<(), CliError> {
    let webhooks = api
        .client()
        .list_webhooks()
        .map_err(|e| api.fail(&e, Subject::None))?;
    if json {
        let items: Vec<Value> = webhooks.iter().map(output::redacted_webhook).collect();
        return output::json_pretty(&Value::Array(items));
    }
    if webhooks.is_empty() {
        return output::line("no webhooks");
    }
    let mut table = Table::new(&["ID", "URL", "STATUS", "AGENTS", "EVENTS", "SECRET"]);
    for w in &webhooks {
        let secret = if w.signing_secret().is_some() {
            REDACTED
        } else {
            "-"
        };
        table.row(vec![
            Cell::styled(w.id.as_str(), Style::cyan),
            Cell::plain(w.url.as_deref().unwrap_or("-")),
            status_cell(w),
            Cell::plain(w.agent_ids().len().to_string()),
            Cell::plain(event_names(&webhook_events(w))),
            Cell::styled(secret, Style::dim),
        ]);
    }
    output::print(&table.render(Style::stdout()))
}

fn get(api: &Api, id: &str, json: bool) -> Result<(), CliError> {
    let w = api
        .client()
        .get_webhook(id)
        .map_err(|e| api.fail(&e, Subject::Webhook(id)))?;
    if json {
        return output::json_pretty(&output::redacted_webhook(&w));
    }
    output::print(&render_webhook(&w, Style::stdout()))
}

/// The `get` view of a webhook: one field a line, then its subscriptions grouped by agent.
fn render_webhook(w: &Webhook, style: Style) -> String {
    let mut fields: Vec<(&str, String)> = vec![
        ("id", w.id.to_string()),
        ("url", w.url.clone().unwrap_or_else(|| "-".into())),
        (
            "description",
            w.description.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            "status",
            w.status
                .as_ref()
                .map_or("-".into(), |s| s.as_str().to_owned()),
        ),
    ];
    let secret = if w.signing_secret().is_some() {
        format!("{REDACTED}  (print it with: atoms-webhook secret {})", w.id)
    } else {
        "-".to_owned()
    };
    fields.push(("secret", secret));
    let headers = w.custom_headers();
    if !headers.is_empty() {
        let names: Vec<String> = headers
            .iter()
            .map(|(k, _)| format!("{k}: {REDACTED}"))
            .collect();
        fields.push(("headers", names.join(", ")));
    }
    if let Some(t) = &w.created_at {
        fields.push(("created", t.as_str().to_owned()));
    }
    if let Some(t) = &w.updated_at {
        fields.push(("updated", t.as_str().to_owned()));
    }
    let mut out = String::new();
    for (name, value) in &fields {
        out.push_str(&style.bold(&format!("{name:<12}")));
        out.push_str(value);
        out.push('\n');
    }
    // Group subscriptions by agent, keeping order of first appearance.
    let mut agents: Vec<(String, Option<String>, Vec<EventType>)> = Vec::new();
    for s in w.subscription_list() {
        let Some(agent) = &s.agent else { continue };
        let id = agent.id().to_string();
        let entry = match agents.iter_mut().position(|(a, _, _)| *a == id) {
            Some(i) => &mut agents[i],
            None => {
                agents.push((id, agent.name().map(str::to_owned), Vec::new()));
                let last = agents.len() - 1;
                &mut agents[last]
            }
        };
        if let Some(e) = &s.event_type {
            if !entry.2.contains(e) {
                entry.2.push(e.clone());
            }
        }
    }
    out.push_str(&style.bold(&format!("{:<12}", "agents")));
    out.push_str(&agents.len().to_string());
    out.push('\n');
    for (id, name, events) in &agents {
        let name = name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}{name}  {}\n",
            style.cyan(id),
            event_names(events)
        ));
    }
    out
}

fn create(api: &Api, args: CreateArgs, json: bool) -> Result<(), CliError> {
    let mut request = CreateWebhookRequest::new(args.url.as_str(), args.description.as_str());
    for spec in &args.events {
        let agent = match (&spec.agent, &args.agent) {
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => {
                return Err(CliError::usage(
                    "--event without an AGENT: prefix needs --agent (see --help)",
                ))
            }
        };
        for e in &spec.events {
            let duplicate = request
                .events
                .iter()
                .any(|s| s.agent_id.as_str() == agent && &s.event_type == e);
            if !duplicate {
                request = request.event(agent.as_str(), e.clone());
            }
        }
    }
    if args.agent.is_some() && args.events.is_empty() {
        return Err(CliError::usage(
            "--agent needs at least one --event (e.g. --event all)",
        ));
    }
    let id = api.client().create_webhook(request).map_err(|e| {
        if e.api_kind() == Some(ApiErrorKind::UrlAlreadyRegistered) {
            CliError::failure(format!(
                "a webhook with URL {} is already registered (see `atoms-webhook webhooks list`)",
                args.url
            ))
        } else if matches!(e, Error::InvalidResponse { .. }) {
            // The server said it created something, under an id we cannot use.
            let base = api.fail(&e, Subject::None);
            CliError::failure(format!(
                "{}; the webhook was probably created: check `atoms-webhook webhooks list`",
                base.message_text()
            ))
        } else if e.is_timeout() || (matches!(e, Error::Transport { .. }) && !e.is_connect()) {
            // The request may have reached the server: it is not retried, and the user must
            // look before creating again.
            let base = api.fail(&e, Subject::None);
            CliError::failure(format!(
                "{}; the webhook may have been created: check `atoms-webhook webhooks list` before retrying",
                base.message_text()
            ))
        } else {
            api.fail(&e, Subject::None)
        }
    })?;
    if json {
        output::json_pretty(&json!({ "id": id }))
    } else {
        output::line(id.as_str())
    }
}

fn update(api: &Api, args: UpdateArgs, json: bool) -> Result<(), CliError> {
    let mut request = UpdateWebhookRequest::new();
    if let Some(url) = &args.url {
        request = request.endpoint(url.as_str());
    }
    if let Some(d) = &args.description {
        request = request.description(d.as_str());
    }
    if args.clear_headers {
        request = request.clear_headers();
    } else if !args.headers.is_empty() {
        request = request.headers(args.headers.clone());
    }
    let id = api
        .client()
        .update_webhook(args.id.as_str(), request)
        .map_err(|e| {
            if e.api_kind() == Some(ApiErrorKind::UrlAlreadyRegistered) {
                CliError::failure(format!(
                    "another webhook already has URL {}",
                    args.url.as_deref().unwrap_or("?")
                ))
            } else {
                api.fail(&e, Subject::Webhook(&args.id))
            }
        })?;
    if json {
        output::json_pretty(&json!({ "id": id, "updated": true }))
    } else {
        output::line(format!("updated webhook {id}"))
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn delete(api: &Api, args: DeleteArgs, json: bool) -> Result<(), CliError> {
    let id = args.id.as_str();
    if args.cascade {
        return delete_cascade(api, id, args.yes, json);
    }
    match api.client().delete_webhook(id) {
        Ok(message) => {
            if json {
                output::json_pretty(&json!({ "id": id, "deleted": true, "message": message }))
            } else {
                output::line(format!("deleted webhook {id}"))
            }
        }
        Err(e) if e.api_kind() == Some(ApiErrorKind::WebhookStillAssigned) => {
            // The API's message does not say how many; one more read does.
            let agents = match api.client().get_webhook(id) {
                Ok(w) => plural(w.agent_ids().len(), "agent", "agents"),
                Err(_) => "one or more agents".to_owned(),
            };
            Err(CliError::failure(format!(
                "webhook {id} is still assigned to {agents}; use --cascade"
            )))
        }
        Err(e) => Err(api.fail(&e, Subject::Webhook(id))),
    }
}

fn delete_cascade(api: &Api, id: &str, yes: bool, json: bool) -> Result<(), CliError> {
    let report = match api.client().delete_webhook_cascade(id, yes) {
        Ok(report) => report,
        Err(Error::ForeignSubscriptions(f)) => return Err(foreign_refusal(&f, id)),
        // Part of the work is done and cannot be undone: say what, with the cause.
        Err(Error::CascadeIncomplete { report, source }) => {
            let cause = api.fail(&source, Subject::Webhook(id));
            return Err(CliError::failure(format!(
                "cascade delete of webhook {id} stopped after clearing {} ({} removed); the \
                 webhook may still exist: {}",
                plural(report.agents.len(), "agent", "agents"),
                plural(report.removed_count(), "subscription", "subscriptions"),
                cause.message_text()
            )));
        }
        Err(e) if e.is_bad_response() => {
            let cause = api.fail(&e, Subject::Webhook(id));
            return Err(CliError::failure(format!(
                "refusing to delete webhook {id}: {}; nothing was changed",
                cause.message_text()
            )));
        }
        Err(e) => return Err(api.fail(&e, Subject::Webhook(id))),
    };
    if json {
        return output::json_pretty(&cascade_json(&report));
    }
    let other: usize = report.agents.iter().map(|a| a.removed_other.len()).sum();
    let mut text = format!(
        "deleted webhook {id}: cleared {}, removed {}",
        plural(report.agents.len(), "agent", "agents"),
        plural(report.removed_count(), "subscription", "subscriptions"),
    );
    if other > 0 {
        text.push_str(&format!(" ({other} of them to other webhooks)"));
    }
    text.push('\n');
    for a in &report.agents {
        let mine: Vec<EventType> = a
            .removed
            .iter()
            .filter_map(|s| s.event_type.clone())
            .collect();
        text.push_str(&format!("  agent {}: {}", a.agent_id, event_names(&mine)));
        if !a.removed_other.is_empty() {
            text.push_str(&format!(" (+{} on other webhooks)", a.removed_other.len()));
        }
        text.push('\n');
    }
    output::print(&text)
}

fn cascade_json(report: &CascadeReport) -> Value {
    let agents: Vec<Value> = report
        .agents
        .iter()
        .map(|a| {
            json!({
                "agentId": a.agent_id,
                "removed": a.removed.iter().filter_map(|s| s.event_type.clone()).collect::<Vec<_>>(),
                "removedOther": a.removed_other.iter().map(sub_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "id": report.webhook_id,
        "deleted": true,
        "agentsCleared": report.agents.len(),
        "subscriptionsRemoved": report.removed_count(),
        "agents": agents,
        "message": report.message,
    })
}

fn sub_json(s: &WebhookSubscription) -> Value {
    json!({ "webhookId": s.webhook_id, "eventType": s.event_type })
}

/// The refusal of a cascade delete (`--yes`) or an add (`--force`), on one line.
fn foreign_refusal(f: &ForeignSubscriptions, webhook: &str) -> CliError {
    let subs: usize = f.agents.iter().map(|a| a.subscriptions.len()).sum();
    CliError::failure(format!(
        "refusing to delete webhook {webhook}: {} also {} {} to other webhooks, which \
         clearing would remove (the API clears an agent's subscriptions as a whole); add --yes \
         to delete anyway",
        plural(f.agents.len(), "agent", "agents"),
        if f.agents.len() == 1 { "has" } else { "have" },
        plural(subs, "subscription", "subscriptions"),
    ))
}

fn subscriptions_get(api: &Api, agent: &str, json: bool) -> Result<(), CliError> {
    let subs = api
        .client()
        .agent_subscriptions(agent)
        .map_err(|e| api.fail(&e, Subject::Agent(agent)))?;
    if json {
        let value = serde_json::to_value(&subs)
            .map_err(|e| CliError::failure(format!("cannot render JSON: {e}")))?;
        return output::json_pretty(&value);
    }
    if subs.is_empty() {
        return output::line(format!("agent {agent} has no subscriptions"));
    }
    let mut table = Table::new(&["WEBHOOK", "EVENT", "SUBSCRIPTION", "CREATED"]);
    for s in &subs {
        table.row(vec![
            Cell::styled(
                s.webhook_id.as_ref().map_or("-", |w| w.as_str()),
                Style::cyan,
            ),
            Cell::plain(s.event_type.as_ref().map_or("-", |e| e.as_str())),
            Cell::plain(s.id.as_str()),
            Cell::styled(
                s.created_at.as_ref().map_or("-", |t| t.as_str()),
                Style::dim,
            ),
        ]);
    }
    output::print(&table.render(Style::stdout()))
}

fn subscriptions_set(api: &Api, args: SetArgs, json: bool) -> Result<(), CliError> {
    let events = flatten_events(&args.events);
    let message = api
        .client()
        .replace_agent_subscriptions(args.agent.as_str(), args.webhook.as_str(), events.clone())
        .map_err(|e| api.fail(&e, Subject::Webhook(&args.webhook)))?;
    if json {
        return output::json_pretty(&json!({
            "agentId": args.agent,
            "webhookId": args.webhook,
            "eventTypes": events,
            "message": message,
        }));
    }
    output::line(format!(
        "agent {} now sends {} to webhook {} (all its other subscriptions were replaced)",
        args.agent,
        event_names(&events),
        args.webhook
    ))
}

fn subscriptions_add(api: &Api, args: AddArgs, json: bool) -> Result<(), CliError> {
    let events = flatten_events(&args.events);
    let plan = match api.client().add_agent_events(
        args.agent.as_str(),
        args.webhook.as_str(),
        events,
        args.force,
    ) {
        Ok(plan) => plan,
        Err(Error::ForeignSubscriptions(f)) => {
            let subs: usize = f.agents.iter().map(|a| a.subscriptions.len()).sum();
            let mut webhooks: Vec<&str> = Vec::new();
            for s in f.agents.iter().flat_map(|a| a.subscriptions.iter()) {
                let w = s.webhook_id.as_ref().map_or("?", |w| w.as_str());
                if !webhooks.contains(&w) {
                    webhooks.push(w);
                }
            }
            return Err(CliError::failure(format!(
                "agent {} also has {} to {} ({}), which this would remove (the API replaces an \
                 agent's subscriptions as a whole); add --force to proceed",
                args.agent,
                plural(subs, "subscription", "subscriptions"),
                plural(webhooks.len(), "other webhook", "other webhooks"),
                webhooks.join(", ")
            )));
        }
        Err(e) => return Err(api.fail(&e, Subject::Webhook(&args.webhook))),
    };
    if json {
        return output::json_pretty(&json!({
            "agentId": plan.agent_id,
            "webhookId": plan.webhook_id,
            "changed": plan.request.is_some(),
            "added": plan.added,
            "eventTypes": plan.event_types,
            "removed": plan.removed.iter().map(sub_json).collect::<Vec<_>>(),
        }));
    }
    if plan.request.is_none() {
        return output::line(format!(
            "agent {} already sends {} to webhook {}; nothing changed",
            plan.agent_id,
            event_names(&plan.event_types),
            plan.webhook_id
        ));
    }
    let mut text = format!(
        "added {} for agent {} on webhook {}; it now sends {}",
        event_names(&plan.added),
        plan.agent_id,
        plan.webhook_id,
        event_names(&plan.event_types)
    );
    if !plan.removed.is_empty() {
        text.push_str(&format!(
            "; removed {} to other webhooks (--force)",
            plural(plan.removed.len(), "subscription", "subscriptions")
        ));
    }
    output::line(text)
}

fn subscriptions_clear(api: &Api, agent: &str, json: bool) -> Result<(), CliError> {
    let message = api
        .client()
        .clear_agent_subscriptions(agent)
        .map_err(|e| api.fail(&e, Subject::Agent(agent)))?;
    if json {
        output::json_pretty(&json!({ "agentId": agent, "cleared": true, "message": message }))
    } else {
        output::line(format!("cleared every subscription of agent {agent}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_view_redacts_and_groups() {
        let w: Webhook = serde_json::from_value(json!({
            "_id": "65f000000000000000000001",
            "url": "https://example.com/h",
            "status": "enabled",
            "decryptedSecretKey": "whsec-very-secret",
            "headers": {"X-Token": "tok"},
            "subscriptions": [
                {"_id": "s1", "agentId": {"_id": "a1", "name": "Bot"}, "eventType": "pre-conversation"},
                {"_id": "s2", "agentId": {"_id": "a1", "name": "Bot"}, "eventType": "post-conversation"},
                {"_id": "s3", "agentId": "a2", "eventType": "post-conversation"}
            ]
        }))
        .unwrap();
        let text = render_webhook(&w, Style::plain());
        assert!(
            !text.contains("whsec-very-secret") && !text.contains("tok"),
            "{text}"
        );
        assert!(text.contains("secret      [redacted]"), "{text}");
        assert!(text.contains("agents      2"), "{text}");
        assert!(
            text.contains("  a1 (Bot)  pre-conversation,post-conversation"),
            "{text}"
        );
    }
}
