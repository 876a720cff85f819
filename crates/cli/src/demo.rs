//! `demo`: the whole loop on loopback, no key and no network: emulator, receiver, webhook,
//! secret, subscriptions, a simulated call, three verified events, cleanup.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use atoms_webhook_emulator::{CallOptions, DeliveryOutcome, Emulator};
use atoms_webhook_models::{CreateWebhookRequest, EventType, Verifier};
use serde_json::json;

use crate::cli::{DemoArgs, GlobalArgs};
use crate::error::{chain, secs, CliError, Subject};
use crate::listen::runtime;
use crate::manage::Api;
use crate::output::{self, Style};
use crate::receiver::{Notice, Receiver};

/// The number of steps shown.
const STEPS: usize = 7;
/// The agent the demo subscribes.
const AGENT: &str = "60d0fe4f5311236168a109ca";
/// The path the receiver is registered at.
const PATH: &str = "/atoms/webhook";

/// Prints progress lines, as text or JSON.
struct Progress {
    json: bool,
    style: Style,
    started: Instant,
}

impl Progress {
    fn step(&self, n: usize, message: &str) -> Result<(), CliError> {
        if self.json {
            output::json_line(&json!({ "step": n, "of": STEPS, "message": message }))
        } else {
            output::line(format!(
                "{} {message}",
                self.style.bold(&format!("{n}/{STEPS}"))
            ))
        }
    }

    fn note(&self, message: &str) -> Result<(), CliError> {
        if self.json {
            output::json_line(&json!({ "message": message }))
        } else {
            output::line(format!("    {message}"))
        }
    }
}

/// Runs `demo`.
pub fn run(global: &GlobalArgs, args: DemoArgs) -> Result<(), CliError> {
    if args.lost {
        return crate::demo_lost::run(global);
    }
    let progress = Progress {
        json: global.json,
        style: Style::stdout(),
        started: Instant::now(),
    };
    let key = format!("demo-key-{}", std::process::id());

    // 1. The emulator, on its own runtime and thread.
    let emulator = Emulator::builder()
        .api_key(key.as_str())
        .delivery_timeout(Duration::from_secs(5))
        .start_background()
        .map_err(|e| CliError::failure(format!("cannot start the emulator: {}", chain(&e))))?;
    progress.step(1, &format!("started emulator at {}", emulator.url()))?;

    // 2. The receiver's socket; it serves once it knows the secret (step 4).
    let runtime = runtime()?;
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| CliError::failure(format!("cannot open a local port: {e}")))?;
    let receiver_addr = std_listener
        .local_addr()
        .map_err(|e| CliError::failure(format!("cannot read the local port: {e}")))?;
    let hook_url = format!("http://{receiver_addr}{PATH}");
    progress.step(2, &format!("receiver bound at {hook_url}"))?;

    let mut api_args = global.clone();
    api_args.base_url = emulator.url();
    api_args.timeout = Some(Duration::from_secs(5));
    let api = Api::with_key(&api_args, &key)?;
    let client = api.client();

    // 3. The webhook.
    let id = client
        .create_webhook(CreateWebhookRequest::new(
            hook_url.as_str(),
            "atoms-webhook demo",
        ))
        .map_err(|e| api.fail(&e, Subject::None))?;
    progress.step(3, &format!("created webhook {id} -> {hook_url}"))?;

    // 4. Its secret arms the receiver.
    let secret = client
        .signing_secret(id.clone())
        .map_err(|e| api.fail(&e, Subject::Webhook(id.as_str())))?;
    let verifier = Verifier::new(secret.clone())
        .map_err(|e| CliError::failure(format!("the webhook's secret is unusable: {e}")))?;
    let (tx, rx) = mpsc::channel();
    let router = Receiver::new(verifier, global.json)
        .indent("    ")
        .notify(tx)
        .router();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(std_listener)
            .map_err(|e| CliError::failure(format!("cannot use the local port: {e}")))?;
        Ok::<_, CliError>(tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
        }))
    })?;
    progress.step(
        4,
        &format!(
            "read its signing secret ({} characters, not shown); the receiver verifies with it",
            secret.expose().len()
        ),
    )?;

    // 5. Subscriptions.
    client
        .replace_agent_subscriptions(AGENT, id.clone(), EventType::ALL)
        .map_err(|e| api.fail(&e, Subject::Webhook(id.as_str())))?;
    progress.step(
        5,
        &format!(
            "subscribed agent {AGENT} to pre-conversation, post-conversation, analytics-completed"
        ),
    )?;

    // 6. A call; the receiver prints each event as it arrives.
    let call_id = atoms_webhook_models::testkit::fresh_call_id();
    let opts = CallOptions::new().agent_id(AGENT).call_id(call_id.clone());
    progress.step(
        6,
        &format!("simulating call {call_id}; deliveries as they arrive:"),
    )?;
    let report = emulator.simulate_call(opts);
    let deadline = Instant::now() + args.wait;
    // Each of the three event types must arrive verified once.
    let mut seen: Vec<EventType> = Vec::new();
    let mut rejected: Vec<u16> = Vec::new();
    while seen.len() < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Notice::Verified(kind)) => {
                if EventType::ALL.contains(&kind) && !seen.contains(&kind) {
                    seen.push(kind);
                }
            }
            Ok(Notice::Rejected(status)) => rejected.push(status),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    let verified = seen.len();
    let mut failures: Vec<String> = report
        .deliveries
        .iter()
        .filter(|d| !d.outcome.is_delivered())
        .map(|d| match &d.outcome {
            DeliveryOutcome::Failed { status } => format!("{} got {status}", d.event_type),
            DeliveryOutcome::Error { reason } => format!("{}: {reason}", d.event_type),
            _ => d.event_type.to_string(),
        })
        .collect();
    failures.extend(rejected.iter().map(|s| format!("receiver answered {s}")));
    progress.note(&format!("{verified}/3 events verified"))?;

    // 7. Cleanup, whatever happened above.
    let cleanup = client.delete_webhook_cascade(id.clone(), false);
    let _ = stop_tx.send(());
    runtime.block_on(async {
        // The server ends at once: nothing is in flight any more.
        let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    emulator.shutdown();
    let cleanup = cleanup.map_err(|e| api.fail(&e, Subject::Webhook(id.as_str())))?;
    progress.step(
        7,
        &format!(
            "cleaned up: cleared agent subscriptions ({} removed), deleted webhook {id}, stopped",
            cleanup.removed_count()
        ),
    )?;

    if verified < 3 {
        let detail = if failures.is_empty() {
            String::new()
        } else {
            format!(" ({})", failures.join("; "))
        };
        return Err(CliError::failure(format!(
            "only {verified} of 3 events arrived verified within {}{detail}",
            secs(args.wait)
        )));
    }
    let elapsed = progress.started.elapsed();
    if global.json {
        output::json_line(
            &json!({ "ok": true, "verified": verified, "elapsedMs": elapsed.as_millis() as u64 }),
        )
    } else {
        output::line(format!(
            "demo complete: 3 of 3 events verified, {} ms in all",
            elapsed.as_millis()
        ))
    }
}
