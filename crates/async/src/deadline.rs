//! The total timeout of each attempt, kept by one watchdog thread for the whole process instead
//! of a runtime timer per request.
//!
//! A tokio timer per request (what reqwest's own `timeout` sets up) is inserted into the
//! runtime's timer wheel when the request first waits and taken out again when it ends, and it
//! is polled on every wake-up of the request: about 1,800 instructions per call, for a timer
//! that almost never fires. Here a request that has to wait writes its deadline and its waker
//! into a shared table under one short lock, and takes them out when it ends. The watchdog
//! thread sleeps until the earliest deadline it knows of and wakes the requests whose deadline
//! has passed. As calls follow each other, each new deadline is later than the one the thread
//! already sleeps until, so the thread is left alone: it wakes about once per timeout length,
//! finds the request of that time gone, and goes back to sleep until the current one's.
//!
//! The thread is not tied to a runtime, so a client keeps its timeouts on whatever runtime
//! drives it, and after a runtime it was used on has shut down. It starts on the first request
//! that has to wait, and sleeps while no request is waiting. If it cannot be started, requests
//! fall back to a tokio timer each (the behaviour is the same).
//!
//! A child forked (without `exec`) after the thread started has no thread: the `OnceLock`
//! says it exists, and no one fires the child's deadlines (and if the thread held the table's
//! lock at the moment of the fork, the child's first request would wait for it forever).
//! Telling would cost a `getpid` per request (about 90 ns here) or `unsafe` code for a fork
//! hook; the `Client` docs ask for the fork to come first instead, as tokio asks of its
//! runtimes.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The future did not finish before its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimedOut;

/// Runs `future` until it finishes or `timeout` has passed since this call, whichever comes
/// first. The future is polled first, so one that is ready at once is never timed out.
pub(crate) async fn within<F: Future>(timeout: Duration, future: F) -> Result<F::Output, TimedOut> {
    // A timeout too long to be represented is no timeout.
    let Some(at) = Instant::now().checked_add(timeout) else {
        return Ok(future.await);
    };
    let Some(watchdog) = Watchdog::get() else {
        return tokio::time::timeout_at(at.into(), future)
            .await
            .map_err(|_| TimedOut);
    };
    let mut future = pin!(future);
    let mut entry = Entry {
        watchdog,
        at,
        key: None,
        waker: None,
        seen: 0,
    };
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        if entry.expired(cx) {
            return Poll::Ready(Err(TimedOut));
        }
        Poll::Pending
    })
    .await
}

/// One waiting request's place in the watchdog's table; leaves it when dropped.
struct Entry {
    watchdog: &'static Watchdog,
    at: Instant,
    /// The slot in the table, once the request has had to wait.
    key: Option<usize>,
    /// The waker the slot holds, to tell when the task's waker changes.
    waker: Option<Waker>,
    /// The watchdog's count of firings when this entry last looked.
    seen: u64,
}

impl Entry {
    /// Whether the deadline has passed; otherwise makes sure the watchdog will wake this task
    /// when it does.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(key) = self.key else {
            self.seen = self.watchdog.fired.load(Ordering::Acquire);
            self.key = Some(self.watchdog.register(self.at, cx.waker().clone()));
            self.waker = Some(cx.waker().clone());
            return false;
        };
        let fired = self.watchdog.fired.load(Ordering::Acquire);
        let waker_changed = !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
        if fired == self.seen && !waker_changed {
            return false;
        }
        self.seen = fired;
        let mut table = self.watchdog.lock();
        let slot = &mut table.slots[key];
        if slot.as_ref().is_some_and(|s| s.fired) {
            return true;
        }
        if waker_changed {
            if let Some(s) = slot {
                s.waker = Some(cx.waker().clone());
            }
            self.waker = Some(cx.waker().clone());
        }
        false
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.watchdog.lock().remove(key);
        }
    }
}

struct Watchdog {
    table: Mutex<Table>,
    /// Signalled when a deadline earlier than the one the thread sleeps until is added.
    earlier: Condvar,
    /// How many times the thread has fired deadlines: a waiting request looks at its slot
    /// only when this has moved.
    fired: AtomicU64,
}

impl Watchdog {
    /// The process's watchdog, its thread started on first use; `None` if it could not be.
    fn get() -> Option<&'static Watchdog> {
        static WATCHDOG: OnceLock<Option<&'static Watchdog>> = OnceLock::new();
        *WATCHDOG.get_or_init(|| {
            let watchdog: &'static Watchdog = Box::leak(Box::new(Watchdog {
                table: Mutex::new(Table::default()),
                earlier: Condvar::new(),
                fired: AtomicU64::new(0),
            }));
            std::thread::Builder::new()
                .name("atoms-webhook-timeouts".into())
                .spawn(move || watchdog.run())
                .ok()
                .map(|_| watchdog)
        })
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Nothing panics while holding the lock; a poisoned table is still consistent.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, at: Instant, waker: Waker) -> usize {
        let mut table = self.lock();
        let key = table.insert(at, waker);
        if table.wake_at.is_none_or(|w| at < w) {
            table.wake_at = Some(at);
            self.earlier.notify_one();
        }
        key
    }

    fn run(&self) {
        let mut table = self.lock();
        loop {
            let now = Instant::now();
            let (due, next) = table.fire(now);
            if !due.is_empty() {
                self.fired.fetch_add(1, Ordering::Release);
                drop(table);
                due.into_iter().for_each(Waker::wake);
                table = self.lock();
                // Deadlines may have been added meanwhile: look again before sleeping.
                continue;
            }
            table.wake_at = next;
            table = match next {
                Some(at) => {
                    self.earlier
                        .wait_timeout(table, at.saturating_duration_since(now))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .earlier
                    .wait(table)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

/// The waiting requests: a slab, so that steady traffic reuses its slots without allocating.
#[derive(Default)]
struct Table {
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    /// When the thread will look next (`None`: not until a deadline is added).
    wake_at: Option<Instant>,
}

struct Slot {
    at: Instant,
    waker: Option<Waker>,
    fired: bool,
}

impl Table {
    fn insert(&mut self, at: Instant, waker: Waker) -> usize {
        let slot = Some(Slot {
            at,
            waker: Some(waker),
            fired: false,
        });
        match self.free.pop() {
            Some(key) => {
                self.slots[key] = slot;
                key
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        }
    }

    fn remove(&mut self, key: usize) {
        if self.slots[key].take().is_some() {
            self.free.push(key);
        }
    }

    /// Marks the slots whose deadline is at or before `now` as fired and returns their wakers,
    /// with the earliest deadline still to come.
    fn fire(&mut self, now: Instant) -> (Vec<Waker>, Option<Instant>) {
        let mut due = Vec::new();
        let mut next: Option<Instant> = None;
        for slot in self.slots.iter_mut().flatten() {
            if slot.fired {
                continue;
            }
            if slot.at <= now {
                slot.fired = true;
                due.extend(slot.waker.take());
            } else {
                next = Some(next.map_or(slot.at, |n| n.min(slot.at)));
            }
        }
        (due, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Waker, Arc<Count>) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Waker::from(count.clone()), count)
    }

    #[test]
    fn the_table_fires_what_is_due_and_names_the_next_deadline() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut table = Table::default();
        let (w, count) = waker();
        let a = table.insert(t0 + s, w.clone());
        let b = table.insert(t0 + 3 * s, w.clone());
        let c = table.insert(t0 + 2 * s, w);
        assert_eq!(table.fire(t0).1, Some(t0 + s));
        let (due, next) = table.fire(t0 + s);
        assert_eq!((due.len(), next), (1, Some(t0 + 2 * s)));
        due.into_iter().for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(table.slots[a].as_ref().unwrap().fired);
        // A fired slot is not fired again; a removed one is gone.
        table.remove(c);
        let (due, next) = table.fire(t0 + 2 * s);
        assert_eq!((due.len(), next), (0, Some(t0 + 3 * s)));
        table.remove(a);
        table.remove(b);
        assert_eq!(table.fire(t0 + 9 * s).1, None);
    }

    #[test]
    fn slots_are_reused() {
        let t0 = Instant::now();
        let mut table = Table::default();
        for _ in 0..100 {
            let key = table.insert(t0, waker().0);
            table.remove(key);
        }
        assert_eq!(table.slots.len(), 1);
        // Removing twice frees the slot once.
        let key = table.insert(t0, waker().0);
        table.remove(key);
        table.remove(key);
        assert_eq!(table.free, vec![0]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_ready_future_is_never_timed_out() {
        assert_eq!(within(Duration::ZERO, async { 7 }).await, Ok(7));
        assert_eq!(within(Duration::MAX, async { 8 }).await, Ok(8));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_future_that_never_ends_is_timed_out() {
        let never = std::future::pending::<()>();
        assert_eq!(within(Duration::from_millis(1), never).await, Err(TimedOut));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_future_that_ends_in_time_leaves_the_table() {
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let send = async move {
            tokio::task::yield_now().await;
            tx.send(5).unwrap();
        };
        let (got, ()) = tokio::join!(within(Duration::from_secs(3600), rx), send);
        assert_eq!(got, Ok(Ok(5)));
        let watchdog = Watchdog::get().unwrap();
        // No slot of this test's is left behind (other tests may hold some meanwhile).
        let table = watchdog.lock();
        assert!(table
            .slots
            .iter()
            .flatten()
            .all(|s| s.at < Instant::now() + Duration::from_secs(3000)));
    }

    #[test]
    fn a_timeout_fires_on_another_runtime_after_the_first_one_is_gone() {
        for _ in 0..2 {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let got = rt.block_on(within(
                Duration::from_millis(1),
                std::future::pending::<()>(),
            ));
            assert_eq!(got, Err(TimedOut));
            drop(rt);
        }
    }
}
