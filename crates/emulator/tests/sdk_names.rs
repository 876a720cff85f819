//! The emulator counts each request the SDK's transport builds as the operation of the same
//! name: `Op::as_str()` is the request type's name, for every operation.

mod common;

use atoms_webhook_emulator::Op;
use atoms_webhook_models::{CreateWebhookRequest, EventType, UpdateWebhookRequest};
use atoms_webhook_transport::endpoint::{
    ClearAgentSubscriptions, CreateWebhook, DeleteWebhook, GetAgentSubscriptions, GetWebhook,
    ListWebhooks, ReplaceAgentSubscriptions, UpdateWebhook,
};
use atoms_webhook_transport::{build, Config, Endpoint};
use common::*;

/// The last segment of a type's path: `GetWebhook` for `...::endpoint::GetWebhook`.
fn type_name<T>(_: &T) -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Sends what the transport builds for `endpoint` and returns the operations whose counters
/// moved.
async fn counted<E: Endpoint>(c: &Client, endpoint: &E) -> Vec<&'static str> {
    let config = Config::new(c.emu.api_key()).base_url(c.emu.url());
    let request = build(&config, endpoint).expect("a valid request");
    let before: Vec<usize> = Op::ALL.iter().map(|op| c.emu.hits(*op)).collect();
    let (parts, body) = request.into_parts();
    let mut send = c
        .http
        .request(parts.method, parts.uri.to_string())
        .body(body);
    for (name, value) in &parts.headers {
        send = send.header(name, value);
    }
    send.send().await.expect("the emulator answers");
    Op::ALL
        .iter()
        .zip(before)
        .filter(|(op, n)| c.emu.hits(**op) > *n)
        .map(|(op, _)| op.as_str())
        .collect()
}

#[tokio::test]
async fn every_sdk_request_is_counted_under_its_own_name() {
    let c = Client::start().await;
    let id = c.create("https://example.com/names", &[]).await;
    let create = CreateWebhook::new(
        CreateWebhookRequest::new("https://example.com/other", "d")
            .events_for(AGENT, EventType::ALL),
    );
    let update = UpdateWebhook::new(
        id.as_str(),
        UpdateWebhookRequest::new().description("renamed"),
    );
    let replace =
        ReplaceAgentSubscriptions::new(AGENT_2, id.as_str(), [EventType::PostConversation]);
    macro_rules! check {
        ($endpoint:expr) => {{
            let endpoint = $endpoint;
            assert_eq!(
                counted(&c, &endpoint).await,
                [type_name(&endpoint)],
                "{}",
                type_name(&endpoint)
            );
        }};
    }
    check!(ListWebhooks::new());
    check!(GetWebhook::new(id.as_str()));
    check!(create);
    check!(update);
    check!(GetAgentSubscriptions::new(AGENT));
    check!(replace);
    check!(ClearAgentSubscriptions::new(AGENT_2));
    check!(DeleteWebhook::new(id.as_str()));
    assert_eq!(
        Op::ALL.len(),
        10,
        "eight webhook operations and two call-log ones"
    );
}
