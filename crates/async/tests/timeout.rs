//! The total timeout of the `Config` applies to every attempt, whether the client built its
//! reqwest client (`Client::new`) or was given one (`Client::with_http_client`, with no timeout
//! of its own or a far longer one): the client keeps it itself, on its watchdog thread. The
//! server is a real listener on 127.0.0.1 that accepts and never answers.

use std::net::TcpListener;
use std::time::Duration;

use atoms_webhook_async::{reqwest, Client, Config, Error, RetryConfig};

/// Accepts connections and keeps them open without a byte of answer.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(s) => open.push(s),
                Err(_) => break,
            }
        }
    });
    url
}

fn config(url: &str) -> Config {
    Config::new("sk-test")
        .base_url(url)
        .timeout(Duration::from_millis(200))
        .retry(RetryConfig::disabled())
}

/// Runs one call; a client that ignored the 200 ms timeout would still be waiting when the
/// bound (far longer than the timeout) runs out.
async fn call(client: &Client) -> Error {
    tokio::time::timeout(Duration::from_secs(20), client.list_webhooks())
        .await
        .expect("the call ended (the configured timeout applied)")
        .expect_err("the server never answers")
}

#[tokio::test]
async fn the_config_timeout_applies_with_the_clients_own_reqwest() {
    let url = silent_server();
    let client = Client::new(config(&url)).unwrap();
    let e = call(&client).await;
    assert!(e.is_timeout() && !e.is_connect(), "{e:?}");
}

#[tokio::test]
async fn the_config_timeout_applies_with_a_given_reqwest_client() {
    let url = silent_server();
    // No timeout of its own, then a far longer one: the config's applies either way.
    for http in [
        reqwest::Client::new(),
        reqwest::Client::builder()
            .timeout(Duration::from_secs(3600))
            .build()
            .unwrap(),
    ] {
        let client = Client::with_http_client(config(&url), http).unwrap();
        let e = call(&client).await;
        assert!(e.is_timeout() && !e.is_connect(), "{e:?}");
    }
}
