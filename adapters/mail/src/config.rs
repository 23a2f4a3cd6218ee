//! The `[mail]` and `[notifications]` sections both nodes read (each
//! node its own relay: the edge never relays through the LAN), checked
//! when the node starts, with messages that name the setting to fix.

use std::path::PathBuf;
use std::time::Duration;

use passerelle_core::notify::DigestSchedule;
use passerelle_core::service::NotifySettings;
use serde::{Deserialize, Serialize};

use crate::{Security, SmtpMailer, SmtpSettings};

/// `[mail]`: the node's SMTP relay. Absent: notices are planned and wait
/// in the outbox (shown to administrators), nothing is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// `starttls` (default), `tls`, or `none` (a relay on this machine only).
    #[serde(default = "default_security")]
    pub security: String,
    /// The user name, when the relay asks for one.
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the password (first line), readable by the node only.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Extra CA certificates (PEM) for the relay's certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// `Passerelle <ged@ville.example.fr>`.
    pub from: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// A Maildir the MTA delivers the `from` address's mail to, read for
    /// delivery reports (bounces after the relay accepted a message): a
    /// failed notice is then shown to administrators. Absent: only the
    /// relay's refusals at submission are known.
    #[serde(default)]
    pub bounce_maildir: Option<PathBuf>,
}

fn default_port() -> u16 {
    587
}
fn default_security() -> String {
    "starttls".into()
}
fn default_timeout() -> u64 {
    30
}

impl MailConfig {
    /// The bounce mailbox, when one is set.
    pub fn bounces(&self) -> anyhow::Result<Option<crate::bounces::MaildirBounces>> {
        self.bounce_maildir
            .as_deref()
            .map(|dir| {
                crate::bounces::MaildirBounces::open(dir).map_err(|e| {
                    anyhow::anyhow!(
                        "[mail] bounce_maildir {}: {e} (a Maildir the node can read and write: new/ and cur/)",
                        dir.display()
                    )
                })
            })
            .transpose()
    }

    /// The relay these settings describe, checked. `host_name` is the
    /// node's own (the right-hand side of `Message-ID`s).
    pub fn mailer(&self, host_name: &str) -> anyhow::Result<SmtpMailer> {
        let security: Security = self
            .security
            .parse()
            .map_err(|e| anyhow::anyhow!("[mail] {e}"))?;
        if self.timeout_secs == 0 || self.timeout_secs > 600 {
            anyhow::bail!("[mail] timeout_secs must be between 1 and 600");
        }
        let credentials = match (&self.username, &self.password_file) {
            (None, None) => None,
            (Some(u), Some(f)) => {
                let raw = std::fs::read_to_string(f)
                    .map_err(|e| anyhow::anyhow!("[mail] password_file {}: {e}", f.display()))?;
                let password = raw.lines().next().unwrap_or_default().to_owned();
                if password.is_empty() {
                    anyhow::bail!("[mail] password_file {} is empty", f.display());
                }
                Some((u.clone(), password))
            }
            _ => anyhow::bail!(
                "[mail] username and password_file go together: give both, or neither"
            ),
        };
        Ok(SmtpMailer::new(&SmtpSettings {
            host: self.host.clone(),
            port: self.port,
            security,
            credentials,
            ca_file: self.ca_file.clone(),
            from: self.from.clone(),
            message_id_domain: host_name.to_owned(),
            timeout: Duration::from_secs(self.timeout_secs),
        })?)
    }
}

/// `[notifications]`: what notices link to and when digests go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// The address people reach this node at (`https://ged.ville.fr`),
    /// for the links of e-mails; absent: e-mails name documents without
    /// links and carry no unsubscribe link.
    pub public_url: Option<String>,
    /// The time of day (UTC, `"HH:MM"`, seconds allowed) digests are
    /// sent at; weekly ones on Mondays.
    pub digest_time: String,
    /// Most e-mails one person is sent in an hour; more wait.
    pub max_per_hour: u32,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        let core = NotifySettings::default();
        Self {
            public_url: None,
            digest_time: core.schedule.to_string(),
            max_per_hour: core.max_per_hour,
        }
    }
}

impl NotificationsConfig {
    /// Core's settings, checked.
    pub fn settings(&self) -> anyhow::Result<NotifySettings> {
        let schedule: DigestSchedule = self.digest_time.parse().map_err(|_| {
            anyhow::anyhow!(
                "[notifications] digest_time {:?} must be a time of day in UTC, such as \"06:00\"",
                self.digest_time
            )
        })?;
        if self.max_per_hour == 0 {
            anyhow::bail!("[notifications] max_per_hour must be at least 1");
        }
        if let Some(u) = &self.public_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            anyhow::bail!(
                "[notifications] public_url {u:?} must be an http(s) address, such as \"https://ged.ville.example.fr\""
            );
        }
        Ok(NotifySettings {
            public_url: self.public_url.clone(),
            schedule,
            max_per_hour: self.max_per_hour,
        })
    }

    /// The host name of `public_url`, for `Message-ID`s; `localhost`
    /// without one.
    pub fn host_name(&self) -> String {
        self.public_url
            .as_deref()
            .and_then(|u| u.split("://").nth(1))
            .and_then(|rest| rest.split(['/', ':']).next())
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost")
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_checked_with_the_setting_to_fix() {
        let n = NotificationsConfig {
            public_url: Some("https://ged.metropole.example.fr:8443/x".into()),
            ..NotificationsConfig::default()
        };
        assert_eq!(n.host_name(), "ged.metropole.example.fr");
        assert_eq!(NotificationsConfig::default().host_name(), "localhost");
        assert!(n.settings().is_ok());
        let bad = NotificationsConfig {
            digest_time: "24:00".into(),
            ..NotificationsConfig::default()
        };
        assert!(
            bad.settings()
                .expect_err("hour")
                .to_string()
                .contains("digest_time")
        );
        let bad = NotificationsConfig {
            public_url: Some("ged.example.fr".into()),
            ..NotificationsConfig::default()
        };
        assert!(
            bad.settings()
                .expect_err("url")
                .to_string()
                .contains("public_url")
        );

        let mail = MailConfig {
            host: "127.0.0.1".into(),
            port: 2525,
            security: "none".into(),
            username: Some("ged".into()),
            password_file: None,
            ca_file: None,
            from: "Passerelle <ged@ville.example.fr>".into(),
            timeout_secs: 30,
            bounce_maildir: None,
        };
        let err = mail.mailer("ged").expect_err("user without password");
        assert!(err.to_string().contains("go together"), "{err}");
        let dir = tempfile::tempdir().expect("dir");
        let secret = dir.path().join("smtp.pw");
        std::fs::write(&secret, "s3cret\n").expect("write");
        let ok = MailConfig {
            password_file: Some(secret),
            ..mail.clone()
        };
        assert!(ok.mailer("ged").is_ok());
        assert!(ok.bounces().expect("none").is_none());
        let with_box = MailConfig {
            bounce_maildir: Some(dir.path().join("bounces")),
            ..ok.clone()
        };
        assert!(with_box.bounces().expect("made").is_some());
        assert!(dir.path().join("bounces/new").is_dir());
        let blocked = dir.path().join("a-file");
        std::fs::write(&blocked, "x").expect("write");
        let unusable = MailConfig {
            bounce_maildir: Some(blocked.join("bounces")),
            ..ok.clone()
        };
        assert!(
            unusable
                .bounces()
                .expect_err("under a file")
                .to_string()
                .contains("[mail] bounce_maildir")
        );
        let bad = MailConfig {
            security: "ssl".into(),
            ..mail
        };
        assert!(
            bad.mailer("ged")
                .expect_err("ssl")
                .to_string()
                .contains("[mail] security")
        );
    }
}
