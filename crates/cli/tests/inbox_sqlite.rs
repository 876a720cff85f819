//! `atoms-webhook inbox` on SQLite, as real processes: the crash test (SIGKILL under 64
//! concurrent senders, then a restart) and the dedup test.

mod inbox_common;

use inbox_common::{crash, dedup, temp_db, Layout};

#[test]
fn crash_under_load_loses_nothing_answered_and_never_forwards_done_again() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout {
        store: temp_db(dir.path()),
        split: false,
    };
    let (acked, _again) = crash(&layout, 0x5a1);
    assert!(acked >= 400);
}

#[test]
fn the_same_body_five_times_is_stored_and_forwarded_once() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout {
        store: temp_db(dir.path()),
        split: false,
    };
    dedup(&layout, 0x5a2);
}
