//! The load generator of the receive figures: signed ~14 KB deliveries with fresh ids, posted
//! by many concurrent senders (closed loop, for throughput) or at a fixed rate (open loop, for
//! the time to the 2xx).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atoms_webhook_async::reqwest;
use atoms_webhook_models::{sign, SigningSecret};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::BoxError;

/// Concurrent senders of the throughput figures.
pub const SENDERS: usize = 64;

/// The rate of the latency figure, deliveries per second.
pub const FIXED_RATE: f64 = 1000.0;

/// Signed copies of one delivery body, each with a delivery id never used before, so that no
/// receiver can take one for a duplicate.
#[derive(Debug)]
pub struct Deliveries {
    template: Vec<u8>,
    /// Where the 24 hex characters of the template's `id` start.
    id_at: usize,
    secret: SigningSecret,
    /// The first 8 hex characters of every id (the ObjectId's seconds, as the template's).
    stamp: [u8; 8],
    /// A per-run prefix, so that several runs on one database never collide.
    run: u32,
    next: AtomicU64,
}

impl Deliveries {
    /// Copies of `template` (a delivery body whose top-level `id` is a 24-hex ObjectId) signed
    /// with `secret`.
    pub fn new(template: Vec<u8>, secret: SigningSecret) -> Result<Self, BoxError> {
        let value: serde_json::Value = serde_json::from_slice(&template)?;
        let id = value["id"]
            .as_str()
            .filter(|id| id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or("the template has no 24-hex `id`")?;
        let quoted = format!("\"{id}\"");
        let at = find(&template, quoted.as_bytes()).ok_or("the template's id is not in it")?;
        if find(&template[at + 1..], quoted.as_bytes()).is_some() {
            return Err("the template's id appears more than once".into());
        }
        let mut stamp = [0u8; 8];
        stamp.copy_from_slice(&id.as_bytes()[..8]);
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() ^ (d.as_secs() as u32));
        Ok(Self {
            template,
            id_at: at + 1,
            secret,
            stamp,
            run,
            next: AtomicU64::new(0),
        })
    }

    /// The next delivery: its body and its `X-Signature` value.
    pub fn next(&self) -> (Vec<u8>, String) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut body = self.template.clone();
        let tail = format!("{:08x}{:08x}", self.run, n as u32);
        body[self.id_at..self.id_at + 8].copy_from_slice(&self.stamp);
        body[self.id_at + 8..self.id_at + 24].copy_from_slice(tail.as_bytes());
        let signature = sign(&self.secret, &body);
        (body, signature)
    }

    /// How many deliveries were made.
    pub fn made(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A client for the senders: keep-alive, one connection per sender, no proxy.
pub fn client() -> Result<reqwest::Client, BoxError> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(SENDERS * 2)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Posts one delivery; anything but a 2xx is an error.
pub async fn post(client: &reqwest::Client, url: &str, d: &Deliveries) -> Result<(), BoxError> {
    let (body, signature) = d.next();
    let response = client
        .post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("x-signature", signature)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    // Read the answer to the end, so the connection is reused.
    response.bytes().await?;
    if !status.is_success() {
        return Err(format!("the receiver answered {status}").into());
    }
    Ok(())
}

/// [`SENDERS`] senders each post `per_sender` deliveries one after the other; returns the time
/// until the last answer.
pub async fn closed_loop(
    client: &reqwest::Client,
    url: &str,
    deliveries: &Arc<Deliveries>,
    per_sender: u64,
) -> Result<Duration, BoxError> {
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..SENDERS {
        let (client, url, d) = (client.clone(), url.to_owned(), deliveries.clone());
        tasks.spawn(async move {
            for _ in 0..per_sender {
                post(&client, &url, &d).await?;
            }
            Ok::<(), BoxError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(start.elapsed())
}

/// Times to the 2xx at a fixed rate, in milliseconds.
#[derive(Clone, Copy, PartialEq, Debug, Serialize)]
pub struct Latency {
    /// Deliveries per second asked for.
    pub rate: f64,
    /// Deliveries sent.
    pub count: usize,
    /// The median time from the moment a delivery was due to its 2xx.
    pub p50_ms: f64,
    /// The 99th percentile of the same.
    pub p99_ms: f64,
    /// The slowest.
    pub max_ms: f64,
}

/// Posts `count` deliveries at `rate` per second, each started when it is due whatever the
/// others are doing (open loop), and measures from the moment it was due, so that a stall
/// shows in the figures instead of slowing the sender down.
pub async fn fixed_rate(
    client: &reqwest::Client,
    url: &str,
    deliveries: &Arc<Deliveries>,
    rate: f64,
    count: usize,
) -> Result<Latency, BoxError> {
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut tasks = JoinSet::new();
    for i in 0..count {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due).await;
        let (client, url, d) = (client.clone(), url.to_owned(), deliveries.clone());
        tasks.spawn(async move {
            post(&client, &url, &d).await?;
            Ok::<Duration, BoxError>(due.elapsed())
        });
    }
    let mut times = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        times.push(done??.as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    if times.is_empty() {
        return Err("no deliveries were sent".into());
    }
    Ok(Latency {
        rate,
        count,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use atoms_webhook_models::Verifier;

    #[test]
    fn every_delivery_has_a_new_id_and_a_valid_signature() {
        let template = crate::payload::load_default().unwrap().pop().unwrap().body;
        let secret = SigningSecret::new("s");
        let d = Deliveries::new(template.clone(), secret.clone()).unwrap();
        let verifier = Verifier::new(secret).unwrap();
        let mut ids = std::collections::HashSet::new();
        for _ in 0..3 {
            let (body, signature) = d.next();
            assert_eq!(body.len(), template.len());
            let event = verifier.verify_and_parse(&body, &signature).unwrap();
            assert!(!event.is_unknown());
            let id = event.delivery_id().unwrap().to_string();
            assert_eq!(&id[..8], "69fd9657");
            assert!(ids.insert(id));
        }
        assert_eq!(d.made(), 3);
        assert!(Deliveries::new(b"{\"id\":\"x\"}".to_vec(), SigningSecret::new("s")).is_err());
    }
}
