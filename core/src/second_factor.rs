//! The second factor (issue 17 §2, ADR 0012): a TOTP secret (RFC 6238:
//! HMAC-SHA1, 6 digits, 30-second steps, one step of tolerance either
//! way) and single-use recovery codes, kept on the node where the person
//! logs in and never replicated. The pure rules live here: which code is
//! accepted (never a time step already used, so a code seen over a
//! shoulder cannot be replayed), the enrolment URI authenticator apps
//! read, the shape of recovery codes.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use totp_rs::{Builder, Secret, Totp};

use crate::ids::PrincipalId;

/// Bytes of a TOTP secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Seconds a code lasts.
pub const STEP_SECS: u64 = 30;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// A person's second factor on this node.
#[derive(Clone, PartialEq, Eq)]
pub struct SecondFactor {
    pub principal: PrincipalId,
    /// The TOTP secret (raw bytes).
    pub secret: Vec<u8>,
    /// When a first code confirmed the enrolment; `None` while the person
    /// has been shown the secret but has not proven they hold it.
    pub confirmed_at: Option<OffsetDateTime>,
    /// The last time step a code was accepted for: that step and earlier
    /// ones are never accepted again.
    pub last_step: Option<u64>,
    /// Hashes (PHC strings) of the recovery codes not used yet.
    pub recovery: Vec<String>,
    /// The account's last reset marker when the factor was made
    /// ([`Principal::second_factor_reset`](crate::model::Principal)): a
    /// later reset changes the marker, and the factor no longer counts.
    /// Compared for equality, never as times: the marker is the internal
    /// node's clock, the enrolment the edge's.
    pub reset: Option<OffsetDateTime>,
}

impl fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret stays out of logs.
        f.debug_struct("SecondFactor")
            .field("principal", &self.principal)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_step", &self.last_step)
            .field("recovery_left", &self.recovery.len())
            .finish_non_exhaustive()
    }
}

impl SecondFactor {
    /// Whether it counts for an account whose reset marker is `reset`:
    /// confirmed, and made since the last reset a manager asked for.
    pub fn valid_for(&self, reset: Option<OffsetDateTime>) -> bool {
        self.confirmed_at.is_some() && self.reset == reset
    }

    /// The time step `code` is valid for at `now` (±1 step), if it is and
    /// the step was not used already.
    pub fn accepts(&self, code: &str, now: OffsetDateTime) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let seconds = u64::try_from(now.unix_timestamp()).ok()?;
        let step = totp(&self.secret).check(&code, seconds)?;
        match self.last_step {
            Some(last) if step <= last => None,
            _ => Some(step),
        }
    }

    /// The secret as authenticator apps take it typed in: base32, in
    /// groups of four.
    pub fn secret_text(&self) -> String {
        let b32 = Secret::from(self.secret.clone()).to_base32();
        b32.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `otpauth://` URI an authenticator app reads from the QR code:
    /// `issuer` is the node's name as people know it, `account` the login.
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        let b32 = Secret::from(self.secret.clone()).to_base32();
        let b32 = b32.trim_end_matches('=');
        let (issuer, account) = (uri_part(issuer), uri_part(account));
        format!(
            "otpauth://totp/{issuer}:{account}?secret={b32}&issuer={issuer}&algorithm=SHA1&digits=6&period={STEP_SECS}"
        )
    }
}

/// The TOTP of `secret` with the parameters every authenticator app
/// supports.
fn totp(secret: &[u8]) -> Totp {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .build_noncompliant()
}

/// The code of `secret` at `now` (tests, and the people who compute one
/// by hand with an independent tool).
pub fn code_at(secret: &[u8], now: OffsetDateTime) -> String {
    let seconds = u64::try_from(now.unix_timestamp()).unwrap_or_default();
    totp(secret).generate(seconds).to_string()
}

/// Percent-encodes a label of the URI: letters, digits and `-._~@` as
/// they are, everything else (`:` included, which separates issuer and
/// account) escaped.
fn uri_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether `typed` has the shape of a recovery code (`abcd-efgh-jkmn`)
/// rather than a six-digit code.
pub fn looks_like_recovery(typed: &str) -> bool {
    normalize_recovery(typed).len() == 12
}

/// A recovery code as it is hashed: lower case, without separators or
/// spaces (people type them as they can).
pub fn normalize_recovery(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A fresh recovery code: 12 characters of an alphabet without look-alikes
/// (about 60 bits), shown as three groups of four.
pub fn new_recovery_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    let s: String = chars.into_iter().collect();
    format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..12])
}

/// A fresh TOTP secret.
pub fn new_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// Who must log in with a second factor on a node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecondFactorPolicy {
    /// Contractors enrol at their first login and give a code at every
    /// one (the edge's default: it faces the Internet).
    Required,
    /// Whoever enrolled gives a code; nobody is made to enrol.
    Optional,
    /// Passwords alone (the internal node's default; a test edge).
    #[default]
    Off,
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;

    fn factor(secret: &[u8]) -> SecondFactor {
        SecondFactor {
            principal: PrincipalId::new(),
            secret: secret.to_vec(),
            confirmed_at: Some(OffsetDateTime::UNIX_EPOCH),
            last_step: None,
            recovery: Vec::new(),
            reset: None,
        }
    }

    #[test]
    fn the_rfc_6238_vectors_and_one_step_either_way_are_accepted_once() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T =
        // 59 s: 94287082 on 8 digits, so 287082 on 6.
        let f = factor(b"12345678901234567890");
        let t = OffsetDateTime::UNIX_EPOCH + Duration::seconds(59);
        assert_eq!(code_at(&f.secret, t), "287082");
        assert_eq!(f.accepts("287082", t), Some(1));
        assert_eq!(f.accepts("287 082", t), Some(1), "spaces as typed");
        // A step late or early still passes; two steps do not.
        assert_eq!(f.accepts("287082", t + Duration::seconds(30)), Some(1));
        assert_eq!(f.accepts("287082", t + Duration::seconds(61)), None);
        assert_eq!(f.accepts("287082", t - Duration::seconds(30)), Some(1));
        // Used once: that step, and any earlier one, never again.
        let used = SecondFactor {
            last_step: Some(1),
            ..f.clone()
        };
        assert_eq!(used.accepts("287082", t), None);
        let next = code_at(&f.secret, t + Duration::seconds(30));
        assert_eq!(used.accepts(&next, t + Duration::seconds(30)), Some(2));
        for junk in ["", "28708", "2870822", "abcdef", "+87082", "٢٨٧٠٨٢"] {
            assert_eq!(f.accepts(junk, t), None, "{junk:?}");
        }
    }

    #[test]
    fn a_reset_voids_enrolments_before_it_and_unconfirmed_ones_never_count() {
        let reset = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let mut f = factor(&new_secret());
        assert!(f.valid_for(None));
        assert!(!f.valid_for(Some(reset)), "reset since");
        f.reset = Some(reset);
        assert!(f.valid_for(Some(reset)), "made after that reset");
        assert!(!f.valid_for(Some(reset + Duration::seconds(1))));
        f.confirmed_at = None;
        assert!(!f.valid_for(Some(reset)));
    }

    #[test]
    fn the_uri_and_the_secret_are_what_authenticator_apps_read() {
        let f = factor(b"12345678901234567890");
        assert_eq!(
            f.uri("Passerelle Métropole", "jean@btp.fr"),
            "otpauth://totp/Passerelle%20M%C3%A9tropole:jean@btp.fr?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Passerelle%20M%C3%A9tropole&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(f.secret_text(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        assert_eq!(new_secret().len(), SECRET_BYTES);
    }

    #[test]
    fn recovery_codes_are_told_apart_from_codes_and_typed_loosely() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 14);
        assert!(looks_like_recovery(&code));
        assert!(looks_like_recovery(&code.to_uppercase().replace('-', " ")));
        assert_eq!(
            normalize_recovery(&code.to_uppercase()),
            code.replace('-', "")
        );
        assert!(!looks_like_recovery("287082"));
        assert_ne!(new_recovery_code(), new_recovery_code());
    }
}
