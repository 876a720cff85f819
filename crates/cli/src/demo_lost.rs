//! `demo --lost`: a lost delivery recovered, on loopback with no key and no network. The
//! emulator drops a call's post-conversation and analytics-completed (as if the receiver had
//! been down at the end of the call); the durable inbox received the pre-conversation; the
//! inbox's reconciliation reads the call log and hands the handler the two missing events,
//! marked as recovered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atoms_webhook_emulator::{CallOptions, Emulator, Scenario};
use atoms_webhook_models::{CreateWebhookRequest, EventType};
use atoms_webhook_receiver::axum::InboxService;
use atoms_webhook_receiver::reconcile::{ReconcileConfig, Reconciler};
use atoms_webhook_receiver::{handler_fn, Delivery, Inbox, Receiver, SqliteStore, Store, Worker};
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::error::{chain, CliError};
use crate::listen::runtime;
use crate::output::{self, Style};

const STEPS: usize = 6;
const AGENT: &str = "60d0fe4f5311236168a109ca";

fn fail(what: &str, e: &(dyn std::error::Error + 'static)) -> CliError {
    CliError::failure(format!("{what}: {}", chain(e)))
}

/// Runs `demo --lost`.
pub fn run(global: &GlobalArgs) -> Result<(), CliError> {
    let style = Style::stdout();
    let step = |n: usize, message: &str| {
        if global.json {
            output::json_line(&json!({ "step": n, "of": STEPS, "message": message }))
        } else {
            output::line(format!("{} {message}", style.bold(&format!("{n}/{STEPS}"))))
        }
    };
    let key = format!("demo-key-{}", std::process::id());
    let emulator = Emulator::builder()
        .api_key(key.as_str())
        .delivery_timeout(Duration::from_secs(5))
        .start_background()
        .map_err(|e| fail("cannot start the emulator", &e))?;
    step(1, &format!("started emulator at {}", emulator.url()))?;

    let db = std::env::temp_dir().join(format!("atoms-demo-lost-{}.db", std::process::id()));
    let result = demo(global, &emulator, &key, &db, &step);
    emulator.shutdown();
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.clone().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
    result
}

fn demo(
    global: &GlobalArgs,
    emulator: &Emulator,
    key: &str,
    db: &std::path::Path,
    step: &dyn Fn(usize, &str) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let rt = runtime()?;
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(db).map_err(|e| fail("cannot open the inbox", &e))?);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| CliError::failure(format!("cannot open a local port: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::failure(format!("cannot read the local port: {e}")))?;
    let hook = format!("http://{addr}/atoms");

    let config = atoms_webhook_async::Config::new(key)
        .base_url(emulator.url())
        .timeout(Duration::from_secs(5));
    let client = atoms_webhook_async::Client::new(config)
        .map_err(|e| fail("cannot build the client", &e))?;
    let created = rt
        .block_on(
            client.create_webhook_with_secret(
                CreateWebhookRequest::new(hook.as_str(), "atoms-webhook demo --lost")
                    .event(AGENT, EventType::PreConversation)
                    .event(AGENT, EventType::PostConversation)
                    .event(AGENT, EventType::AnalyticsCompleted),
            ),
        )
        .map_err(|e| fail("cannot create the webhook", &e))?;
    let receiver =
        Receiver::new(created.secret.clone()).map_err(|e| fail("the secret is unusable", &e))?;
    let inbox = Inbox::new(receiver, store.clone());
    let router = axum::Router::new().fallback_service(InboxService::new(inbox));
    rt.spawn(async move { axum::serve(listener, router).await });
    step(
        2,
        &format!(
            "durable inbox (SQLite {}) at {hook}, for webhook {} with agent {AGENT} subscribed to all three events",
            db.display(),
            created.id
        ),
    )?;

    // The handler: what an app would do with each event, here a line per event.
    let seen: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let record = seen.clone();
    let worker = Worker::new(
        store.clone(),
        handler_fn(move |d: Delivery| {
            let record = record.clone();
            async move {
                record
                    .lock()
                    .map_err(|_| std::io::Error::other("poisoned"))?
                    .push((d.event.event_type().to_string(), d.event.is_recovered()));
                Ok::<(), std::io::Error>(())
            }
        }),
    );
    let drain = || -> Result<(), CliError> {
        for _ in 0..20 {
            let report = rt
                .block_on(worker.run_once())
                .map_err(|e| fail("the worker failed", &e))?;
            if report.claimed == 0 {
                break;
            }
        }
        let handled = std::mem::take(&mut *seen.lock().unwrap_or_else(|p| p.into_inner()));
        for (event, recovered) in handled {
            if global.json {
                output::json_line(&json!({ "handled": event, "recovered": recovered }))?;
                continue;
            }
            let how = if recovered {
                "RECOVERED from the call log (event.recovered() is set)"
            } else {
                "delivered by Atoms"
            };
            output::line(format!("    handler: {event} - {how}"))?;
        }
        Ok(())
    };

    let call = emulator
        .simulate_call(
            Scenario::new(CallOptions::new().agent_id(AGENT))
                .drop(EventType::PostConversation)
                .drop(EventType::AnalyticsCompleted),
        )
        .call_id;
    step(
        3,
        &format!(
            "simulated call {call}; the receiver was 'down' when it ended: post-conversation and analytics-completed never arrive (Atoms never retries)"
        ),
    )?;
    drain()?;

    let reconciler = Reconciler::new(client, store.clone(), created.id.clone())
        .config(ReconcileConfig::default().grace(Duration::ZERO));
    let report = rt
        .block_on(reconciler.run_once())
        .map_err(|e| fail("reconciliation failed", &e))?;
    step(
        4,
        &format!(
            "reconciled against the call logs (GET /conversation, then GET /conversation/{call}): {} item(s) recovered",
            report.recovered
        ),
    )?;
    drain()?;

    let stats = rt
        .block_on(store.stats(std::time::SystemTime::now()))
        .map_err(|e| fail("the inbox failed", &e))?;
    step(
        5,
        &format!(
            "inbox: {} done, {} recovered; a late real delivery would now be recorded, not processed twice",
            stats.count(atoms_webhook_receiver::Status::Done),
            stats.recovered
        ),
    )?;
    rt.block_on(async {
        let api = atoms_webhook_async::Client::new(
            atoms_webhook_async::Config::new(key).base_url(emulator.url()),
        )?;
        api.delete_webhook_cascade(created.id.clone(), false).await
    })
    .map_err(|e| fail("cleanup failed", &e))?;
    rt.shutdown_timeout(Duration::from_millis(200));
    step(6, "cleaned up: deleted the webhook and the inbox file")?;
    if stats.recovered < 2 {
        return Err(CliError::failure(format!(
            "only {} of the 2 lost deliveries were recovered",
            stats.recovered
        )));
    }
    if global.json {
        output::json_line(&json!({ "ok": true, "recovered": stats.recovered }))
    } else {
        output::line("demo complete: 1 delivered + 2 recovered = 3 of 3 events handled")
    }
}
