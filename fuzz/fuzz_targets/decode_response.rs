//! Any status, headers and body as the answer to each endpoint: decoding never panics, an
//! error keeps the status the server sent, and a success is only ever a 2xx.
#![no_main]

use atoms_webhook_transport::{
    decode, ClearAgentSubscriptions, CreateWebhook, DeleteWebhook, Endpoint, Error,
    GetAgentSubscriptions, GetWebhook, ListWebhooks, ReplaceAgentSubscriptions, UpdateWebhook,
};
use libfuzzer_sys::fuzz_target;

fn check<R: Endpoint>(status: u16, retry_after: &[u8], body: &[u8]) {
    let mut builder = http::Response::builder().status(status);
    if let Ok(v) = http::HeaderValue::from_bytes(retry_after) {
        builder = builder.header("retry-after", v);
    }
    let Ok(response) = builder.body(body.to_vec()) else { return };
    match decode::<R>(response) {
        Ok(_) => assert!((200..300).contains(&status), "decoded a {status} as success"),
        Err(e) => {
            let _ = (e.to_string(), e.is_retryable(), e.retry_after());
            if let Error::Api(api) = &e {
                assert_eq!(api.status.as_u16(), status);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Bytes 0-1: status; byte 2: endpoint; byte 3: length of a Retry-After value; the rest body.
    if data.len() < 4 {
        return;
    }
    let status = 100 + u16::from_le_bytes([data[0], data[1]]) % 500;
    let n = (data[3] as usize).min(data.len() - 4);
    let (retry_after, body) = data[4..].split_at(n);
    match data[2] % 8 {
        0 => check::<ListWebhooks>(status, retry_after, body),
        1 => check::<GetWebhook>(status, retry_after, body),
        2 => check::<CreateWebhook>(status, retry_after, body),
        3 => check::<UpdateWebhook>(status, retry_after, body),
        4 => check::<DeleteWebhook>(status, retry_after, body),
        5 => check::<GetAgentSubscriptions>(status, retry_after, body),
        6 => check::<ReplaceAgentSubscriptions>(status, retry_after, body),
        _ => check::<ClearAgentSubscriptions>(status, retry_after, body),
    }
});
