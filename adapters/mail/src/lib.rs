//! The node's mail relay (ADR 0013), behind core's [`Mailer`] port: a
//! notice becomes a MIME message (plain text and HTML alternatives, the
//! `Message-ID` made from the notice's id, a `List-Unsubscribe` header
//! when the notice is about one space) handed to the relay over SMTP with
//! STARTTLS or TLS (rustls on ring), authenticated when the configuration
//! gives credentials. The relay's answer decides what core does: a 4xx,
//! a timeout or a refused connection is transient (the notice waits and
//! is tried again), a 5xx or an address that cannot be one is permanent
//! (kept and shown to administrators).
//!
//! Plain SMTP (no TLS) is accepted only towards a loopback relay (a local
//! MTA, or the tests' server): credentials and people's addresses never
//! cross a network in clear.

pub mod bounces;
pub mod config;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use passerelle_core::notify::mail::{MailError, Mailer, OutgoingMail};

/// How the connection to the relay is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// STARTTLS, required (port 587 usually).
    StartTls,
    /// TLS from the first byte (port 465 usually).
    Tls,
    /// Nothing: only towards a loopback relay.
    None,
}

impl std::str::FromStr for Security {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "starttls" => Ok(Security::StartTls),
            "tls" => Ok(Security::Tls),
            "none" => Ok(Security::None),
            other => Err(format!(
                "security {other:?} is not one of \"starttls\", \"tls\", \"none\""
            )),
        }
    }
}

/// The relay's settings, as the node's configuration gives them.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User name and password (read from a file by the node).
    pub credentials: Option<(String, String)>,
    /// Extra CA certificates (PEM) the relay's certificate may chain to,
    /// besides the system's.
    pub ca_file: Option<PathBuf>,
    /// `Passerelle <ged@ville.example.fr>`.
    pub from: String,
    /// The right-hand side of `Message-ID`s (the node's host name).
    pub message_id_domain: String,
    pub timeout: Duration,
}

/// What is wrong with the settings, said so that an operator can fix it.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "[mail] from {0:?} is not an e-mail address (write it as \"Passerelle <ged@ville.example.fr>\")"
    )]
    From(String),
    #[error(
        "[mail] security = \"none\" is allowed only for a relay on this machine (127.0.0.1 or ::1), not {0:?}: use \"starttls\" or \"tls\""
    )]
    PlainOverNetwork(String),
    #[error("[mail] ca_file {path}: {why}")]
    CaFile { path: String, why: String },
    #[error("[mail] TLS towards {host:?}: {why}")]
    Tls { host: String, why: String },
}

/// The relay, ready to send.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
    relay: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("relay", &self.relay)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpMailer {
    /// Checks the settings and prepares the transport; nothing is
    /// connected before the first message.
    pub fn new(s: &SmtpSettings) -> Result<Self, SettingsError> {
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|_| SettingsError::From(s.from.clone()))?;
        let tls = match s.security {
            Security::None if !loopback(&s.host) => {
                return Err(SettingsError::PlainOverNetwork(s.host.clone()));
            }
            Security::None => Tls::None,
            Security::StartTls => Tls::Required(tls_parameters(s)?),
            Security::Tls => Tls::Wrapper(tls_parameters(s)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port)
            .tls(tls)
            .timeout(Some(s.timeout));
        if let Some((user, password)) = &s.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            domain: s.message_id_domain.clone(),
            relay: format!("{}:{}", s.host, s.port),
        })
    }

    fn message(&self, mail: &OutgoingMail) -> Result<Message, MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Permanent(format!("{:?} is not an e-mail address", mail.to)))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@{}>", mail.id, self.domain)))
            .header(AutoSubmitted);
        if let Some(u) = &mail.unsubscribe {
            builder = builder.header(ListUnsubscribe(format!("<{u}>")));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| MailError::Permanent(format!("the message cannot be built: {e}")))
    }
}

fn tls_parameters(s: &SmtpSettings) -> Result<TlsParameters, SettingsError> {
    let mut b = TlsParameters::builder(s.host.clone());
    if let Some(path) = &s.ca_file {
        let pem = std::fs::read(path).map_err(|e| SettingsError::CaFile {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| SettingsError::CaFile {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        b = b.add_root_certificate(cert);
    }
    b.build_rustls().map_err(|e| SettingsError::Tls {
        host: s.host.clone(),
        why: e.to_string(),
    })
}

/// `List-Unsubscribe` (RFC 2369): mail readers show an "unsubscribe"
/// button that follows the signed link.
#[derive(Clone, Debug)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office replies
/// are not sent back to the node.
#[derive(Clone, Debug)]
struct AutoSubmitted;

impl header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = self.message(mail)?;
        match self.transport.send(message).await {
            Ok(_) => {
                tracing::info!(notice = %mail.id, relay = %self.relay, "notice accepted by the relay");
                Ok(())
            }
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Transient(format!("{}: {e}", self.relay))),
        }
    }
}
