//! The node flags of the command line, shared by `termitec run`,
//! `termitec node` (and `termitec repl` when it exists) and built
//! executables: `--node HOST:PORT`, `--cookie STRING`,
//! `--heartbeat-timeout SECS`. They are checked when parsed (a bad value
//! is a clear error, exit status 2) and kept runtime-wide ([`set`],
//! [`get`]) until the runtime starts the network layer: the cookie itself
//! is looked up only then ([`super::cookie::resolve`]), so a program that
//! never talks to another node never creates `~/.termite-cookie`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Mutex;
use std::time::Duration;

/// `--node HOST:PORT`: the host as written (for `(current-node)`), the
/// port, and the address it resolved to (where the node listens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddr {
    pub host: String,
    pub port: u16,
    pub addr: SocketAddr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeOptions {
    pub node: Option<NodeAddr>,
    /// `--cookie`, when given (else `TERMITE_COOKIE`, else the file).
    pub cookie: Option<String>,
    pub heartbeat_timeout: Duration,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            node: None,
            cookie: None,
            heartbeat_timeout: super::heartbeat::DEFAULT_TIMEOUT,
        }
    }
}

static OPTIONS: Mutex<Option<NodeOptions>> = Mutex::new(None);

/// Records the options of this run.
pub fn set(o: NodeOptions) {
    *OPTIONS.lock().unwrap_or_else(|e| e.into_inner()) = Some(o);
}

/// The options of this run (the defaults if none were set).
pub fn get() -> NodeOptions {
    OPTIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Parses `HOST:PORT` (`[V6]:PORT` for an IPv6 address), resolving HOST.
pub fn parse_node(s: &str) -> Result<NodeAddr, String> {
    let bad = |why: &str| format!("--node: {why}: {s:?} (expected HOST:PORT, e.g. 127.0.0.1:3001)");
    let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let host = match host.strip_prefix('[') {
        Some(h) => h.strip_suffix(']').ok_or_else(|| bad("unbalanced ["))?,
        None if host.contains(':') => return Err(bad("write an IPv6 address in brackets")),
        None => host,
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port is not a number from 1 to 65535"))?;
    if port == 0 {
        return Err(bad("the port is not a number from 1 to 65535"));
    }
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| bad(&format!("cannot resolve the host ({e})")))?
        .next()
        .ok_or_else(|| bad("the host has no address"))?;
    Ok(NodeAddr {
        host: host.to_string(),
        port,
        addr,
    })
}

/// Parses `--heartbeat-timeout SECS`: a number of seconds (fractions
/// allowed) from 0.01 to 86400.
pub fn parse_heartbeat_timeout(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("--heartbeat-timeout: not a number of seconds: {s:?}"))?;
    if !(0.01..=86400.0).contains(&v) {
        return Err(format!(
            "--heartbeat-timeout: {s} is out of range (0.01 to 86400 seconds)"
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

/// Checks `--cookie STRING`.
pub fn parse_cookie(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("--cookie: the cookie is empty".into());
    }
    Ok(s.to_string())
}

/// Builds the options from the three flags' texts.
pub fn from_flags(
    node: Option<&str>,
    cookie: Option<&str>,
    heartbeat_timeout: Option<&str>,
) -> Result<NodeOptions, String> {
    Ok(NodeOptions {
        node: node.map(parse_node).transpose()?,
        cookie: cookie.map(parse_cookie).transpose()?,
        heartbeat_timeout: heartbeat_timeout
            .map(parse_heartbeat_timeout)
            .transpose()?
            .unwrap_or(super::heartbeat::DEFAULT_TIMEOUT),
    })
}

const FLAGS: [&str; 3] = ["--node", "--cookie", "--heartbeat-timeout"];

/// Takes the node flags (`--flag VALUE` or `--flag=VALUE`) that lead the
/// arguments of a built executable (after its name), in any order,
/// stopping at the first other argument; records them with [`set`].
/// `heap_flag` is called on an argument list whose first argument may be
/// another runtime flag (`--heap-limit`) so that both kinds mix.
pub fn take_flags(
    args: &mut Vec<String>,
    mut other: impl FnMut(&mut Vec<String>) -> Result<(), String>,
) -> Result<(), String> {
    let mut texts: [Option<String>; 3] = [None, None, None];
    loop {
        let before = args.len();
        other(args)?;
        if let Some(first) = args.get(1).cloned() {
            for (i, f) in FLAGS.iter().enumerate() {
                if let Some(v) = first.strip_prefix(f).and_then(|r| r.strip_prefix('=')) {
                    texts[i] = Some(v.to_string());
                    args.remove(1);
                    break;
                }
                if first == *f {
                    let v = args
                        .get(2)
                        .cloned()
                        .ok_or_else(|| format!("{f} needs a value"))?;
                    texts[i] = Some(v);
                    args.drain(1..3);
                    break;
                }
            }
        }
        if args.len() == before {
            break;
        }
    }
    set(from_flags(
        texts[0].as_deref(),
        texts[1].as_deref(),
        texts[2].as_deref(),
    )?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_addresses() {
        let a = parse_node("127.0.0.1:3001").unwrap();
        assert_eq!(a.host, "127.0.0.1");
        assert_eq!(a.port, 3001);
        assert_eq!(a.addr, "127.0.0.1:3001".parse().unwrap());
        let a = parse_node("[::1]:3002").unwrap();
        assert_eq!(a.host, "::1");
        assert_eq!(a.addr, "[::1]:3002".parse().unwrap());
        assert_eq!(parse_node("localhost:3003").unwrap().port, 3003);
        for bad in [
            "",
            "3001",
            ":3001",
            "127.0.0.1:",
            "127.0.0.1:0",
            "127.0.0.1:70000",
            "127.0.0.1:x",
            "::1:3001",
            "[::1:3001",
            "no.such.host.invalid:1",
        ] {
            let e = parse_node(bad).unwrap_err();
            assert!(e.starts_with("--node: "), "{bad}: {e}");
        }
    }

    #[test]
    fn heartbeat_timeouts() {
        assert_eq!(
            parse_heartbeat_timeout("0.5").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            parse_heartbeat_timeout("5").unwrap(),
            Duration::from_secs(5)
        );
        for bad in ["", "x", "0", "-1", "nan", "inf", "1e9"] {
            assert!(parse_heartbeat_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn leading_flags_of_an_executable() {
        let mut args: Vec<String> = [
            "prog",
            "--node",
            "127.0.0.1:4000",
            "--heap-limit",
            "1G",
            "--cookie=s3",
            "--heartbeat-timeout",
            "2",
            "user",
            "--node",
            "x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut heap = None;
        take_flags(&mut args, |a| {
            if a.get(1).map(String::as_str) == Some("--heap-limit") {
                heap = a.get(2).cloned();
                a.drain(1..3);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(args, ["prog", "user", "--node", "x"]);
        assert_eq!(heap.as_deref(), Some("1G"));
        let o = get();
        assert_eq!(o.node.unwrap().port, 4000);
        assert_eq!(o.cookie.as_deref(), Some("s3"));
        assert_eq!(o.heartbeat_timeout, Duration::from_secs(2));
        let mut args: Vec<String> = vec!["prog".into(), "--node".into()];
        assert!(take_flags(&mut args, |_| Ok(())).is_err());
        let mut args: Vec<String> = vec!["prog".into(), "--node=nowhere".into()];
        assert!(take_flags(&mut args, |_| Ok(())).is_err());
    }
}
