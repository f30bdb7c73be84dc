//! The collector's stress mode, a debug switch: with `TERMITE_GC_STRESS=N`
//! (N ≥ 1) every entry check of compiled code that allocates fails, and the
//! trampoline collects at every N-th of those safepoints; the blocks a
//! collection leaves are poisoned. A value the runtime holds across a
//! collection without it being a root then points at poison, and the
//! program fails at once instead of some day. CI runs the Termite test
//! programs this way (`.ci/run`).

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

/// Whether the safepoint reached now collects.
pub fn collect_now() -> bool {
    let period = PERIOD.load(Ordering::Relaxed);
    if period == 0 {
        return false;
    }
    COUNT.with(|c| {
        let n = c.get() + 1;
        if n >= period {
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
