//! `inbox ...`: the durable inbox of `atoms-webhook-receiver` as a command.
//!
//! `serve` receives (the library's [`Inbox`]: answered 2xx only once stored) and runs workers
//! that forward each delivery or hand it to a command; `work` runs workers only; `list`,
//! `show`, `replay`, `stats` and `purge` read and change the store. `serve` and `work` also run
//! retention (done deliveries deleted after `--retain-done`).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use atoms_webhook_models::{sign, SigningSecret, Webhook};
use atoms_webhook_receiver::axum::InboxService;
use atoms_webhook_receiver::reconcile::{ReconcileConfig, Reconciler};
use atoms_webhook_receiver::{
    handler_fn, is_recovered_id, Backoff, Delivery, HandlerError, Inbox, PgStore, Receiver,
    SqliteStore, Stats, Status, Store, StoredDelivery, Worker,
};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::cli::{
    GlobalArgs, HandlerArgs, InboxCmd, InboxListArgs, PurgeArgs, ReplayArgs, RetentionArgs,
    ServeArgs, ShowArgs, StatusArg, StoreArgs, WorkArgs, WorkerArgs, DEFAULT_DB,
};
use crate::error::{chain, one_line, CliError};
use crate::listen::{bind, runtime, DEFAULT_FORWARD_TIMEOUT};
use crate::output::{self, Cell, Style, Table};

/// The header naming the delivery id on a forwarded request.
pub const DELIVERY_ID_HEADER: &str = "x-atoms-delivery-id";
/// The header numbering the attempt (1 for the first) on a forwarded request.
pub const DELIVERY_ATTEMPT_HEADER: &str = "x-atoms-delivery-attempt";
/// The header marking a forwarded item recovered from the call logs; its value is the event
/// type it stands in for. Such an item is signed with the webhook's secret by this inbox, not
/// by Atoms.
pub const RECOVERED_HEADER: &str = "x-atoms-recovered";

const DEFAULT_RECONCILE_GRACE: Duration = Duration::from_secs(120);
const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(300);

/// Runs an `inbox` subcommand.
pub fn run(global: &GlobalArgs, cmd: InboxCmd) -> Result<(), CliError> {
    let rt = runtime()?;
    let result = rt.block_on(async move {
        match cmd {
            InboxCmd::Serve(args) => serve(global, *args).await,
            InboxCmd::Work(args) => work(global, args).await,
            InboxCmd::List(args) => list(global, args).await,
            InboxCmd::Show(args) => show(global, args).await,
            InboxCmd::Replay(args) => replay(global, args).await,
            InboxCmd::Stats(args) => stats(global, args).await,
            InboxCmd::Purge(args) => purge(global, args).await,
        }
    });
    // Whatever is still running (a forward past the grace period) is abandoned.
    rt.shutdown_timeout(Duration::from_millis(100));
    result
}

/// Opens the inbox named by `--db` / `--database-url`.
async fn open_store(args: &StoreArgs) -> Result<Arc<dyn Store>, CliError> {
    if let Some(url) = &args.database_url {
        return open_postgres(url, args.schema.as_deref()).await;
    }
    let path = args.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB));
    let store = tokio::task::spawn_blocking(move || {
        SqliteStore::open(&path).map_err(|e| {
            CliError::failure(format!("cannot open {}: {}", path.display(), chain(&e)))
        })
    })
    .await
    .map_err(|e| CliError::failure(format!("opening the inbox failed: {e}")))??;
    Ok(Arc::new(store))
}

async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Arc<dyn Store>, CliError> {
    let store = match schema {
        Some(schema) => PgStore::connect_in_schema(url, schema).await,
        None => PgStore::connect(url).await,
    }
    // The URL may hold a password: the message names the database by its role only.
    .map_err(|e| CliError::failure(format!("cannot open the PostgreSQL inbox: {}", chain(&e))))?;
    Ok(Arc::new(store))
}

fn store_error(e: &atoms_webhook_receiver::StoreError) -> CliError {
    CliError::failure(format!("the inbox failed: {}", chain(e)))
}

/// `inbox serve`.
async fn serve(global: &GlobalArgs, args: ServeArgs) -> Result<(), CliError> {
    let receiver = Receiver::with_secrets(
        args.secrets
            .iter()
            .map(|s| atoms_webhook_models::SigningSecret::new(s.as_str())),
    )
    .map_err(|_| CliError::usage("--secret must not be empty"))?
    .max_body(args.max_body);
    // Reconciliation reads the webhook (its subscriptions, and the secret that signs the
    // recovered items this inbox forwards) before anything is received.
    let reconcile = if args.reconcile {
        Some(reconcile_setup(global, &args).await?)
    } else {
        None
    };
    let recovered_secret = match &reconcile {
        Some((_, webhook)) => webhook.signing_secret().cloned(),
        None => args.secrets.first().map(|s| SigningSecret::new(s.as_str())),
    };
    let receiver = match args.replay.replay_window {
        Some(window) => receiver.replay_window(window),
        None => receiver,
    };
    let handler = if args.no_workers {
        None
    } else {
        handler(global, &args.handler, recovered_secret)?
    };
    let store = open_store(&args.store).await?;
    // Listened for before the URL is printed: a signal right after it must not kill us.
    let stop = stop_signals()?;
    // New deliveries wake this process's idle workers at once.
    let wake = Arc::new(tokio::sync::Notify::new());
    let inbox = Inbox::new(receiver, store.clone()).wake(wake.clone());
    let (listener, addr) = bind(&args.host, args.port).await?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let workers = match handler {
        Some(h) => spawn_workers(&store, h, &args.worker, &stop_rx, Some(&wake)),
        None => Vec::new(),
    };
    let processing = !workers.is_empty();
    // Every path: the library's service reads (within the limit), verifies, stores, answers.
    let router = axum::Router::new().fallback_service(InboxService::new(inbox));
    output::line(format!("listening on http://{addr}"))?;
    if !processing {
        output::line("receiving only: deliveries are stored, not processed")?;
    }
    let mut workers = workers;
    if let Some((client, webhook)) = reconcile {
        let grace = args.reconcile_grace.unwrap_or(DEFAULT_RECONCILE_GRACE);
        let sweep = args.sweep_interval.unwrap_or(DEFAULT_SWEEP_INTERVAL);
        let config = ReconcileConfig::default()
            .grace(grace)
            .sweep_interval(sweep)
            // Often enough to notice a final call soon after its grace period ends.
            .poll_interval(
                (grace.min(sweep) / 2).clamp(Duration::from_millis(50), Duration::from_secs(15)),
            );
        let reconciler = Reconciler::new(client, store.clone(), webhook.id.clone())
            .config(config)
            .wake(wake.clone());
        output::line(format!(
            "reconciling against the call logs of webhook {} (grace {} s, sweep every {} s)",
            webhook.id,
            grace.as_secs_f64(),
            sweep.as_secs_f64()
        ))?;
        let mut stop = stop_rx.clone();
        workers.push(tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = reconciler.run(stopped).await {
                let _ =
                    CliError::failure(format!("reconciliation stopped: {}", chain(&e))).report();
            }
        }));
    }
    workers.extend(spawn_retention(&store, &args.retention, &stop_rx));
    let mut stop_rx_server = stop_rx.clone();
    let mut server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop_rx_server.wait_for(|stop| *stop).await;
            })
            .await
    });
    tokio::select! {
        () = stop => {}
        served = &mut server => {
            // The server ended by itself: stop the workers too, and say why.
            let _ = stop_tx.send(true);
            let done = tokio::spawn(async { served.unwrap_or(Ok(())) });
            return finish(done, workers, args.worker.grace).await;
        }
    }
    let _ = stop_tx.send(true);
    finish(server, workers, args.worker.grace).await
}

/// The API client and the webhook for `--reconcile`: `--webhook`, or the webhook whose signing
/// secret is one of the `--secret`s.
async fn reconcile_setup(
    global: &GlobalArgs,
    args: &ServeArgs,
) -> Result<(atoms_webhook_async::Client, Webhook), CliError> {
    let key = global.api_key().ok_or_else(|| {
        CliError::usage("--reconcile reads the call logs: pass --api-key or set SMALLEST_API_KEY")
    })?;
    let config = global.api_config(key);
    let client = atoms_webhook_async::Client::new(config)
        .map_err(|e| CliError::usage(format!("--reconcile: {}", chain(&e))))?;
    let api_failed =
        |e: atoms_webhook_async::Error| CliError::failure(format!("--reconcile: {}", chain(&e)));
    let webhook = match &args.webhook {
        Some(id) => client.get_webhook(id.as_str()).await.map_err(api_failed)?,
        None => {
            let secrets: Vec<SigningSecret> = args
                .secrets
                .iter()
                .map(|s| SigningSecret::new(s.as_str()))
                .collect();
            let mut matching: Vec<Webhook> = client
                .list_webhooks()
                .await
                .map_err(api_failed)?
                .into_iter()
                .filter(|w| w.signing_secret().is_some_and(|s| secrets.contains(s)))
                .collect();
            if matching.len() != 1 {
                return Err(CliError::failure(format!(
                    "--reconcile: {} webhooks have this signing secret; pass --webhook ID",
                    matching.len()
                )));
            }
            matching.remove(0)
        }
    };
    Ok((client, webhook))
}

/// Resolves on Ctrl-C or SIGTERM; listening starts when this is called, not when it is
/// first awaited.
fn stop_signals(
) -> Result<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>, CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let fail = |e: std::io::Error| CliError::failure(format!("cannot listen for signals: {e}"));
        let mut term = signal(SignalKind::terminate()).map_err(fail)?;
        let mut int = signal(SignalKind::interrupt()).map_err(fail)?;
        Ok(Box::pin(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }))
    }
    #[cfg(not(unix))]
    {
        Ok(Box::pin(crate::listen::stop_signal()))
    }
}

/// Waits for the server and the workers to end, at most `grace`.
async fn finish(
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    grace: Duration,
) -> Result<(), CliError> {
    let all = async move {
        let served = server.await;
        for w in workers {
            let _ = w.await;
        }
        served
    };
    match tokio::time::timeout(grace, all).await {
        Ok(Ok(Ok(()))) | Err(_) => Ok(()),
        Ok(Ok(Err(e))) => Err(CliError::failure(format!("the receiver stopped: {e}"))),
        Ok(Err(e)) => Err(CliError::failure(format!("the receiver stopped: {e}"))),
    }
}

/// `inbox work`.
async fn work(global: &GlobalArgs, args: WorkArgs) -> Result<(), CliError> {
    let secret = args.secret.as_deref().map(SigningSecret::new);
    let Some(handler) = handler(global, &args.handler, secret)? else {
        return Err(CliError::usage(
            "inbox work needs --forward URL or --exec CMD",
        ));
    };
    let store = open_store(&args.store).await?;
    let stop = stop_signals()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut workers = spawn_workers(&store, handler, &args.worker, &stop_rx, None);
    output::line(format!("processing with {} workers", workers.len()))?;
    workers.extend(spawn_retention(&store, &args.retention, &stop_rx));
    stop.await;
    let _ = stop_tx.send(true);
    let server = tokio::spawn(async { Ok(()) });
    finish(server, workers, args.worker.grace).await
}

/// What `--forward` or `--exec` does with one delivery.
#[derive(Clone)]
enum Action {
    Forward {
        client: reqwest::Client,
        url: String,
        /// Signs the recovered items forwarded (they have no Atoms signature).
        recovered_secret: Option<SigningSecret>,
    },
    Exec {
        command: String,
    },
}

fn handler(
    global: &GlobalArgs,
    args: &HandlerArgs,
    recovered_secret: Option<SigningSecret>,
) -> Result<Option<Arc<Action>>, CliError> {
    if let Some(url) = &args.forward {
        atoms_webhook_transport::validate::http_url("--forward", url)
            .map_err(|e| CliError::usage(e.to_string()))?;
        let client = reqwest::Client::builder()
            .timeout(global.timeout.unwrap_or(DEFAULT_FORWARD_TIMEOUT))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                CliError::failure(format!("cannot build the HTTP client: {}", chain(&e)))
            })?;
        return Ok(Some(Arc::new(Action::Forward {
            client,
            url: url.clone(),
            recovered_secret,
        })));
    }
    if let Some(command) = &args.exec {
        if command.trim().is_empty() {
            return Err(CliError::usage("--exec must not be empty"));
        }
        return Ok(Some(Arc::new(Action::Exec {
            command: command.clone(),
        })));
    }
    Ok(None)
}

/// The failure of one attempt; its text becomes the delivery's `last_error` (never the body).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct AttemptFailed(String);

impl Action {
    async fn handle(&self, d: Delivery) -> Result<(), HandlerError> {
        match self {
            Action::Forward {
                client,
                url,
                recovered_secret,
            } => {
                let mut request = client
                    .post(url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        d.content_type.as_deref().unwrap_or("application/json"),
                    )
                    .header(DELIVERY_ID_HEADER, d.id.as_str())
                    .header(DELIVERY_ATTEMPT_HEADER, d.attempt.to_string());
                if is_recovered(&d) {
                    // Vouched for by this inbox, signed with the webhook's secret so that the
                    // app's verification accepts it; the header says what it stands in for.
                    request = request.header(RECOVERED_HEADER, d.event.event_type().as_str());
                    if let Some(secret) = recovered_secret {
                        request = request.header(
                            atoms_webhook_models::SIGNATURE_HEADER,
                            sign(secret, &d.body),
                        );
                    }
                } else if let Some(signature) = &d.signature {
                    request =
                        request.header(atoms_webhook_models::SIGNATURE_HEADER, signature.as_str());
                }
                let response = request.body(d.body).send().await.map_err(|e| {
                    AttemptFailed(format!("forward to {url} failed: {}", one_line(&chain(&e))))
                })?;
                let status = response.status();
                // Read to the end so the connection can be reused.
                let _ = response.bytes().await;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(AttemptFailed(format!("forward to {url} answered {status}")).into())
                }
            }
            Action::Exec { command } => {
                let mut command = shell(command);
                if is_recovered(&d) {
                    command.env("ATOMS_RECOVERED", d.event.event_type().as_str());
                }
                let mut child = command
                    .env("ATOMS_DELIVERY_ID", &d.id)
                    .env("ATOMS_DELIVERY_ATTEMPT", d.attempt.to_string())
                    .env("ATOMS_EVENT_TYPE", d.event.event_type().as_str())
                    .stdin(Stdio::piped())
                    .stdout(Stdio::inherit())
                    .stderr(Stdio::inherit())
                    .kill_on_drop(true)
                    .spawn()
                    .map_err(|e| AttemptFailed(format!("cannot run --exec: {e}")))?;
                if let Some(mut stdin) = child.stdin.take() {
                    // A command that does not read its input is fine; its exit status decides.
                    let _ = stdin.write_all(&d.body).await;
                    drop(stdin);
                }
                let status = child
                    .wait()
                    .await
                    .map_err(|e| AttemptFailed(format!("--exec failed: {e}")))?;
                if status.success() {
                    Ok(())
                } else {
                    Err(AttemptFailed(format!("--exec exited with {status}")).into())
                }
            }
        }
    }
}

/// An item the reconciler rebuilt from the call logs.
fn is_recovered(d: &Delivery) -> bool {
    d.event.is_recovered() || is_recovered_id(&d.id)
}

#[cfg(unix)]
fn shell(command: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("sh");
    c.arg("-c").arg(command);
    c
}

#[cfg(not(unix))]
fn shell(command: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("cmd");
    c.arg("/C").arg(command);
    c
}

/// Starts `--workers` workers that stop when `stop` turns true (finishing what they hold).
fn spawn_workers(
    store: &Arc<dyn Store>,
    action: Arc<Action>,
    args: &WorkerArgs,
    stop: &watch::Receiver<bool>,
    wake: Option<&Arc<tokio::sync::Notify>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..args.workers)
        .map(|_| {
            let action = action.clone();
            let worker = Worker::new(
                store.clone(),
                handler_fn(move |d: Delivery| {
                    let action = action.clone();
                    async move { action.handle(d).await }
                }),
            )
            .lease(args.lease)
            // One delivery per claim: the lease then only has to outlast one forward (its
            // timeout) or one command, and --workers says how many run at once.
            .batch(1)
            .max_attempts(args.max_attempts)
            .backoff(Backoff {
                base: args.backoff,
                max: args.max_backoff.max(args.backoff),
            })
            .poll_interval(args.poll);
            let worker = match wake {
                Some(w) => worker.wake_on(w.clone()),
                None => worker,
            };
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = worker.run(stopped).await {
                    let _ =
                        crate::error::CliError::failure(format!("a worker stopped: {}", chain(&e)))
                            .report();
                }
            })
        })
        .collect()
}

/// Retention: deletes done deliveries processed more than `--retain-done` ago, at start and
/// then every `--purge-every`, until `stop`; `None` when `--retain-done 0` keeps them forever.
/// Dead letters are left alone. A failed purge is reported and tried again next time.
fn spawn_retention(
    store: &Arc<dyn Store>,
    args: &RetentionArgs,
    stop: &watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if args.retain_done.is_zero() {
        return None;
    }
    let (store, retain, every, mut stop) = (
        store.clone(),
        args.retain_done,
        args.purge_every,
        stop.clone(),
    );
    Some(tokio::spawn(async move {
        loop {
            // A retention longer than the clock's past purges nothing.
            if let Some(before) = SystemTime::now().checked_sub(retain) {
                if let Err(e) = store.purge_done(before).await {
                    let _ = CliError::failure(format!("retention failed: {}", chain(&e))).report();
                }
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }))
}

/// `inbox purge`.
async fn purge(global: &GlobalArgs, args: PurgeArgs) -> Result<(), CliError> {
    let store = open_store(&args.store).await?;
    let mut done = None;
    if let Some(age) = args.done_before {
        let before = SystemTime::now()
            .checked_sub(age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        done = Some(
            store
                .purge_done(before)
                .await
                .map_err(|e| store_error(&e))?,
        );
    }
    let dead = if args.dead {
        Some(store.purge_dead().await.map_err(|e| store_error(&e))?)
    } else {
        None
    };
    if global.json {
        return output::json_line(&json!({ "done": done, "dead": dead }));
    }
    if let (Some(n), Some(age)) = (done, args.done_before) {
        output::line(format!(
            "purged {n} done deliveries processed more than {} s ago",
            age.as_secs_f64()
        ))?;
    }
    if let Some(n) = dead {
        output::line(format!("purged {n} dead letters"))?;
    }
    Ok(())
}

fn status_of(arg: StatusArg) -> Vec<Status> {
    match arg {
        StatusArg::Pending => vec![Status::Pending, Status::Leased],
        StatusArg::Done => vec![Status::Done],
        StatusArg::Dead => vec![Status::Dead],
    }
}

/// `inbox list`.
async fn list(global: &GlobalArgs, args: InboxListArgs) -> Result<(), CliError> {
    let store = open_store(&args.store).await?;
    let mut rows: Vec<StoredDelivery> = Vec::new();
    // Recovered items are picked out of all the rows, then cut to the limit.
    let fetch = if args.recovered { u32::MAX } else { args.limit };
    match args.status {
        Some(status) => {
            for s in status_of(status) {
                rows.extend(
                    store
                        .list(Some(s), fetch)
                        .await
                        .map_err(|e| store_error(&e))?,
                );
            }
            rows.sort_by_key(|d| d.received_at);
        }
        None => rows = store.list(None, fetch).await.map_err(|e| store_error(&e))?,
    }
    if args.recovered {
        rows.retain(|d| is_recovered_id(&d.id));
    }
    rows.truncate(args.limit as usize);
    if global.json {
        let items: Vec<Value> = rows.iter().map(delivery_json).collect();
        return output::json_pretty(&Value::Array(items));
    }
    if rows.is_empty() {
        return output::line("no deliveries");
    }
    let mut table = Table::new(&[
        "ID",
        "STATUS",
        "EVENT",
        "CALL",
        "ATTEMPTS",
        "RECEIVED",
        "LAST ERROR",
    ]);
    for d in &rows {
        table.row(vec![
            Cell::plain(d.id.clone()),
            status_cell(d.status),
            Cell::plain(if d.event_type.is_empty() {
                "-".to_owned()
            } else {
                d.event_type.clone()
            }),
            Cell::plain(d.call_id.clone().unwrap_or_else(|| "-".to_owned())),
            Cell::plain(d.attempts.to_string()),
            Cell::plain(time(d.received_at)),
            Cell::plain(
                d.last_error
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), |e| cut(e, 60)),
            ),
        ]);
    }
    output::print(&table.render(Style::stdout()))
}

fn status_cell(s: Status) -> Cell {
    match s {
        Status::Done => Cell::styled(s.as_str(), Style::green),
        Status::Dead => Cell::styled(s.as_str(), Style::red),
        _ => Cell::styled(s.as_str(), Style::yellow),
    }
}

/// `inbox show`.
async fn show(global: &GlobalArgs, args: ShowArgs) -> Result<(), CliError> {
    let store = open_store(&args.store).await?;
    let d = store
        .get(&args.id)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| CliError::failure(format!("no delivery with id {}", args.id)))?;
    if args.body {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        return out
            .write_all(&d.body)
            .and_then(|()| out.flush())
            .map_err(|e| CliError::failure(format!("cannot write to stdout: {e}")));
    }
    if global.json {
        return output::json_pretty(&delivery_json(&d));
    }
    let mut text = String::new();
    let field = |text: &mut String, name: &str, value: String| {
        text.push_str(&format!("{name:<13}{value}\n"));
    };
    field(&mut text, "id", d.id.clone());
    field(&mut text, "status", d.status.to_string());
    field(
        &mut text,
        "event",
        or_dash(Some(d.event_type.clone()).filter(|e| !e.is_empty())),
    );
    field(&mut text, "call", or_dash(d.call_id.clone()));
    field(&mut text, "attempts", d.attempts.to_string());
    field(&mut text, "received", time(d.received_at));
    field(&mut text, "available", time(d.available_at));
    if let Some(t) = d.lease_until {
        field(&mut text, "leased until", time(t));
    }
    if let Some(t) = d.processed_at {
        field(&mut text, "processed", time(t));
    }
    field(&mut text, "last error", or_dash(d.last_error.clone()));
    field(&mut text, "content type", or_dash(d.content_type.clone()));
    field(
        &mut text,
        "body",
        format!("{} bytes (--body prints it)", d.body.len()),
    );
    output::print(&text)
}

/// `inbox replay`.
async fn replay(global: &GlobalArgs, args: ReplayArgs) -> Result<(), CliError> {
    let store = open_store(&args.store).await?;
    let now = SystemTime::now();
    if args.dead {
        let n = store.replay_dead(now).await.map_err(|e| store_error(&e))?;
        if global.json {
            return output::json_line(&json!({ "replayed": n }));
        }
        return output::line(format!("replayed {n} dead letters"));
    }
    let mut replayed = Vec::new();
    let mut missing = Vec::new();
    for id in &args.ids {
        if store.replay(id, now).await.map_err(|e| store_error(&e))? {
            replayed.push(id.clone());
        } else {
            missing.push(id.clone());
        }
    }
    if global.json {
        output::json_line(&json!({ "replayed": replayed, "not_found": missing }))?;
    } else {
        for id in &replayed {
            output::line(format!("replayed {id}"))?;
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "no done or dead delivery with id {}",
            missing.join(", ")
        )))
    }
}

/// `inbox stats`.
async fn stats(global: &GlobalArgs, args: StoreArgs) -> Result<(), CliError> {
    let store = open_store(&args).await?;
    let s = store
        .stats(SystemTime::now())
        .await
        .map_err(|e| store_error(&e))?;
    if global.json {
        return output::json_pretty(&stats_json(&s));
    }
    let mut text = String::new();
    for status in [Status::Pending, Status::Leased, Status::Done, Status::Dead] {
        text.push_str(&format!("{:<22}{}\n", status.as_str(), s.count(status)));
    }
    text.push_str(&format!("{:<22}{}\n", "duplicates", s.duplicates));
    text.push_str(&format!("{:<22}{}\n", "unparseable (dead)", s.unparseable));
    text.push_str(&format!("{:<22}{}\n", "recovered", s.recovered));
    text.push_str(&format!("{:<22}{}\n", "superseded", s.superseded));
    if s.rejections.is_empty() {
        text.push_str(&format!("{:<22}0\n", "rejected"));
    }
    for (reason, n) in &s.rejections {
        text.push_str(&format!("{:<22}{n}\n", format!("rejected {reason}")));
    }
    let age = s
        .oldest_pending_age
        .map_or_else(|| "-".to_owned(), |a| format!("{:.1} s", a.as_secs_f64()));
    text.push_str(&format!("{:<22}{age}\n", "oldest pending"));
    output::print(&text)
}

fn stats_json(s: &Stats) -> Value {
    json!({
        "by_status": {
            "pending": s.count(Status::Pending),
            "leased": s.count(Status::Leased),
            "done": s.count(Status::Done),
            "dead": s.count(Status::Dead),
        },
        "duplicates": s.duplicates,
        "unparseable": s.unparseable,
        "recovered": s.recovered,
        "superseded": s.superseded,
        "rejections": s.rejections,
        "oldest_pending_age_seconds": s.oldest_pending_age.map(|a| a.as_secs_f64()),
    })
}

/// A stored delivery as JSON: everything but the body (its length instead).
fn delivery_json(d: &StoredDelivery) -> Value {
    json!({
        "id": d.id,
        "status": d.status.as_str(),
        "eventType": Some(d.event_type.as_str()).filter(|e| !e.is_empty()),
        "callId": d.call_id,
        "attempts": d.attempts,
        "receivedAt": time(d.received_at),
        "availableAt": time(d.available_at),
        "leaseUntil": d.lease_until.map(time),
        "processedAt": d.processed_at.map(time),
        "lastError": d.last_error,
        "recovered": is_recovered_id(&d.id),
        "contentType": d.content_type,
        "bodyBytes": d.body.len(),
    })
}

fn or_dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "-".to_owned())
}

/// RFC 3339 in UTC, milliseconds.
fn time(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn cut(s: &str, max: usize) -> String {
    let s = one_line(s);
    if s.chars().count() <= max {
        s
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}
