//! The mail adapter against a real SMTP server (Debian's aiosmtpd on a
//! loopback port): a notice arrives as a plain-text and HTML message with
//! the notice's `Message-ID`, `List-Unsubscribe` and `Auto-Submitted`, no
//! attachment; a recipient the relay refuses is a permanent failure, a
//! relay down a transient one; settings that would send in clear over a
//! network, or from no address, are refused with a message that says how
//! to fix them.

use std::time::Duration;

use passerelle_core::ids::NoticeId;
use passerelle_core::notify::mail::{MailError, Mailer, OutgoingMail};
use passerelle_mail::{Security, SettingsError, SmtpMailer, SmtpSettings};

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::None,
        credentials: None,
        ca_file: None,
        from: "Passerelle <ged@metropole.example.fr>".into(),
        message_id_domain: "ged.metropole.example.fr".into(),
        timeout: Duration::from_secs(5),
    }
}

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        id: NoticeId::derived(&["test", to]),
        to: to.into(),
        subject: "[Passerelle] Nouveautés dans Piscine".into(),
        text: "Paul Martin a déposé plan.pdf\n".into(),
        html: "<p>Paul Martin a déposé <a href=\"https://ged/documents/1\">plan.pdf</a></p>".into(),
        unsubscribe: Some("https://ged.metropole.example.fr/unsubscribe/abc".into()),
    }
}

#[tokio::test]
async fn a_notice_arrives_whole_and_the_relays_answers_are_told_apart() -> anyhow::Result<()> {
    let Some(mut smtp) = passerelle_testing::smtp::start()? else {
        return Ok(());
    };
    let mailer = SmtpMailer::new(&settings(smtp.port))?;
    let m = mail("p.martin@metropole.example.fr");
    mailer.send(&m).await?;
    let got = smtp.wait_for(1, Duration::from_secs(10))?;
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.rcpt, ["p.martin@metropole.example.fr"]);
    assert_eq!(r.from, "Passerelle <ged@metropole.example.fr>");
    assert_eq!(r.subject, "[Passerelle] Nouveautés dans Piscine");
    assert_eq!(r.message_id, format!("<{}@ged.metropole.example.fr>", m.id));
    assert_eq!(
        r.list_unsubscribe.as_deref(),
        Some("<https://ged.metropole.example.fr/unsubscribe/abc>")
    );
    assert_eq!(r.auto_submitted.as_deref(), Some("auto-generated"));
    assert_eq!(r.attachments, 0, "never the file itself");
    assert_eq!(r.text.trim_end(), "Paul Martin a déposé plan.pdf");
    assert!(
        r.html
            .contains("<a href=\"https://ged/documents/1\">plan.pdf</a>")
    );

    // Refused for good by the relay (550): permanent.
    let err = mailer
        .send(&mail("refused@metropole.example.fr"))
        .await
        .expect_err("refused");
    assert!(
        matches!(err, MailError::Permanent(ref why) if why.contains("550")),
        "{err:?}"
    );
    // Not an address at all: permanent, without asking the relay.
    let err = mailer.send(&mail("not an address")).await.expect_err("bad");
    assert!(matches!(err, MailError::Permanent(_)), "{err:?}");

    // The relay down: transient; back up, the same message goes through.
    smtp.stop();
    let err = mailer.send(&m).await.expect_err("down");
    assert!(matches!(err, MailError::Transient(_)), "{err:?}");
    smtp.start_again()?;
    mailer.send(&m).await?;
    assert_eq!(smtp.wait_for(2, Duration::from_secs(10))?.len(), 2);
    Ok(())
}

#[test]
fn settings_that_would_leak_or_cannot_send_are_refused_with_the_fix() {
    let mut s = settings(25);
    s.host = "smtp.metropole.example.fr".into();
    let err = SmtpMailer::new(&s).expect_err("clear text over a network");
    assert!(matches!(err, SettingsError::PlainOverNetwork(_)));
    assert!(
        err.to_string().contains("use \"starttls\" or \"tls\""),
        "{err}"
    );
    // Over TLS it is fine (nothing connects before the first message).
    s.security = Security::StartTls;
    SmtpMailer::new(&s).expect("starttls");
    let mut s = settings(25);
    s.from = "ged".into();
    let err = SmtpMailer::new(&s).expect_err("no address");
    assert!(
        err.to_string()
            .contains("Passerelle <ged@ville.example.fr>"),
        "{err}"
    );
    let mut s = settings(25);
    s.security = Security::Tls;
    s.ca_file = Some("/nonexistent/ca.pem".into());
    let err = SmtpMailer::new(&s).expect_err("no CA file");
    assert!(
        err.to_string().contains("ca_file /nonexistent/ca.pem"),
        "{err}"
    );
    assert_eq!("starttls".parse::<Security>(), Ok(Security::StartTls));
    assert!("ssl".parse::<Security>().is_err());
}
