//! Any bytes as a delivery body: parsing never panics, and whatever parses serializes to JSON
//! that parses to the same event again.
#![no_main]

use atoms_webhook_models::WebhookEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = WebhookEvent::from_slice(data) {
        let again = WebhookEvent::from_slice(&event.to_vec()).expect("re-serialized event must parse");
        assert_eq!(again, event, "round trip changed the event");
        // Accessors never panic either.
        let _ = (event.call_id(), event.agent_id(), event.from_number(), event.to_number(), event.event_type());
    }
});
