//! Reads a delivery body on stdin, verifies it when a secret is given, parses it, and writes
//! the re-serialized event to stdout (kind and call id to stderr).
//!
//! ```text
//! cargo run -q -p atoms-webhook-models --example parse_event -- [--secret S --signature SIG] < body.json
//! ```
//! `SIG` is the header's value in any form a sender uses: `<hex>`, upper-case hex,
//! `sha256=<hex>`, or a whole header line (`X-Signature: ...` or `X-Atoms-Signature: ...`).
//! Exit codes: 0 success; 1 bad signature or unparseable body; 2 bad arguments.

use std::io::{Read, Write};
use std::process::ExitCode;

use atoms_webhook_models::{SigningSecret, Verifier, WebhookEvent};

const USAGE: &str = "usage: parse_event [--secret S --signature SIG] < body.json
  SIG: <hex>, sha256=<hex>, or a header line `X-Signature: ...` / `X-Atoms-Signature: ...`";

fn main() -> ExitCode {
    let mut secret = None;
    let mut signature = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--secret" => &mut secret,
            "--signature" => &mut signature,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unexpected argument `{other}`")),
        };
        match args.next() {
            Some(v) if slot.is_none() => *slot = Some(v),
            Some(_) => return usage(&format!("{arg} given twice")),
            None => return usage(&format!("{arg} needs a value")),
        }
    }
    let mut body = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut body) {
        eprintln!("error: cannot read stdin: {e}");
        return ExitCode::from(1);
    }
    let parsed = match (secret, signature) {
        (Some(s), Some(sig)) => match Verifier::new(SigningSecret::new(s)) {
            Ok(v) => v.verify_and_parse(&body, &sig).map_err(|e| e.to_string()),
            Err(e) => return usage(&e.to_string()),
        },
        (None, None) => WebhookEvent::from_slice(&body).map_err(|e| e.to_string()),
        _ => return usage("--secret and --signature go together"),
    };
    match parsed {
        Ok(event) => {
            let call = event
                .call_id()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into());
            eprintln!("{} {}", event.event_type(), call);
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&event.to_vec());
            let _ = out.write_all(b"\n");
            ExitCode::SUCCESS
        }
        Err(reason) => {
            eprintln!("error: {reason}");
            ExitCode::from(1)
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("error: {problem}\n{USAGE}");
    ExitCode::from(2)
}
