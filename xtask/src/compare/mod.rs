//! `cargo xtask compare`: the Rust SDK against the official Python SDK and OpenSSL, in one run
//! on one machine, as one table of ratios (or one JSON object).
//!
//! The order of a run:
//! 1. check python3 and the virtualenv `target/pyvenv` with `smallestai==5.14.0` (created and
//!    installed when missing), and look for `openssl`;
//! 2. build `atoms-webhook-bench`'s `measure` binary in release mode and start it with
//!    `--serve`: it measures parse, serialize, verify and the client round trips against an
//!    emulator it runs in-process, prints its figures as one JSON line and keeps the emulator
//!    serving until its standard input closes;
//! 3. run `scripts/python/bench_sdk.py` on the same payload files, and its `get_webhooks`
//!    against that same emulator; then close `measure`'s input;
//! 4. `openssl speed -evp sha256` at the same body sizes (Python's hashlib when there is no
//!    `openssl`);
//! 5. print the ratios.

mod report;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command as Process, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::cli::{self, Arg, Args, Command, Exit};
use report::{Machine, Python, Run, Rust, ShaSource, Stats};

/// The `compare` subcommand.
pub const COMMAND: Command = Command {
    name: "compare",
    about: "Benchmark the SDK against the official Python SDK and OpenSSL; print the ratios",
    usage: USAGE,
    run,
};

/// Usage text of `cargo xtask compare`.
const USAGE: &str = "\
usage: cargo xtask compare [--quick] [--json] [--no-pin]

Measures, in one run on this machine: parse (typed and serde_json::Value), serialize and
HMAC verify in Rust; get_webhook with the blocking and async SDK clients against raw ureq
and reqwest on a local emulator (sequential and 64 in flight) and the TCP connections of
1,000 sequential calls; durable ingest of signed 14 KB deliveries from 64 concurrent senders
into the inbox on SQLite, a naive receiver (one SQLite transaction per request) and a Python
receiver (standard library, the SDK's models, sqlite3), the receive core against a bare axum
handler, and the inbox's p50/p99 time to the 2xx at a fixed 1,000 deliveries/s; the official
Python SDK (smallestai==5.14.0: pydantic parse of the same payloads, hmac verify,
get_webhooks against the same emulator); OpenSSL's SHA-256.
Prints one table of ratios with medians and ranges (see BENCHMARKS.md for the targets).

options:
  --quick     fewer, shorter rounds (under 2 minutes once built; a full run takes under 10)
  --json      print one JSON object instead of the table: the ratios parse_vs_python,
              typed_vs_value, verify_vs_openssl, blocking_vs_raw, async_vs_raw,
              requests_vs_python, ingest_vs_naive, ingest_vs_python, receiver_vs_bare,
              the count connections_per_1000_calls, ingest_p99_ms, then `met`,
              `targets` and every figure under `details`
  --no-pin    do not pin the measurements to CPU 0 (see below)
  -h, --help  print this help

Every process of the run (the Rust measurements with their emulator, the Python SDK, openssl)
is pinned to CPU 0 with `taskset` when it exists: on virtual machines whose idle CPUs halt
(cpuidle haltpoll), a round trip between two CPUs that have gone idle costs tens of
microseconds more, and more or less from one run to the next; on one CPU it costs what the
client and the server compute.

needs: python3 with its venv module (the first run creates target/pyvenv and installs
smallestai==5.14.0 from PyPI); openssl for the SHA-256 reference (without it, Python's
hashlib, which is OpenSSL too, is used instead). Progress goes to stderr.
";

/// The virtualenv of the Python SDK, relative to the workspace root.
const VENV: &str = "target/pyvenv";

/// The Python SDK version compared against.
const SMALLESTAI: &str = "5.14.0";

/// The Python side's script, relative to the workspace root.
const PYTHON_SCRIPT: &str = "scripts/python/bench_sdk.py";

/// The payloads both sides parse, relative to the workspace root (the same list as
/// `atoms_webhook_bench::payload::DEFAULT_PAYLOADS`).
const PAYLOADS: [&str; 4] = [
    "crates/models/tests/fixtures/examples/pre-conversation.json",
    "crates/models/tests/fixtures/examples/post-conversation.json",
    "crates/models/tests/fixtures/examples/analytics-completed.json",
    "bench-data/post-conversation-14k.json",
];

/// The verification body sizes (label, bytes), as in the Rust and Python measurements.
const VERIFY_SIZES: [(&str, usize); 3] = [("1k", 1024), ("14k", 14 * 1024), ("1m", 1 << 20)];

/// Parsed options.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    quick: bool,
    json: bool,
    no_pin: bool,
}

/// How long each contender measures.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Budget {
    python_rounds: usize,
    python_round_seconds: f64,
    python_warmup: f64,
    /// Rounds of `openssl speed`, and seconds per round.
    openssl_rounds: usize,
    openssl_seconds: u32,
    /// Sizes `openssl speed` runs at (the ratio needs only 14k).
    openssl_sizes: &'static [(&'static str, usize)],
}

impl Budget {
    fn of(quick: bool) -> Self {
        if quick {
            Self {
                python_rounds: 5,
                python_round_seconds: 0.05,
                python_warmup: 0.05,
                openssl_rounds: 3,
                openssl_seconds: 1,
                openssl_sizes: &VERIFY_SIZES[1..2],
            }
        } else {
            Self {
                python_rounds: 15,
                python_round_seconds: 0.25,
                python_warmup: 0.3,
                openssl_rounds: 5,
                openssl_seconds: 2,
                openssl_sizes: &VERIFY_SIZES,
            }
        }
    }
}

fn parse_args(args: Vec<String>) -> Result<Options, Exit> {
    let mut args = Args::new(args);
    let mut options = Options::default();
    while let Some(arg) = args.next_arg() {
        match arg {
            Arg::Help => return Err(Exit::Help),
            Arg::Option(name, glued) if name == "--quick" => {
                cli::no_value(&name, glued)?;
                options.quick = true;
            }
            Arg::Option(name, glued) if name == "--json" => {
                cli::no_value(&name, glued)?;
                options.json = true;
            }
            Arg::Option(name, glued) if name == "--no-pin" => {
                cli::no_value(&name, glued)?;
                options.no_pin = true;
            }
            Arg::Option(name, _) => return Err(Exit::usage(format!("unknown option `{name}`"))),
            Arg::Positional(p) => return Err(Exit::usage(format!("unexpected argument `{p}`"))),
        }
    }
    Ok(options)
}

fn run(args: Vec<String>) -> Result<ExitCode, Exit> {
    let options = parse_args(args)?;
    let started = Instant::now();
    since_start();
    let root = workspace_root()?;
    let budget = Budget::of(options.quick);
    let mut machine = machine();
    let ticks_before = CpuTicks::now();

    let python = ensure_python_sdk(&root)?;
    let openssl = openssl_present();
    if !openssl {
        progress("openssl not found: using Python's hashlib (OpenSSL inside Python) as the SHA-256 reference");
    }
    let pin = !options.no_pin && taskset_present();
    if !options.no_pin && !pin {
        progress("taskset not found: measuring unpinned (round trips vary more)");
    }
    machine.pinned_cpu = pin.then(|| PIN_CPU.to_owned());

    progress("building the Rust measuring binary (release)");
    let measure_bin = build_measure(&root)?;
    progress("Rust measurements (parse, serialize, verify, clients against the emulator, receive)");
    let mut measure = Measure::start(&measure_bin, &root, &python, options.quick, pin)?;
    let rust_line = measure.read_line()?;
    let rust: Rust = serde_json::from_str(&rust_line)
        .map_err(|e| format!("could not read the Rust measurements: {e}"))?;
    let server = rust
        .server
        .clone()
        .ok_or_else(|| "the Rust measurements did not name their emulator".to_owned())?;

    progress("Python SDK measurements (same payloads, same emulator)");
    let python_out = run_python(&python, &root, &server, &budget, pin);
    measure.stop();
    let python: Python = serde_json::from_str(&python_out?)
        .map_err(|e| format!("could not read the Python measurements: {e}"))?;

    let (openssl, sha_source) = if openssl {
        progress("OpenSSL SHA-256 (openssl speed -evp sha256)");
        (openssl_speed(&budget, pin)?, ShaSource::OpensslSpeed)
    } else {
        (BTreeMap::new(), ShaSource::PythonHashlib)
    };

    machine.load_after = load_average();
    // USER_HZ is 100 on every Linux this runs on (it is fixed in the kernel ABI for /proc).
    machine.others_cpu = ticks_before
        .zip(CpuTicks::now())
        .and_then(|(a, b)| a.others_share(b, started.elapsed().as_secs_f64(), 100.0));
    if let Some(share) = machine.others_cpu.filter(|s| *s > OTHERS_WARN) {
        progress(&format!(
            "warning: other processes used {:.0}% of a CPU during the run; the ratios between \
             processes (parse_vs_python, verify_vs_openssl, requests_vs_python) are measured \
             at different times and may be off: rerun when the machine is quiet",
            share * 100.0
        ));
    }
    let run = Run {
        quick: options.quick,
        rust,
        python,
        openssl,
        sha_source,
        machine,
        seconds: started.elapsed().as_secs_f64(),
    };
    if options.json {
        let value = run.to_json()?;
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", run.to_table()?);
    }
    progress(&format!("done in {:.0} s", run.seconds));
    Ok(ExitCode::SUCCESS)
}

fn progress(what: &str) {
    eprintln!("compare [{:5.1} s]: {what}", since_start().as_secs_f64());
}

/// Time since the first call (the start of the run, for progress lines).
fn since_start() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

fn workspace_root() -> Result<PathBuf, String> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "cannot locate the workspace root".to_string())
}

/// The virtualenv's interpreter, with `smallestai==5.14.0` installed (done here when missing).
fn ensure_python_sdk(root: &Path) -> Result<PathBuf, String> {
    let python = root.join(VENV).join("bin/python");
    let check = format!(
        "import smallestai, sys; sys.exit(0 if smallestai.__version__ == '{SMALLESTAI}' else 1)"
    );
    let ready = |python: &Path| {
        Process::new(python)
            .args(["-c", &check])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    match Process::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(format!(
                "python3 not found: `cargo xtask compare` needs python3 (with its venv module) to \
                 install and run the official Python SDK smallestai=={SMALLESTAI} in {VENV}"
            ))
        }
        Err(e) => return Err(format!("cannot run python3: {e}")),
    }
    progress(&format!(
        "installing smallestai=={SMALLESTAI} into {VENV} (first run)"
    ));
    let venv = Process::new("python3")
        .args(["-m", "venv"])
        .arg(root.join(VENV))
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run python3 -m venv: {e}"))?;
    if !venv.success() {
        return Err(format!(
            "`python3 -m venv {VENV}` failed: the venv module is needed (e.g. apt-get install python3-venv)"
        ));
    }
    let pip = Process::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(format!("smallestai=={SMALLESTAI}"))
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run pip in {VENV}: {e}"))?;
    if !pip.success() || !ready(&python) {
        return Err(format!(
            "could not install smallestai=={SMALLESTAI} into {VENV} (pip needs to reach PyPI)"
        ));
    }
    Ok(python)
}

/// Above this share of one CPU used by other processes, the run warns that it was noisy.
const OTHERS_WARN: f64 = 0.10;

/// The CPU every measuring process is pinned to.
const PIN_CPU: &str = "0";

/// A command for `program`, run through `taskset -c 0` when `pin`.
fn command(program: impl AsRef<std::ffi::OsStr>, pin: bool) -> Process {
    if pin {
        let mut cmd = Process::new("taskset");
        cmd.args(["-c", PIN_CPU]).arg(program);
        cmd
    } else {
        Process::new(program)
    }
}

fn taskset_present() -> bool {
    Process::new("taskset")
        .args(["-c", PIN_CPU, "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn openssl_present() -> bool {
    Process::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Builds `measure` in release mode; returns its path (asked of cargo, so that a custom
/// target directory works).
fn build_measure(root: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Process::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "atoms-webhook-bench",
            "--bin",
            "measure",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err("building the measuring binary failed (cargo's errors are above)".into());
    }
    executable_of(&String::from_utf8_lossy(&out.stdout), "measure")
        .ok_or_else(|| "cargo did not report the measuring binary's path".into())
}

/// The `executable` of the artifact of binary `name` in cargo's JSON messages.
fn executable_of(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// The running `measure` process. Dropping it closes its input (which stops it) and, should
/// it not end within seconds, kills it.
struct Measure {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Measure {
    fn start(
        bin: &Path,
        root: &Path,
        python: &Path,
        quick: bool,
        pin: bool,
    ) -> Result<Self, String> {
        let mut cmd = command(bin, pin);
        cmd.current_dir(root).arg("--serve");
        if quick {
            cmd.arg("--quick");
        }
        // The Python receiver of the ingest figures runs under the SDK's interpreter.
        cmd.arg("--python").arg(python);
        for payload in PAYLOADS {
            cmd.arg("--payload").arg(root.join(payload));
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().map(BufReader::new);
        match stdout {
            Some(stdout) => Ok(Self {
                child,
                stdin,
                stdout,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err("the measuring binary has no output pipe".into())
            }
        }
    }

    /// Its JSON line.
    fn read_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .map_err(|e| format!("reading the Rust measurements: {e}"))?;
        if n == 0 {
            let status = self.child.wait().map_err(|e| e.to_string())?;
            return Err(format!(
                "the Rust measurements failed ({status}); their error is above"
            ));
        }
        Ok(line)
    }

    /// Closes its input and waits for it to end (killing it after a grace period).
    fn stop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for Measure {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs the Python script; returns its stdout.
fn run_python(
    python: &Path,
    root: &Path,
    server: &report::Server,
    budget: &Budget,
    pin: bool,
) -> Result<String, String> {
    let mut cmd = command(python, pin);
    cmd.current_dir(root).arg(root.join(PYTHON_SCRIPT));
    for payload in PAYLOADS {
        cmd.arg("--payload").arg(root.join(payload));
    }
    cmd.args(["--base-url", &server.url])
        .args(["--api-key", &server.api_key])
        .args(["--webhook-id", &server.webhook_id])
        .args(["--rounds", &budget.python_rounds.to_string()])
        .args(["--round-seconds", &budget.python_round_seconds.to_string()])
        .args(["--warmup", &budget.python_warmup.to_string()]);
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "the Python measurements failed ({}); their error is above",
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `openssl speed -mr -evp sha256 -bytes N -seconds S`, several rounds per size.
fn openssl_speed(budget: &Budget, pin: bool) -> Result<BTreeMap<String, Stats>, String> {
    let mut out = BTreeMap::new();
    for (label, bytes) in budget.openssl_sizes {
        let mut rates = Vec::with_capacity(budget.openssl_rounds);
        for _ in 0..budget.openssl_rounds {
            let run = command("openssl", pin)
                .args(["speed", "-mr", "-evp", "sha256", "-bytes"])
                .arg(bytes.to_string())
                .arg("-seconds")
                .arg(budget.openssl_seconds.to_string())
                .stderr(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run openssl speed: {e}"))?;
            let text = String::from_utf8_lossy(&run.stdout);
            let rate = parse_openssl_speed(&text).ok_or_else(|| {
                format!(
                    "could not read the output of `openssl speed -mr -evp sha256 -bytes {bytes}`"
                )
            })?;
            rates.push(rate);
        }
        if let Some(stats) = Stats::of(&rates) {
            out.insert((*label).to_owned(), stats);
        }
    }
    Ok(out)
}

/// Bytes per second from `openssl speed -mr` output (`+F:<n>:sha256:<bytes/s>`).
fn parse_openssl_speed(text: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix("+F:"))
        .and_then(|rest| rest.rsplit(':').next())
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n > 0.0)
}

fn machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    Machine {
        nproc: std::thread::available_parallelism().map_or(0, usize::from),
        cpu,
        load_before: load_average(),
        load_after: None,
        pinned_cpu: None,
        others_cpu: None,
    }
}

/// CPU time, in clock ticks, used by the whole machine and by this process with its waited-for
/// children (cargo, measure, python, openssl), from `/proc` (Linux).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CpuTicks {
    machine: u64,
    ours: u64,
}

impl CpuTicks {
    fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        Some(Self {
            machine: machine_busy_ticks(&stat)?,
            ours: own_ticks(&own)?,
        })
    }

    /// How much of one CPU other processes used on average between `self` and `later`.
    fn others_share(self, later: Self, seconds: f64, ticks_per_second: f64) -> Option<f64> {
        let machine = later.machine.checked_sub(self.machine)?;
        let ours = later.ours.checked_sub(self.ours)?;
        (seconds > 0.0).then(|| machine.saturating_sub(ours) as f64 / ticks_per_second / seconds)
    }
}

/// Busy ticks (all but idle and iowait) of the `cpu` line of `/proc/stat`.
fn machine_busy_ticks(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, counted in user]
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| fields.get(i))
        .sum();
    (fields.len() >= 8).then_some(busy)
}

/// utime + stime + cutime + cstime of `/proc/self/stat` (fields 14 to 17).
fn own_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces: count from the closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field n is at index n - 3.
    (11..=14).map(|i| fields.get(i)?.parse::<u64>().ok()).sum()
}

/// The 1-minute load average (Linux).
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options() {
        assert_eq!(parse_args(args(&[])), Ok(Options::default()));
        assert_eq!(
            parse_args(args(&["--json", "--quick"])),
            Ok(Options {
                quick: true,
                json: true,
                no_pin: false,
            })
        );
        assert_eq!(parse_args(args(&["-h"])), Err(Exit::Help));
        assert!(matches!(parse_args(args(&["--fast"])), Err(Exit::Usage(_))));
        assert!(matches!(
            parse_args(args(&["--json=yes"])),
            Err(Exit::Usage(_))
        ));
        assert!(matches!(parse_args(args(&["x"])), Err(Exit::Usage(_))));
    }

    #[test]
    fn reads_openssl_machine_readable_output() {
        let text =
            "+DT:sha256:1:14336\n+R:101857:sha256:0.990000\n+H:14336\n+F:25:sha256:1456175579.80\n";
        assert_eq!(parse_openssl_speed(text), Some(1_456_175_579.8));
        assert_eq!(parse_openssl_speed("garbage"), None);
        assert_eq!(parse_openssl_speed("+F:25:sha256:0"), None);
    }

    #[test]
    fn finds_the_binary_in_cargo_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"serde"},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"measure"},"executable":"/t/release/measure"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable_of(messages, "measure"),
            Some(PathBuf::from("/t/release/measure"))
        );
        assert_eq!(executable_of(messages, "other"), None);
    }

    #[test]
    fn the_payload_files_exist() {
        let root = workspace_root().unwrap();
        for p in PAYLOADS {
            assert!(root.join(p).is_file(), "{p}");
        }
        assert!(root.join(PYTHON_SCRIPT).is_file());
    }

    #[test]
    fn reads_cpu_ticks() {
        let stat = "cpu  100 5 50 1000 20 3 2 10 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        assert_eq!(machine_busy_ticks(stat), Some(100 + 5 + 50 + 3 + 2 + 10));
        assert_eq!(machine_busy_ticks("nothing"), None);
        let own = "4242 (x task) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 20 0";
        assert_eq!(own_ticks(own), Some(11 + 12 + 13 + 14));
        let a = CpuTicks {
            machine: 1000,
            ours: 300,
        };
        let b = CpuTicks {
            machine: 1500,
            ours: 700,
        };
        // 500 busy ticks, 400 ours: others used 100 ticks = 1 s over 10 s.
        assert_eq!(a.others_share(b, 10.0, 100.0), Some(0.1));
        if cfg!(target_os = "linux") {
            assert!(CpuTicks::now().is_some());
        }
    }

    #[test]
    fn quick_is_smaller_than_full() {
        let (q, f) = (Budget::of(true), Budget::of(false));
        assert!(q.python_rounds < f.python_rounds);
        assert!(
            q.openssl_rounds * q.openssl_sizes.len() < f.openssl_rounds * f.openssl_sizes.len()
        );
        assert!(q
            .openssl_sizes
            .iter()
            .any(|(l, _)| *l == report::VERIFY_SIZE));
    }
}
