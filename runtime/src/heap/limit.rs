//! The per-process heap limit: no process's live data may exceed it, and no
//! single object may be larger. An allocation that would break it raises
//! `heap limit exceeded` in the process that asked, a catchable error; the
//! node and every other process carry on. Set with `--heap-limit SIZE` on
//! `termitec run` and on built executables, or `TERMITE_HEAP_LIMIT=SIZE`
//! (SIZE in bytes, or with a suffix K, M, G, T); the default is 4 GiB.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub const DEFAULT_BYTES: usize = 4 << 30;

static LIMIT_WORDS: AtomicUsize = AtomicUsize::new(DEFAULT_BYTES / 8);
/// Set by a command-line flag, which the environment does not override.
static FROM_FLAG: AtomicBool = AtomicBool::new(false);

/// The limit, in words.
#[inline]
pub fn words() -> usize {
    LIMIT_WORDS.load(Ordering::Relaxed)
}

fn set_bytes(bytes: usize) {
    LIMIT_WORDS.store((bytes / 8).max(1024), Ordering::Relaxed);
}

/// `--heap-limit SIZE`.
pub fn set_from_flag(size: &str) -> Result<(), String> {
    let b = parse_size(size).ok_or_else(|| format!("--heap-limit: not a size: {size:?}"))?;
    set_bytes(b);
    FROM_FLAG.store(true, Ordering::Relaxed);
    Ok(())
}

/// Takes the leading `--heap-limit SIZE` (or `--heap-limit=SIZE`) off the
/// arguments of a built executable (after its name).
pub fn take_flag(args: &mut Vec<String>) -> Result<(), String> {
    let Some(first) = args.get(1) else {
        return Ok(());
    };
    if let Some(size) = first.strip_prefix("--heap-limit=") {
        let size = size.to_string();
        args.remove(1);
        return set_from_flag(&size);
    }
    if first == "--heap-limit" {
        let size = args
            .get(2)
            .cloned()
            .ok_or_else(|| "--heap-limit needs a SIZE".to_string())?;
        args.drain(1..3);
        return set_from_flag(&size);
    }
    Ok(())
}

/// Parses a size: a number of bytes, with an optional suffix K, M, G or T
/// (powers of 1024, case-insensitive, an optional trailing B).
pub fn parse_size(s: &str) -> Option<usize> {
    let t = s.trim();
    let t = t.strip_suffix(['b', 'B']).unwrap_or(t);
    let (digits, shift) = match t.chars().last()?.to_ascii_uppercase() {
        'K' => (&t[..t.len() - 1], 10),
        'M' => (&t[..t.len() - 1], 20),
        'G' => (&t[..t.len() - 1], 30),
        'T' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: usize = digits.trim().parse().ok()?;
    n.checked_mul(1usize << shift)
}

/// Reads `TERMITE_HEAP_LIMIT`; answers an error message when it is malformed.
pub fn configure_from_env() -> Result<(), String> {
    if FROM_FLAG.load(Ordering::Relaxed) {
        return Ok(());
    }
    match std::env::var("TERMITE_HEAP_LIMIT") {
        Ok(s) => match parse_size(&s) {
            Some(b) => {
                set_bytes(b);
                Ok(())
            }
            None => Err(format!("TERMITE_HEAP_LIMIT: not a size: {s:?}")),
        },
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("64k"), Some(64 << 10));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("4G"), Some(4 << 30));
        assert_eq!(parse_size("2GB"), Some(2 << 30));
        assert_eq!(parse_size("1T"), Some(1 << 40));
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("99999999999999999999T"), None);
    }
}
