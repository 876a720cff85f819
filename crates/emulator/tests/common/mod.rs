//! A raw HTTP client for the emulator tests: requests are built by hand (no SDK), answers come
//! back as status + headers + parsed JSON.
#![allow(dead_code)] // each test binary uses a different part

use atoms_webhook_emulator::Emulator;
use reqwest::{header::HeaderMap, Method};
use serde_json::{json, Value};

pub const AGENT: &str = "60d0fe4f5311236168a109ca";
pub const AGENT_2: &str = "60d0fe4f5311236168a109cb";
pub const UNKNOWN_ID: &str = "0123456789abcdef01234567";

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON (panics with the text when it is not JSON: every answer must be).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// `data` of a success envelope, checking the envelope and `status`.
    pub fn data(&self, status: u16) -> Value {
        let v = self.json();
        assert_eq!(self.status, status, "unexpected status; body {v}");
        assert_eq!(v["status"], json!(true), "{v}");
        v["data"].clone()
    }

    /// The keys of the first object of a `data` array, in the order they were sent (a
    /// `serde_json::Value` sorts them unless serde_json's `preserve_order` is on).
    pub fn first_data_keys(&self) -> Vec<String> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            data: Vec<atoms_webhook_models::Fields>,
        }
        let e: Envelope = serde_json::from_str(&self.text).expect("a data array");
        e.data[0].keys().map(str::to_owned).collect()
    }

    /// Asserts an error envelope with this status, and returns its messages.
    pub fn errors(&self, status: u16) -> Vec<String> {
        let v = self.json();
        assert_eq!(self.status, status, "unexpected status; body {v}");
        assert_eq!(v["status"], json!(false), "{v}");
        let errors = v["errors"].as_array().expect("errors array");
        assert!(!errors.is_empty(), "{v}");
        errors
            .iter()
            .map(|e| e.as_str().expect("string messages").to_owned())
            .collect()
    }

    /// Asserts a 400 whose messages include `needle` (as a substring of one of them).
    pub fn bad_request_mentioning(&self, needle: &str) {
        let errors = self.errors(400);
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "expected a message mentioning {needle:?}, got {errors:?}"
        );
    }
}

pub struct Client {
    pub emu: Emulator,
    pub http: reqwest::Client,
}

impl Client {
    pub async fn start() -> Self {
        Self::with(Emulator::builder()).await
    }

    pub async fn with(builder: atoms_webhook_emulator::EmulatorBuilder) -> Self {
        let emu = builder.start().await.expect("emulator starts");
        Self {
            emu,
            http: http_client(),
        }
    }

    /// A request with the right key; `body` is sent as given (raw text).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        auth: Option<&str>,
    ) -> Answer {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.emu.url(), path));
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let resp = req.send().await.expect("request sent");
        Answer {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            text: resp.text().await.expect("body read"),
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let auth = format!("Bearer {}", self.emu.api_key());
        let text = body.map(|b| b.to_string());
        self.raw(method, path, text.as_deref(), Some(&auth)).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a webhook and returns its id.
    pub async fn create(&self, url: &str, events: &[(&str, &str)]) -> String {
        let events: Vec<Value> = events
            .iter()
            .map(|(a, e)| json!({"agentId": a, "eventType": e}))
            .collect();
        let data = self
            .post(
                "/webhook",
                json!({"endpoint": url, "description": "test hook", "events": events}),
            )
            .await
            .data(201);
        data.as_str().expect("id string").to_owned()
    }

    /// The webhook as `GET /webhook?webhookId=` returns it.
    pub async fn webhook(&self, id: &str) -> Value {
        self.get(&format!("/webhook?webhookId={id}"))
            .await
            .data(200)
    }

    /// The (webhookId, eventType) pairs of an agent's subscriptions, sorted.
    pub async fn agent_pairs(&self, agent: &str) -> Vec<(String, String)> {
        let data = self
            .get(&format!("/agent/{agent}/webhook-subscriptions"))
            .await
            .data(200);
        let mut pairs: Vec<(String, String)> = data
            .as_array()
            .expect("array")
            .iter()
            .map(|s| {
                assert_eq!(s["agentId"], json!(agent), "{s}");
                (
                    s["webhookId"].as_str().expect("webhookId").to_owned(),
                    s["eventType"].as_str().expect("eventType").to_owned(),
                )
            })
            .collect();
        pairs.sort();
        pairs
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

pub fn is_object_id(v: &Value) -> bool {
    v.as_str()
        .is_some_and(atoms_webhook_models::ids::is_object_id)
}

/// `2026-05-08T07:51:58.813Z`: UTC, milliseconds, `Z`.
pub fn is_api_timestamp(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    b.len() == 24
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
        && b[19] == b'.'
        && b[23] == b'Z'
}
