//! The cookie that nodes prove to each other (SPEC.md, *Command line*):
//! `--cookie STRING`, else the environment variable `TERMITE_COOKIE`, else
//! the file `~/.termite-cookie`. The file is created on first use with 256
//! random bits as 64 hex digits and mode 0600, atomically: the text is
//! written to a private temporary file (`O_EXCL`, mode 0600) that is then
//! hard-linked to the final name, so a concurrent first use on the same
//! machine either wins or reads the winner's complete file, never a
//! partial one. As Erlang does with `~/.erlang.cookie`, an existing file
//! that group or others may read or write is refused with a message that
//! says how to fix it: a cookie others can read protects nothing. The
//! cookie is its text with surrounding white space removed; an empty one
//! is refused.

use super::Cookie;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const ENV: &str = "TERMITE_COOKIE";
pub const FILE: &str = ".termite-cookie";

/// Finds the cookie: the flag, the environment, or the file in `$HOME`.
pub fn resolve(flag: Option<&str>) -> Result<Cookie, String> {
    if let Some(c) = flag {
        return from_text(c, "--cookie");
    }
    if let Ok(c) = std::env::var(ENV) {
        return from_text(&c, ENV);
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            format!("no cookie: give --cookie, set {ENV}, or set HOME so that ~/{FILE} can be used")
        })?;
    from_file(&Path::new(&home).join(FILE))
}

fn from_text(text: &str, source: &str) -> Result<Cookie, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("{source}: the cookie is empty"));
    }
    Ok(Cookie::new(t.as_bytes().to_vec()))
}

/// Reads the cookie file, creating it first if it does not exist.
pub fn from_file(path: &Path) -> Result<Cookie, String> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path)?,
        Err(e) => return Err(format!("cannot read the cookie file {shown}: {e}")),
    }
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read the cookie file {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("the cookie file {shown} is not a regular file"));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "the cookie file {shown} must be accessible by its owner only (its mode is {mode:03o}; run: chmod 600 {shown})"
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the cookie file {shown}: {e}"))?;
    from_text(&text, &format!("the cookie file {shown}"))
}

fn create(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let mut bits = [0u8; 32];
    getrandom::fill(&mut bits).map_err(|e| format!("cannot make a cookie: {e}"))?;
    let text: String = bits.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = temp_name(path);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()
    };
    let r = write().and_then(|()| match std::fs::hard_link(&tmp, path) {
        // Another node created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        r => r,
    });
    let _ = std::fs::remove_file(&tmp);
    r.map_err(|e| format!("cannot create the cookie file {shown}: {e}"))
}

fn temp_name(path: &Path) -> PathBuf {
    let mut r = [0u8; 8];
    let _ = getrandom::fill(&mut r);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(
        ".tmp.{}.{}",
        std::process::id(),
        u64::from_ne_bytes(r)
    ));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("termite-cookie-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn created_once_private_and_stable() {
        let d = dir("create");
        let p = d.join(FILE);
        let a = from_file(&p).unwrap();
        assert_eq!(a.bytes().len(), 64);
        assert!(a.bytes().iter().all(|b| b.is_ascii_hexdigit()));
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(from_file(&p).unwrap().bytes(), a.bytes());
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn concurrent_first_use_agrees() {
        let d = dir("race");
        let p = d.join(FILE);
        let cookies: Vec<Vec<u8>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(|| from_file(&p).unwrap().bytes().to_vec()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(cookies.windows(2).all(|w| w[0] == w[1]));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn refuses_readable_or_empty_files() {
        let d = dir("mode");
        let p = d.join(FILE);
        std::fs::write(&p, "secret\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = from_file(&p).unwrap_err();
        assert!(e.contains("owner only") && e.contains("644"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(from_file(&p).unwrap().bytes(), b"secret");
        std::fs::write(&p, "  \n").unwrap();
        assert!(from_file(&p).unwrap_err().contains("empty"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn flag_first() {
        assert_eq!(resolve(Some(" abc ")).unwrap().bytes(), b"abc");
        assert!(resolve(Some("")).is_err());
    }
}
