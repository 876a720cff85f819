//! A signature computed outside this crate (`openssl dgst -sha256 -hmac`, checked against
//! Python's `hmac`) verifies here, and ours matches it.

use atoms_webhook_models::{sign, SigningSecret, Verifier, VerifyError, WebhookEvent};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/signatures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn independent_signature_verifies() {
    let body = data("post-conversation.body");
    let secret = SigningSecret::new(String::from_utf8(data("secret.txt")).unwrap());
    let sig = String::from_utf8(data("post-conversation.sig")).unwrap();
    let sig = sig.trim();
    assert_eq!(sign(&secret, &body), sig);
    let verifier = Verifier::new(secret).unwrap();
    let event = verifier.verify_and_parse(&body, sig).unwrap();
    assert!(matches!(event, WebhookEvent::PostConversation(_)));

    // One flipped byte anywhere in the body fails.
    let mut tampered = body.clone();
    tampered[body.len() / 2] ^= 1;
    assert!(matches!(
        verifier.verify(&tampered, sig),
        Err(VerifyError::Mismatch)
    ));
    // A re-serialized body is not the signed body.
    let reserialized = event.to_vec();
    assert_ne!(reserialized, body);
    assert!(matches!(
        verifier.verify(&reserialized, sig),
        Err(VerifyError::Mismatch)
    ));
}
