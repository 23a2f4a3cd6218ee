//! The bounce mailbox (ADR 0013 §7), behind core's [`BounceBox`] port: a
//! Maildir the authority's MTA delivers the node's envelope sender to
//! (Postfix `home_mailbox = Maildir/`, or a `virtual_mailbox_maps` entry).
//! Each file of `new/` is one message; those that are RFC 3464 delivery
//! status notifications with `Action: failed` become a [`Bounce`] naming
//! the failed message's `Message-ID`; everything is then moved to `cur/`
//! (with the Maildir "seen" flag), so that nothing is read twice and the
//! mailbox stays readable by any mail client for a human look.
//!
//! The reports are read with `mail-parser` (already the `.eml`
//! extractor's): a DSN is MIME, with the original message or its headers
//! attached, and hand-parsing MIME is where such readers go wrong.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use mail_parser::{MessageParser, MimeHeaders};
use passerelle_core::notify::mail::{Bounce, BounceBox, MailError, Report};

/// Larger files are set aside unread: a DSN is a few KiB, the returned
/// message's headers included (MTAs attach headers only, or truncate).
const MAX_REPORT_BYTES: u64 = 1024 * 1024;

/// A Maildir: `new/` holds unread messages, `cur/` read ones.
#[derive(Clone, Debug)]
pub struct MaildirBounces {
    dir: PathBuf,
}

impl MaildirBounces {
    /// The Maildir at `dir`; `new/` and `cur/` are made if missing (the
    /// MTA makes them at its first delivery, the node may start first).
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        Ok(Self {
            dir: dir.to_owned(),
        })
    }
}

fn io(e: &std::io::Error, what: &str) -> MailError {
    MailError::Transient(format!("bounce mailbox {what}: {e}"))
}

#[async_trait]
impl BounceBox for MaildirBounces {
    async fn waiting(&self, limit: usize) -> Result<Vec<Report>, MailError> {
        let dir = self.dir.join("new");
        tokio::task::spawn_blocking(move || read_new(&dir, limit))
            .await
            .map_err(|e| MailError::Transient(format!("bounce mailbox: {e}")))?
    }

    async fn done(&self, handle: &str) -> Result<(), MailError> {
        // Handles are names of files of `new/`, as `waiting` gave them.
        if handle.contains(['/', '\\']) || handle.starts_with('.') || handle.contains(':') {
            return Err(MailError::Permanent(format!(
                "not a message of the mailbox: {handle:?}"
            )));
        }
        let from = self.dir.join("new").join(handle);
        let to = self.dir.join("cur").join(format!("{handle}:2,S"));
        tokio::fs::rename(&from, &to)
            .await
            .map_err(|e| io(&e, "move to cur/"))
    }
}

/// The oldest `limit` messages of `new/` (Maildir names begin with their
/// delivery time, so the name order is close to arrival order).
fn read_new(dir: &Path, limit: usize) -> Result<Vec<Report>, MailError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| io(&e, "read new/"))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort_unstable();
    names.truncate(limit);
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        let size = std::fs::metadata(&path)
            .map_err(|e| io(&e, "read a message"))?
            .len();
        let bounce = if size > MAX_REPORT_BYTES {
            None
        } else {
            let raw = std::fs::read(&path).map_err(|e| io(&e, "read a message"))?;
            parse_report(&raw)
        };
        out.push(Report {
            handle: name,
            bounce,
        });
    }
    Ok(out)
}

/// The failure a delivery status notification reports, if `raw` is one
/// (RFC 3464: `multipart/report; report-type=delivery-status`, a
/// `message/delivery-status` part with a recipient whose `Action` is
/// `failed`, and the original message or its headers attached).
pub fn parse_report(raw: &[u8]) -> Option<Bounce> {
    let msg = MessageParser::default().parse(raw)?;
    let ct = msg.content_type()?;
    if !ct.ctype().eq_ignore_ascii_case("multipart")
        || !ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    {
        return None;
    }
    let mut status_fields = None;
    let mut original = None;
    for part in &msg.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let (t, s) = (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or_default().to_ascii_lowercase(),
        );
        match (t.as_str(), s.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") => {
                status_fields = Some(String::from_utf8_lossy(part.contents()).into_owned());
            }
            ("message", "rfc822" | "global") => {
                original = original.or_else(|| {
                    part.message()
                        .and_then(|m| m.message_id())
                        .map(str::to_owned)
                });
            }
            ("text" | "message", "rfc822-headers" | "global-headers") => {
                original = original.or_else(|| {
                    MessageParser::default()
                        .parse_headers(part.contents())
                        .and_then(|m| m.message_id().map(str::to_owned))
                });
            }
            _ => {}
        }
    }
    let failed = failed_recipient(&status_fields?)?;
    Some(Bounce {
        message_id: original?,
        recipient: failed.recipient,
        status: failed.status,
        diagnostic: failed.diagnostic,
    })
}

struct Failed {
    recipient: Option<String>,
    status: String,
    diagnostic: Option<String>,
}

/// The first per-recipient block of a `message/delivery-status` body
/// whose `Action` is `failed` (a delay warning or a "delivered" report
/// is no bounce). Blocks are separated by blank lines; folded lines
/// (starting with white space) continue the field above.
fn failed_recipient(fields: &str) -> Option<Failed> {
    let mut blocks: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for line in fields.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if blocks.last().is_some_and(|b| !b.is_empty()) {
                blocks.push(Vec::new());
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = blocks.last_mut().and_then(|b| b.last_mut()) {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':')
            && let Some(b) = blocks.last_mut()
        {
            b.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    // The first block is the message's (Reporting-MTA…); the rest, one
    // per recipient.
    blocks.into_iter().skip(1).find_map(|b| {
        let get = |k: &str| b.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if !get("action")?.eq_ignore_ascii_case("failed") {
            return None;
        }
        // `rfc822; user@example.fr`: the address after the type.
        let address = |v: String| match v.split_once(';') {
            Some((_, a)) => a.trim().to_owned(),
            None => v,
        };
        Some(Failed {
            recipient: get("final-recipient")
                .or_else(|| get("original-recipient"))
                .map(address),
            status: get("status").unwrap_or_else(|| "5.0.0".into()),
            diagnostic: get("diagnostic-code"),
        })
    })
}

#[cfg(test)]
mod tests;
