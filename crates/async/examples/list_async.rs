//! Lists the organization's webhooks and their subscribed agents.
//!
//! ```sh
//! SMALLEST_API_KEY=... cargo run -p atoms-webhook-async --example list_async
//! # against another server (the emulator, a proxy):
//! ATOMS_BASE_URL=http://127.0.0.1:8080 SMALLEST_API_KEY=... cargo run -p atoms-webhook-async --example list_async
//! ```

use atoms_webhook_async::Client;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), atoms_webhook_async::Error> {
    let client = Client::from_env()?;
    let webhooks = client.list_webhooks().await?;
    println!(
        "{} webhook(s) at {}",
        webhooks.len(),
        client.config().base_url
    );
    for w in &webhooks {
        let agents: Vec<String> = w.agent_ids().iter().map(ToString::to_string).collect();
        println!(
            "{}  {}  {}  agents: [{}]",
            w.id,
            if w.is_enabled() {
                "enabled "
            } else {
                "disabled"
            },
            w.url.as_deref().unwrap_or("-"),
            agents.join(", ")
        );
    }
    Ok(())
}
