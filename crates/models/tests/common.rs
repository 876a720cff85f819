//! Shared helpers for the models tests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

/// The fixtures folder of this crate.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The first path at which `a` and `b` differ, or `None` when equal.
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let p = format!("{path}.{k}");
                match y.get(k) {
                    None => return Some(format!("{p}: missing after round trip")),
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &p) {
                            return Some(d);
                        }
                    }
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k}: added by round trip"))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: length {} became {}", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} became {b}")),
    }
}

/// Asserts that `after` equals `before`, naming the first differing key path.
pub fn assert_same(before: &Value, after: &Value, what: &str) {
    if let Some(d) = first_difference(before, after, "$") {
        panic!("{what}: round trip changed the JSON at {d}");
    }
    assert_eq!(before, after, "{what}");
}
