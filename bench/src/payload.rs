//! The bytes every contender works on: delivery bodies for parsing, and the bodies and secret of
//! the verification figures (the same as `crates/models/benches/models.rs` and
//! `scripts/python/bench_sdk.py`).

use std::path::{Path, PathBuf};

use crate::BoxError;

/// The signing secret of the verification figures.
pub const SECRET: &str = "whsec_bench_secret_0123456789abcdef";

/// The verification body sizes: label and length in bytes.
pub const VERIFY_SIZES: [(&str, usize); 3] = [("1k", 1024), ("14k", 14 * 1024), ("1m", 1 << 20)];

/// The pattern the verification bodies repeat (JSON-looking, so no contender gets an easy input).
const PATTERN: &[u8] = b"{\"a\":\"0123456789\"}";

/// A verification body of `len` bytes: [`PATTERN`] repeated and cut.
pub fn verify_body(len: usize) -> Vec<u8> {
    PATTERN.iter().copied().cycle().take(len).collect()
}

/// One delivery body to parse, named after its file (without `.json`).
#[derive(Clone, Debug)]
pub struct Payload {
    /// The file name without `.json` (`post-conversation-14k`).
    pub name: String,
    /// The bytes.
    pub body: Vec<u8>,
}

/// The workspace root (this crate's parent folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The default payload files, relative to the workspace root: the three documented examples and
/// the ~14 KB post-conversation.
pub const DEFAULT_PAYLOADS: [&str; 4] = [
    "crates/models/tests/fixtures/examples/pre-conversation.json",
    "crates/models/tests/fixtures/examples/post-conversation.json",
    "crates/models/tests/fixtures/examples/analytics-completed.json",
    "bench-data/post-conversation-14k.json",
];

/// The name of the payload the headline ratios use.
pub const LARGE_PAYLOAD: &str = "post-conversation-14k";

/// Reads payload files; each is named after its file stem.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Payload>, BoxError> {
    paths
        .iter()
        .map(|path| {
            let body = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or_else(|| format!("{}: no file name", path.display()))?
                .to_owned();
            Ok(Payload { name, body })
        })
        .collect()
}

/// [`DEFAULT_PAYLOADS`], read from the workspace root.
pub fn load_default() -> Result<Vec<Payload>, BoxError> {
    let root = workspace_root();
    let paths: Vec<PathBuf> = DEFAULT_PAYLOADS.iter().map(|p| root.join(p)).collect();
    load(&paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_bodies_repeat_the_pattern_exactly() {
        let body = verify_body(40);
        assert_eq!(&body[..18], PATTERN);
        assert_eq!(&body[18..36], PATTERN);
        assert_eq!(&body[36..], &PATTERN[..4]);
        assert_eq!(verify_body(1 << 20).len(), 1 << 20);
    }

    #[test]
    fn default_payloads_are_named_after_their_files() {
        let payloads = load_default().unwrap();
        let names: Vec<&str> = payloads.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "pre-conversation",
                "post-conversation",
                "analytics-completed",
                LARGE_PAYLOAD
            ]
        );
        assert!(payloads[3].body.len() > 13_000);
    }
}
