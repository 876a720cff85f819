//! Shared command-line plumbing: the subcommand table, dispatch, usage text,
//! exit codes and a tiny option parser.

use std::collections::VecDeque;
use std::process::ExitCode;

/// One `cargo xtask` subcommand.
pub struct Command {
    /// The name typed after `cargo xtask`.
    pub name: &'static str,
    /// One-line summary shown in the top-level usage.
    pub about: &'static str,
    /// Full usage text of the subcommand (its synopsis and options).
    pub usage: &'static str,
    /// Runs the subcommand with the arguments that follow its name.
    ///
    /// `Ok` carries the exit code of a completed run (a `--check` that finds
    /// drift completes with 1 without being an error).
    pub run: fn(Vec<String>) -> Result<ExitCode, Exit>,
}

/// Why a subcommand stopped early.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// `-h`/`--help` was given: print the usage on stdout, exit 0.
    Help,
    /// The arguments were wrong: print the message and the usage, exit 2.
    Usage(String),
    /// The command failed: print `error: <message>`, exit 1.
    Error(String),
}

impl Exit {
    /// Shorthand for [`Exit::Usage`].
    pub fn usage(message: impl Into<String>) -> Self {
        Exit::Usage(message.into())
    }
}

impl From<String> for Exit {
    fn from(message: String) -> Self {
        Exit::Error(message)
    }
}

/// Exit code for bad arguments.
const USAGE_EXIT: u8 = 2;
/// Exit code for failures.
const ERROR_EXIT: u8 = 1;

/// Runs the subcommand named by the first argument and maps the outcome to
/// an exit code.
pub fn dispatch(commands: &[Command], args: Vec<String>) -> ExitCode {
    let mut args = args.into_iter();
    let Some(name) = args.next() else {
        eprint!("{}", top_usage(commands));
        return ExitCode::from(USAGE_EXIT);
    };
    if matches!(name.as_str(), "-h" | "--help" | "help") {
        print!("{}", top_usage(commands));
        return ExitCode::SUCCESS;
    }
    let Some(command) = commands.iter().find(|c| c.name == name) else {
        eprintln!("error: unknown subcommand `{name}`");
        eprint!("{}", top_usage(commands));
        return ExitCode::from(USAGE_EXIT);
    };
    match (command.run)(args.collect()) {
        Ok(code) => code,
        Err(Exit::Help) => {
            print!("{}", command.usage);
            ExitCode::SUCCESS
        }
        Err(Exit::Usage(message)) => {
            eprintln!("error: {}", one_line(&message));
            eprint!("{}", command.usage);
            ExitCode::from(USAGE_EXIT)
        }
        Err(Exit::Error(message)) => {
            eprintln!("error: {}", one_line(&message));
            ExitCode::from(ERROR_EXIT)
        }
    }
}

/// The top-level usage: synopsis plus one line per subcommand.
fn top_usage(commands: &[Command]) -> String {
    let width = commands.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut text = String::from("usage: cargo xtask <command> [options]\n\ncommands:\n");
    for command in commands {
        text.push_str(&format!("  {:width$}  {}\n", command.name, command.about));
    }
    text.push_str("\nRun `cargo xtask <command> --help` for the options of a command.\n");
    text
}

/// Collapses a (possibly multi-line) message onto one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A minimal option parser: `--flag`, `--name value` and `--name=value`.
pub struct Args {
    /// Arguments not consumed yet.
    rest: VecDeque<String>,
}

/// One parsed argument.
#[derive(Debug, PartialEq, Eq)]
pub enum Arg {
    /// `-h` or `--help`.
    Help,
    /// An option name (with its leading dashes) and the value glued to it
    /// with `=`, if any.
    Option(String, Option<String>),
    /// Anything that does not start with `-`.
    Positional(String),
}

impl Args {
    /// Wraps the arguments of a subcommand.
    pub fn new(args: Vec<String>) -> Self {
        Args { rest: args.into() }
    }

    /// The next argument, if any.
    pub fn next_arg(&mut self) -> Option<Arg> {
        let arg = self.rest.pop_front()?;
        if arg == "-h" || arg == "--help" {
            return Some(Arg::Help);
        }
        if !arg.starts_with('-') || arg == "-" {
            return Some(Arg::Positional(arg));
        }
        Some(match arg.split_once('=') {
            Some((name, value)) => Arg::Option(name.to_owned(), Some(value.to_owned())),
            None => Arg::Option(arg, None),
        })
    }

    /// The value of option `name`: the glued `=value` or the next argument.
    pub fn value(&mut self, name: &str, glued: Option<String>) -> Result<String, Exit> {
        let value = match glued {
            Some(value) => value,
            None => match self.rest.front() {
                Some(next) if !next.starts_with("--") => self.rest.pop_front().unwrap_or_default(),
                _ => return Err(Exit::usage(format!("`{name}` needs a value"))),
            },
        };
        if value.is_empty() {
            return Err(Exit::usage(format!("`{name}` needs a non-empty value")));
        }
        Ok(value)
    }
}

/// Rejects a glued value on an option that takes none (`--check=yes`).
pub fn no_value(name: &str, glued: Option<String>) -> Result<(), Exit> {
    match glued {
        Some(_) => Err(Exit::usage(format!("`{name}` takes no value"))),
        None => Ok(()),
    }
}

/// Stores an option value, rejecting a second occurrence of the option.
pub fn set_once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), Exit> {
    if slot.is_some() {
        return Err(Exit::usage(format!("`{name}` given more than once")));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::new(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn parses_options_flags_and_positionals() {
        let mut a = args(&[
            "--spec",
            "x.yaml",
            "--examples=dir",
            "--check",
            "extra",
            "-h",
        ]);
        assert_eq!(a.next_arg(), Some(Arg::Option("--spec".into(), None)));
        assert_eq!(a.value("--spec", None), Ok("x.yaml".into()));
        assert_eq!(
            a.next_arg(),
            Some(Arg::Option("--examples".into(), Some("dir".into())))
        );
        assert_eq!(a.next_arg(), Some(Arg::Option("--check".into(), None)));
        assert_eq!(a.next_arg(), Some(Arg::Positional("extra".into())));
        assert_eq!(a.next_arg(), Some(Arg::Help));
        assert_eq!(a.next_arg(), None);
    }

    #[test]
    fn missing_or_empty_values_are_usage_errors() {
        let mut a = args(&["--check"]);
        assert!(matches!(a.value("--spec", None), Err(Exit::Usage(_))));
        let mut a = args(&[]);
        assert!(matches!(a.value("--spec", None), Err(Exit::Usage(_))));
        assert!(matches!(
            a.value("--spec", Some(String::new())),
            Err(Exit::Usage(_))
        ));
        assert!(matches!(
            no_value("--check", Some("1".into())),
            Err(Exit::Usage(_))
        ));
        let mut slot = Some(1);
        assert!(matches!(
            set_once(&mut slot, "--spec", 2),
            Err(Exit::Usage(_))
        ));
    }

    #[test]
    fn messages_are_collapsed_to_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
