//! What the terminal allows, read from the environment. A leaf module: the error reporter
//! and the output writer both ask it, and neither imports the other for it.

/// True unless `NO_COLOR` is set to something non-empty (https://no-color.org).
pub fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
