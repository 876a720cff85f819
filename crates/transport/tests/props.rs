//! Properties over arbitrary input: snippets never panic and stay short; any id that passes
//! validation makes a valid URI whose path segment decodes back to the id.

use atoms_webhook_transport::endpoint::{DeleteWebhook, GetAgentSubscriptions, GetWebhook};
use atoms_webhook_transport::{build, snippet, Config, Error, SNIPPET_CHARS};
use proptest::prelude::*;

fn config() -> Config {
    Config::new("k").base_url("https://api.smallest.ai/atoms/v1")
}

proptest! {
    #[test]
    fn snippets_are_short_and_never_panic(body in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let s = snippet(&body);
        prop_assert!(s.chars().count() <= SNIPPET_CHARS + 1);
    }

    #[test]
    fn secret_values_never_survive_in_snippets(secret in "[a-zA-Z0-9_-]{8,40}", pad in 0usize..150) {
        let body = format!(r#"{{"pad":"{}","decryptedSecretKey":"{secret}"}}"#, "p".repeat(pad));
        prop_assert!(!snippet(body.as_bytes()).contains(&secret));
    }

    #[test]
    fn ids_round_trip_through_the_uri(id in "\\PC{1,40}") {
        match build(&config(), &DeleteWebhook::new(id.as_str())) {
            Ok(req) => {
                let segment = req.uri().path().rsplit('/').next().unwrap().to_owned();
                let decoded = percent_encoding::percent_decode_str(&segment).decode_utf8().unwrap();
                prop_assert_eq!(decoded.as_ref(), id.as_str());
                let req = build(&config(), &GetAgentSubscriptions::new(id.as_str())).unwrap();
                prop_assert!(req.uri().path().ends_with("/webhook-subscriptions"));
                let req = build(&config(), &GetWebhook::new(id.as_str())).unwrap();
                let query = req.uri().query().unwrap().strip_prefix("webhookId=").unwrap().to_owned();
                let decoded = percent_encoding::percent_decode_str(&query).decode_utf8().unwrap();
                prop_assert_eq!(decoded.as_ref(), id.as_str());
            }
            Err(Error::Validation(v)) => prop_assert_eq!(v.field(), "id"),
            Err(e) => prop_assert!(false, "unexpected error {e:?}"),
        }
    }
}
