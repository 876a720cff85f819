//! The Rust side of the cross-check with the official Python SDK (`scripts/python/sdk_check.py
//! --crosscheck`, run by `scripts/python-sdk-check.sh`).
//!
//! ```text
//! crosscheck export --out DIR [--count 1000] [--seed 20261128] [--examples DIR]
//! crosscheck verify --dir DIR
//! ```
//!
//! `export` writes, under DIR:
//! - `events/NNNN.json`: `count` deliveries drawn from the models crate's
//!   `strategies::known_event()` with a fixed seed (documented event types and enum values only,
//!   every documented field present), as Rust serializes them;
//! - `examples/NAME.json`: each documented example of `--examples`, parsed by Rust and written
//!   back (what Rust understood);
//! - `rust-signed/NAME.json` + `NAME.sig`: bodies signed by Rust (`sign`) with each secret of
//!   `manifest.json`, plus tampered copies (`NAME.bad.json`/`.sig`) whose signature must NOT
//!   verify;
//! - `manifest.json`: the seed, the count, the secrets, and a digest of the events (the same
//!   seed gives the same digest).
//!
//! `verify` checks the bodies Python signed (`DIR/py-signed/NAME.json` + `NAME.sig`, secret
//! index in `NAME.key`) with Rust's `Verifier`: a file whose name contains `.bad.` must be
//! refused, every other one accepted. It prints one JSON line per file,
//! `{"name": ..., "ok": true|false, "detail": ...}`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use atoms_webhook_models::strategies::known_event;
use atoms_webhook_models::{sign, SigningSecret, Verifier, WebhookEvent};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::json;

const DEFAULT_COUNT: usize = 1000;
const DEFAULT_SEED: u64 = 20_261_128;

/// Signing secrets: the platform's shape (64 hex), a long one (over the 64-byte HMAC block,
/// so it is hashed first) and a non-ASCII one (the key is its UTF-8 bytes).
fn secrets() -> Vec<String> {
    vec![
        "3f6c1b9e8d7a4f2e0c5b6a7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b".to_owned(),
        "k".repeat(100),
        "sécret-clé-🔑-ключ".to_owned(),
    ]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("export") => export(&args[1..]),
        Some("verify") => verify(&args[1..]),
        _ => Err(usage()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crosscheck: {e}");
            ExitCode::from(2)
        }
    }
}

fn usage() -> String {
    "usage: crosscheck export --out DIR [--count N] [--seed S] [--examples DIR] | \
     crosscheck verify --dir DIR"
        .to_owned()
}

/// The value of `--name` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn mkdir(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("creating {}: {e}", path.display()))
}

/// `count` events from `known_event()`, reproducibly from `seed`.
fn generate(count: usize, seed: u64) -> Result<Vec<WebhookEvent>, String> {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    );
    let strategy = known_event();
    let mut events = Vec::with_capacity(count);
    while events.len() < count {
        let event = strategy
            .new_tree(&mut runner)
            .map(|tree| tree.current())
            .map_err(|e| format!("generating an event: {e}"))?;
        if python_can_read(&event) {
            events.push(event);
        }
    }
    Ok(events)
}

/// The official Python SDK (5.14) types a metric value as integer, string or boolean and
/// refuses `null`, which Atoms sends for a call without a conversation; such events are
/// covered by the Rust fixtures, not by this comparison.
fn python_can_read(event: &WebhookEvent) -> bool {
    event.analytics().is_none_or(|a| {
        a.metrics()
            .all(|m| !matches!(m.value, Some(atoms_webhook_models::MetricValue::Null)))
    })
}

fn export(args: &[String]) -> Result<(), String> {
    let out = PathBuf::from(flag(args, "--out").ok_or_else(usage)?);
    let count = match flag(args, "--count") {
        Some(n) => n.parse().map_err(|_| format!("bad --count {n}"))?,
        None => DEFAULT_COUNT,
    };
    let seed = match flag(args, "--seed") {
        Some(s) => s.parse().map_err(|_| format!("bad --seed {s}"))?,
        None => DEFAULT_SEED,
    };
    let secrets = secrets();
    for dir in ["events", "examples", "rust-signed", "py-signed"] {
        mkdir(&out.join(dir))?;
    }

    // Generated events, as Rust writes them; each must also read back to itself in Rust.
    let events = generate(count, seed)?;
    let mut all = Vec::new();
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for (i, event) in events.iter().enumerate() {
        let body = event.to_vec();
        let again = WebhookEvent::from_slice(&body).map_err(|e| format!("event {i}: {e}"))?;
        if &again != event {
            return Err(format!("event {i} does not read back to itself in Rust"));
        }
        *kinds.entry(event.event_type().to_string()).or_default() += 1;
        write(&out.join(format!("events/{i:04}.json")), &body)?;
        all.extend_from_slice(&body);
        all.push(b'\n');
    }
    let digest = sign(&SigningSecret::new("crosscheck-digest"), &all);

    // The documented examples, as Rust understood them.
    let mut examples = Vec::new();
    if let Some(dir) = flag(args, "--examples") {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("reading {dir}: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let raw = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let event =
                WebhookEvent::from_slice(&raw).map_err(|e| format!("{}: {e}", path.display()))?;
            if event.is_unknown() {
                return Err(format!("{}: parsed as an unknown event", path.display()));
            }
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            write(&out.join("examples").join(&*name), &event.to_vec())?;
            examples.push(name.into_owned());
        }
    }

    // Bodies signed by Rust: some generated events, and the edge cases, with every secret.
    let mut bodies: Vec<(String, Vec<u8>)> = events
        .iter()
        .take(100)
        .enumerate()
        .map(|(i, e)| (format!("event-{i:04}"), e.to_vec()))
        .collect();
    bodies.extend(edge_bodies());
    let mut signed = 0;
    for (k, secret) in secrets.iter().enumerate() {
        let secret = SigningSecret::new(secret.as_str());
        for (name, body) in &bodies {
            let stem = format!("s{k}-{name}");
            let dir = out.join("rust-signed");
            write(&dir.join(format!("{stem}.json")), body)?;
            write(
                &dir.join(format!("{stem}.sig")),
                sign(&secret, body).as_bytes(),
            )?;
            write(&dir.join(format!("{stem}.key")), k.to_string().as_bytes())?;
            signed += 1;
        }
        // Negative controls: a body changed after signing, and another secret's signature.
        let (_, body) = &bodies[0];
        let mut tampered = body.clone();
        tampered.push(b' ');
        let other = SigningSecret::new(format!("{}x", secret.expose()));
        for (stem, body, sig) in [
            (format!("s{k}-tampered.bad"), tampered, sign(&secret, body)),
            (
                format!("s{k}-other-secret.bad"),
                body.clone(),
                sign(&other, body),
            ),
        ] {
            let dir = out.join("rust-signed");
            write(&dir.join(format!("{stem}.json")), &body)?;
            write(&dir.join(format!("{stem}.sig")), sig.as_bytes())?;
            write(&dir.join(format!("{stem}.key")), k.to_string().as_bytes())?;
        }
    }

    let manifest = json!({
        "seed": seed,
        "count": count,
        "byEventType": kinds,
        "digest": digest,
        "secrets": secrets,
        "examples": examples,
        "rustSigned": signed,
    });
    write(
        &out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)
            .map_err(|e| e.to_string())?
            .as_bytes(),
    )?;
    println!(
        "exported {count} events (seed {seed}, digest {digest}), {} examples, {signed} signed bodies to {}",
        examples.len(),
        out.display()
    );
    Ok(())
}

/// Bodies whose bytes are unusual: empty, not UTF-8, non-ASCII, large.
fn edge_bodies() -> Vec<(String, Vec<u8>)> {
    vec![
        ("empty".to_owned(), Vec::new()),
        (
            "not-utf8".to_owned(),
            vec![0xff, 0xfe, 0x00, 0x80, b'{', 0xc3],
        ),
        (
            "unicode".to_owned(),
            r#"{"content":"नमस्ते — ₹18500 🔑 \u2028"}"#.as_bytes().to_vec(),
        ),
        ("large".to_owned(), {
            let mut b = br#"{"pad":""#.to_vec();
            b.extend(std::iter::repeat_n(b'x', 1 << 20));
            b.extend_from_slice(br#""}"#);
            b
        }),
    ]
}

fn verify(args: &[String]) -> Result<(), String> {
    let dir = PathBuf::from(flag(args, "--dir").ok_or_else(usage)?).join("py-signed");
    let secrets = secrets();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!("no *.json in {}", dir.display()));
    }
    for name in names {
        let read = |ext: &str| std::fs::read(dir.join(format!("{name}.{ext}")));
        let (ok, detail) = match (read("json"), read("sig"), read("key")) {
            (Ok(body), Ok(sig), Ok(key)) => {
                let k: usize = String::from_utf8_lossy(&key).trim().parse().unwrap_or(0);
                let secret = SigningSecret::new(secrets.get(k).cloned().unwrap_or_default());
                let verdict = Verifier::new(secret)
                    .map(|v| v.max_body(4 << 20))
                    .and_then(|v| v.verify(&body, &String::from_utf8_lossy(&sig)));
                let expect_ok = !name.contains(".bad");
                match (verdict, expect_ok) {
                    (Ok(()), true) => (true, "accepted".to_owned()),
                    (Err(e), false) => (true, format!("refused as expected: {e}")),
                    (Ok(()), false) => (false, "accepted a bad signature".to_owned()),
                    (Err(e), true) => (false, format!("refused: {e}")),
                }
            }
            _ => (false, "missing .json, .sig or .key".to_owned()),
        };
        println!("{}", json!({"name": name, "ok": ok, "detail": detail}));
    }
    Ok(())
}
