//! Cross-crate tests live in `tests/`. This library only checks that the README's Rust
//! examples compile (and run, where they need no network).

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
