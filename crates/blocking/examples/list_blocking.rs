//! Lists the organization's webhooks and their subscribed agents.
//!
//! ```sh
//! SMALLEST_API_KEY=... cargo run -p atoms-webhook-blocking --example list_blocking
//! # against another server (the emulator, a proxy):
//! ATOMS_BASE_URL=http://127.0.0.1:8080 SMALLEST_API_KEY=... cargo run -p atoms-webhook-blocking --example list_blocking
//! ```

use atoms_webhook_blocking::Client;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), atoms_webhook_blocking::Error> {
    let client = Client::from_env()?;
    let webhooks = client.list_webhooks()?;
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
