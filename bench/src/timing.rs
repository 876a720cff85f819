//! A small timing harness for the `measure` binary: warm up, calibrate a round to a target
//! length, run several rounds, keep the median and the range.
//!
//! Criterion is the tool for `cargo bench`; this exists because `cargo xtask compare` needs a
//! fixed time budget and plain numbers it can set against the Python SDK's.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Rates over the rounds of one figure, in units per second (events, bytes or requests).
#[derive(Clone, Copy, PartialEq, Debug, Serialize)]
pub struct Stats {
    /// The median round.
    pub median: f64,
    /// The slowest round.
    pub min: f64,
    /// The fastest round.
    pub max: f64,
    /// How many rounds.
    pub rounds: usize,
}

impl Stats {
    /// The statistics of per-round rates. Panics on an empty slice.
    pub fn of(rates: &[f64]) -> Self {
        assert!(!rates.is_empty(), "no rounds");
        let mut sorted = rates.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            rounds: n,
        }
    }
}

/// How long to measure.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Plan {
    /// Timed rounds per figure.
    pub rounds: usize,
    /// The target length of one round.
    pub round_time: Duration,
    /// The least time spent running the code before the timed rounds.
    pub warmup: Duration,
}

impl Plan {
    /// The budget of `cargo xtask compare --quick`.
    pub fn quick() -> Self {
        Self {
            rounds: 5,
            round_time: Duration::from_millis(60),
            warmup: Duration::from_millis(60),
        }
    }

    /// The budget of a full `cargo xtask compare`.
    pub fn full() -> Self {
        Self {
            rounds: 15,
            round_time: Duration::from_millis(250),
            warmup: Duration::from_millis(300),
        }
    }

    /// The same plan with rounds `factor` times as long (client round trips vary more than
    /// parsing, so they get longer rounds).
    pub fn longer(self, factor: u32) -> Self {
        Self {
            round_time: self.round_time * factor,
            ..self
        }
    }

    /// Measures one figure. `run(n)` does `n` iterations and returns the time they took; each
    /// iteration is worth `units` (1 event, `len` bytes, 64 requests...).
    pub fn rate(&self, units: f64, mut run: impl FnMut(u64) -> Duration) -> Stats {
        let n = self.calibrate(&mut run);
        let rates: Vec<f64> = (0..self.rounds)
            .map(|_| rate_of(n, units, run(n)))
            .collect();
        Stats::of(&rates)
    }

    /// Measures two figures meant to be divided by each other, interleaving their rounds (and
    /// alternating which goes first), so that a change in machine load hits both alike.
    pub fn paired(
        &self,
        units: f64,
        mut a: impl FnMut(u64) -> Duration,
        mut b: impl FnMut(u64) -> Duration,
    ) -> (Stats, Stats) {
        let na = self.calibrate(&mut a);
        let nb = self.calibrate(&mut b);
        let mut ra = Vec::with_capacity(self.rounds);
        let mut rb = Vec::with_capacity(self.rounds);
        for round in 0..self.rounds {
            if round % 2 == 0 {
                ra.push(rate_of(na, units, a(na)));
                rb.push(rate_of(nb, units, b(nb)));
            } else {
                rb.push(rate_of(nb, units, b(nb)));
                ra.push(rate_of(na, units, a(na)));
            }
        }
        (Stats::of(&ra), Stats::of(&rb))
    }

    /// Measures several figures meant to be divided by each other, interleaving their rounds
    /// (rotating which goes first), as [`Plan::paired`] does for two.
    pub fn interleaved(
        &self,
        units: f64,
        runs: &mut [&mut dyn FnMut(u64) -> Duration],
    ) -> Vec<Stats> {
        let counts: Vec<u64> = runs
            .iter_mut()
            .map(|run| self.calibrate(&mut |n| run(n)))
            .collect();
        let k = runs.len();
        let mut rates = vec![Vec::with_capacity(self.rounds); k];
        for round in 0..self.rounds {
            for j in 0..k {
                let i = (round + j) % k;
                rates[i].push(rate_of(counts[i], units, runs[i](counts[i])));
            }
        }
        rates.iter().map(|r| Stats::of(r)).collect()
    }

    /// Warms up, then finds the iteration count of one round.
    fn calibrate(&self, run: &mut impl FnMut(u64) -> Duration) -> u64 {
        let started = Instant::now();
        let quarter = self.round_time / 4;
        let mut n = 1u64;
        loop {
            let took = run(n);
            if took < quarter && n < 1 << 40 {
                n *= 2;
                continue;
            }
            let per_iter = took.as_secs_f64() / n as f64;
            let n_round = (self.round_time.as_secs_f64() / per_iter.max(1e-12)).ceil() as u64;
            if started.elapsed() >= self.warmup {
                return n_round.max(1);
            }
            // Keep warming up at the calibrated size.
            n = n_round.max(1);
        }
    }
}

fn rate_of(n: u64, units: f64, took: Duration) -> f64 {
    n as f64 * units / took.as_secs_f64().max(1e-12)
}

/// Times `n` calls of `f`.
pub fn time_n(n: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_median_and_range() {
        let s = Stats::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max, s.rounds), (2.0, 1.0, 3.0, 3));
        let s = Stats::of(&[4.0, 1.0, 2.0, 3.0]);
        assert_eq!(s.median, 2.5);
    }

    #[test]
    fn rate_counts_every_iteration() {
        let plan = Plan {
            rounds: 3,
            round_time: Duration::from_millis(4),
            warmup: Duration::ZERO,
        };
        let mut calls = 0u64;
        let s = plan.rate(2.0, |n| {
            calls += n;
            // A fake clock: every iteration takes a microsecond.
            Duration::from_micros(n)
        });
        assert_eq!(s.rounds, 3);
        assert!((s.median - 2_000_000.0).abs() < 1.0, "{s:?}");
        assert!(calls > 3 * 4000, "{calls}");
    }

    #[test]
    fn interleaved_runs_every_side_every_round() {
        let plan = Plan {
            rounds: 3,
            round_time: Duration::from_millis(1),
            warmup: Duration::ZERO,
        };
        let mut a = |n| Duration::from_nanos(100 * n);
        let mut b = |n| Duration::from_nanos(300 * n);
        let mut c = |n| Duration::from_nanos(200 * n);
        let s = plan.interleaved(1.0, &mut [&mut a, &mut b, &mut c]);
        assert_eq!(s.len(), 3);
        assert!(s.iter().all(|s| s.rounds == 3));
        assert!((s[0].median / s[1].median - 3.0).abs() < 1e-9);
        assert!((s[0].median / s[2].median - 2.0).abs() < 1e-9);
    }

    #[test]
    fn paired_runs_both_sides_every_round() {
        let plan = Plan {
            rounds: 4,
            round_time: Duration::from_millis(1),
            warmup: Duration::ZERO,
        };
        let (a, b) = plan.paired(
            1.0,
            |n| Duration::from_nanos(100 * n),
            |n| Duration::from_nanos(200 * n),
        );
        assert_eq!((a.rounds, b.rounds), (4, 4));
        assert!((a.median / b.median - 2.0).abs() < 1e-9);
    }
}
