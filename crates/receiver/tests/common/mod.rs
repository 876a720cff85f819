//! Shared test helpers: realistic signed bodies (the three documented examples, with ids and
//! call ids varied), a manual clock and a recording sleeper.
#![allow(dead_code)]

pub mod suite;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atoms_webhook_models::{sign, SigningSecret};
use atoms_webhook_receiver::{BoxFuture, Clock, ManualClock, Sleeper};
use http::HeaderMap;

pub const PRE: &str = include_str!("../data/pre-conversation.json");
pub const POST: &str = include_str!("../data/post-conversation.json");
pub const ANALYTICS: &str = include_str!("../data/analytics-completed.json");

const PRE_ID: &str = "69fd96118fd277fc807e4c23";
const POST_ID: &str = "69fd96578d7c3809f58ce555";
const ANALYTICS_ID: &str = "69fd96632b717269846aa433";
const CALL: &str = "CALL-1778226705739-7e4c17";

pub const SECRET: &str = "whsec-test-2f1c9a";

pub fn secret() -> SigningSecret {
    SigningSecret::new(SECRET)
}

/// The moment the documented examples were sent (the pre-conversation id's time).
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(0x69fd9611)
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(t0()))
}

/// An ObjectId with the given time and a counter.
pub fn object_id(at: SystemTime, n: u64) -> String {
    let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs();
    format!("{:08x}{:016x}", secs as u32, n)
}

/// One of the three examples (`kind` 0 = pre, 1 = post, 2 = analytics) with its id and call id
/// replaced.
pub fn body(kind: usize, id: &str, call: &str) -> Vec<u8> {
    let (template, orig) = match kind {
        0 => (PRE, PRE_ID),
        1 => (POST, POST_ID),
        _ => (ANALYTICS, ANALYTICS_ID),
    };
    let out = template.replace(orig, id).replace(CALL, call);
    assert!(out.contains(id) && out.contains(call));
    out.into_bytes()
}

pub fn headers(body: &[u8]) -> HeaderMap {
    headers_with(&secret(), body)
}

pub fn headers_with(secret: &SigningSecret, body: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", "application/json".parse().unwrap());
    h.insert("user-agent", "Atoms-Webhooks/1.0".parse().unwrap());
    h.insert("x-signature", sign(secret, body).parse().unwrap());
    h
}

/// A sleeper that returns at once after advancing the clock by the requested time, and records
/// every requested time.
#[derive(Clone)]
pub struct RecordingSleeper {
    pub clock: Arc<ManualClock>,
    pub slept: Arc<Mutex<Vec<Duration>>>,
}

impl RecordingSleeper {
    pub fn new(clock: Arc<ManualClock>) -> Self {
        Self {
            clock,
            slept: Arc::default(),
        }
    }

    pub fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.slept.lock().unwrap().push(duration);
        self.clock.advance(duration);
        Box::pin(async {
            tokio::task::yield_now().await;
        })
    }
}

pub fn now(clock: &Arc<ManualClock>) -> SystemTime {
    clock.now()
}
