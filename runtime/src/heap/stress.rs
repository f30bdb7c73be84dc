//! The collector's stress mode, a debug switch: with `TERMITE_GC_STRESS=N`
//! (N ≥ 1) every entry check of compiled code that allocates fails, and the
//! trampoline collects at every N-th of those safepoints (less often when
//! the live data is large: `STRESS_FLOOR`); the blocks a
//! collection leaves are poisoned. A value the runtime holds across a
//! collection without it being a root then points at poison, and the
//! program fails at once instead of some day. CI runs the test programs
//! this way (`.ci/run`).

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

/// 0: off; N: collect at every N-th safepoint.
static PERIOD: AtomicU32 = AtomicU32::new(0);

thread_local! {
    static COUNT: Cell<u32> = const { Cell::new(0) };
}

/// Reads `TERMITE_GC_STRESS` (once, when a node starts).
pub fn configure_from_env() {
    let n = std::env::var("TERMITE_GC_STRESS")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(0);
    PERIOD.store(n, Ordering::Relaxed);
}

#[inline]
pub fn enabled() -> bool {
    PERIOD.load(Ordering::Relaxed) != 0
}

/// Live data (in words) up to which a process is collected at every N-th
/// safepoint. Past it, a process is collected about once every
/// `(live - STRESS_FLOOR) / STRESS_WORDS` safepoints, so that a stressed
/// run of a program with a large live heap (a 5,000,000-element list)
/// stays linear in its allocation instead of quadratic in its live data.
pub const STRESS_FLOOR: u64 = 4096;
/// Collection work allowed per safepoint past `STRESS_FLOOR`, in words.
pub const STRESS_WORDS: u64 = 32;

/// Whether the safepoint reached now collects, for a process whose last
/// collection left `live_words` live.
pub fn collect_now(live_words: u64) -> bool {
    let period = PERIOD.load(Ordering::Relaxed);
    if period == 0 {
        return false;
    }
    COUNT.with(|c| {
        let n = c.get().saturating_add(1);
        if n >= period && u64::from(n) * STRESS_WORDS >= live_words.saturating_sub(STRESS_FLOOR) {
            c.set(0);
            true
        } else {
            c.set(n);
            false
        }
    })
}

/// A word no live object contains: a pointer-tagged address that is never
/// mapped, so that a stale reference faults or prints as garbage.
pub const POISON: u64 = 0x0000_dead_beef_0001;
