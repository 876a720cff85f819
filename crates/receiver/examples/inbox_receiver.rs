//! A receiver that never loses a delivery: each one is committed to a SQLite inbox before the
//! 2xx, then handed to a worker (at least once, in order per call, with backoff).
//!
//! `ATOMS_WEBHOOK_SECRET=... cargo run -p atoms-webhook-receiver --features axum --example inbox_receiver`
use std::sync::Arc;

use atoms_webhook_receiver::axum::InboxService;
use atoms_webhook_receiver::{handler_fn, Delivery, Inbox, Receiver, SqliteStore, Store, Worker};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("ATOMS_WEBHOOK_SECRET")?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open("atoms-inbox.db")?);
    let wake = Arc::new(tokio::sync::Notify::new());
    let inbox = Inbox::new(Receiver::new(secret)?, store.clone()).wake(wake.clone());

    // Idempotent on `d.id`: a delivery may come again after a crash.
    let worker = Worker::new(
        store,
        handler_fn(|d: Delivery| async move {
            println!("{} (attempt {}): {}", d.id, d.attempt, d.event.event_type());
            Ok::<(), std::io::Error>(())
        }),
    )
    .wake_on(wake);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut stopped_worker = stopped.clone();
    let work = tokio::spawn(async move {
        worker
            .run(async move {
                let _ = stopped_worker.changed().await;
            })
            .await
    });

    let app = axum::Router::new().route_service("/webhooks/atoms", InboxService::new(inbox));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!(
        "listening on http://{}/webhooks/atoms",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    // Stop taking deliveries, then let the worker finish the batch in hand.
    let _ = stop.send(true);
    drop(stopped);
    work.await??;
    Ok(())
}
