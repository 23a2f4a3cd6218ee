//! Where clamd listens, as the node's configuration spells it:
//! `unix:/run/clamav/clamd.ctl` (Debian's `LocalSocket`) or
//! `tcp:127.0.0.1:3310` (`TCPSocket`/`TCPAddr`).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClamdAddress {
    Unix(PathBuf),
    /// `host:port`, resolved at each connection.
    Tcp(String),
}

/// An address that is neither `unix:<path>` nor `tcp:<host>:<port>`.
#[derive(Debug, thiserror::Error)]
#[error("clamd address {0:?}: write unix:/run/clamav/clamd.ctl or tcp:127.0.0.1:3310")]
pub struct BadAddress(String);

impl FromStr for ClamdAddress {
    type Err = BadAddress;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAddress(s.to_owned());
        if let Some(path) = s.strip_prefix("unix:") {
            if !path.starts_with('/') {
                return Err(bad());
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        let addr = s.strip_prefix("tcp:").ok_or_else(bad)?;
        let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(bad());
        }
        Ok(Self::Tcp(addr.to_owned()))
    }
}

impl fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix(p) => write!(f, "unix:{}", p.display()),
            Self::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_unix_and_tcp_addresses_and_nothing_else() {
        assert_eq!(
            "unix:/run/clamav/clamd.ctl".parse::<ClamdAddress>().ok(),
            Some(ClamdAddress::Unix("/run/clamav/clamd.ctl".into()))
        );
        assert_eq!(
            "tcp:127.0.0.1:3310".parse::<ClamdAddress>().ok(),
            Some(ClamdAddress::Tcp("127.0.0.1:3310".into()))
        );
        assert_eq!(
            "tcp:[::1]:3310".parse::<ClamdAddress>().ok(),
            Some(ClamdAddress::Tcp("[::1]:3310".into()))
        );
        for bad in [
            "",
            "/run/clamav/clamd.ctl",
            "unix:relative.ctl",
            "tcp:127.0.0.1",
            "tcp::3310",
            "tcp:127.0.0.1:99999",
            "http://127.0.0.1:3310",
        ] {
            assert!(bad.parse::<ClamdAddress>().is_err(), "{bad}");
        }
        assert_eq!(
            ClamdAddress::Tcp("127.0.0.1:3310".into()).to_string(),
            "tcp:127.0.0.1:3310"
        );
    }
}
