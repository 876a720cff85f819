#![no_main]
// filled in once the transport crate lands
use libfuzzer_sys::fuzz_target;
fuzz_target!(|_data: &[u8]| {});
