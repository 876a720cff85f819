//! A minimal Atoms webhook receiver on axum: the body is verified before it is parsed.
//!
//! `ATOMS_WEBHOOK_SECRET=... cargo run -p atoms-webhook-receiver --features axum --example axum_receiver`
use atoms_webhook_receiver::{axum::VerifiedEvent, Receiver};
use axum::{routing::post, Router};

/// The app: one route, the receiver (secrets, size limit) in the router state.
pub fn app(receiver: Receiver) -> Router {
    Router::new()
        .route("/webhooks/atoms", post(on_event))
        .with_state(receiver)
}

/// Runs only for a verified, parsed delivery; everything else was answered 401/413/400/405.
async fn on_event(VerifiedEvent(event): VerifiedEvent) -> &'static str {
    // Answer quickly: Atoms waits 30 s and never retries (see the inbox example for durability).
    println!("{} for call {:?}", event.event_type(), event.call_id());
    "ok"
}

#[allow(dead_code)] // The tests include this file for `app` only.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("ATOMS_WEBHOOK_SECRET")?;
    let receiver = Receiver::new(secret)?.max_body(1024 * 1024);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!(
        "listening on http://{}/webhooks/atoms",
        listener.local_addr()?
    );
    axum::serve(listener, app(receiver)).await?;
    Ok(())
}
