//! Delivery reports as MTAs write them: Postfix's (the returned message's
//! headers attached) and Exchange-style (the whole message attached) are
//! bounces; a delay warning, a plain message and a report without the
//! original's `Message-ID` are not. The Maildir hands `new/` over and
//! moves what was read to `cur/`.

use super::*;

const ID: &str = "0190a3c2-1111-8222-8333-444455556666@ged.metropole.example.fr";

fn postfix(action: &str) -> String {
    format!(
        "From: MAILER-DAEMON@mx.metropole.example.fr (Mail Delivery System)\r
Subject: Undelivered Mail Returned to Sender\r
To: ged@metropole.example.fr\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status;\r
\tboundary=\"ABC/mx\"\r
Message-Id: <20261207101010.ABC@mx.metropole.example.fr>\r
\r
This is a MIME-encapsulated message.\r
\r
--ABC/mx\r
Content-Description: Notification\r
Content-Type: text/plain; charset=us-ascii\r
\r
I'm sorry to have to inform you that your message could not\r
be delivered to one or more recipients.\r
\r
--ABC/mx\r
Content-Description: Delivery report\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.metropole.example.fr\r
X-Postfix-Queue-ID: ABC\r
Arrival-Date: Mon,  7 Dec 2026 10:10:08 +0100 (CET)\r
\r
Final-Recipient: rfc822; a.martin@btp.example\r
Original-Recipient: rfc822;a.martin@btp.example\r
Action: {action}\r
Status: 5.1.1\r
Remote-MTA: dns; mx.btp.example\r
Diagnostic-Code: smtp; 550 5.1.1 <a.martin@btp.example>: Recipient address\r
    rejected: User unknown in virtual mailbox table\r
\r
--ABC/mx\r
Content-Description: Undelivered Message Headers\r
Content-Type: text/rfc822-headers\r
\r
Return-Path: <ged@metropole.example.fr>\r
From: GED <ged@metropole.example.fr>\r
To: a.martin@btp.example\r
Subject: [Passerelle] Nouveautés dans chantier\r
Message-ID: <{ID}>\r
\r
--ABC/mx--\r
"
    )
}

#[test]
fn a_postfix_report_names_the_failed_message_address_and_reason() {
    let b = parse_report(postfix("failed").as_bytes()).expect("a bounce");
    assert_eq!(b.message_id.trim_matches(['<', '>']), ID);
    assert_eq!(b.recipient.as_deref(), Some("a.martin@btp.example"));
    assert_eq!(b.status, "5.1.1");
    let d = b.diagnostic.expect("diagnostic");
    assert!(
        d.contains("550 5.1.1") && d.contains("User unknown in virtual mailbox table"),
        "folded lines joined: {d}"
    );
}

#[test]
fn a_whole_returned_message_is_read_too() {
    let raw = format!(
        "From: postmaster@exchange.example\r
To: ged@metropole.example.fr\r
Subject: Undeliverable\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r
\r
--b1\r
Content-Type: text/plain\r
\r
Delivery has failed.\r
--b1\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns;exchange.example\r
\r
Final-Recipient: rfc822;paul@exchange.example\r
Action: failed\r
Status: 5.2.2\r
\r
--b1\r
Content-Type: message/rfc822\r
\r
From: ged@metropole.example.fr\r
To: paul@exchange.example\r
Subject: digest\r
Message-ID: <{ID}>\r
\r
Bonjour\r
--b1--\r
"
    );
    let b = parse_report(raw.as_bytes()).expect("a bounce");
    assert_eq!(b.message_id.trim_matches(['<', '>']), ID);
    assert_eq!(b.recipient.as_deref(), Some("paul@exchange.example"));
    assert_eq!((b.status.as_str(), b.diagnostic), ("5.2.2", None));
}

#[test]
fn what_is_no_failure_is_no_bounce() {
    assert_eq!(parse_report(postfix("delayed").as_bytes()), None);
    assert_eq!(parse_report(postfix("delivered").as_bytes()), None);
    let without_original = postfix("failed").replace(&format!("Message-ID: <{ID}>\r\n"), "");
    assert_eq!(parse_report(without_original.as_bytes()), None);
    let plain = "From: a@b.fr\r\nSubject: bonjour\r\n\r\nMessage-ID: <x@y>\r\nAction: failed\r\n";
    assert_eq!(parse_report(plain.as_bytes()), None);
    assert_eq!(parse_report(b""), None);
    assert_eq!(parse_report(&[0xff, 0xfe, 0x00, 0x01]), None);
}

#[tokio::test]
async fn the_maildir_hands_new_messages_over_once_and_keeps_them_in_cur() {
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("bounces");
    let b = MaildirBounces::open(&dir).expect("open");
    std::fs::write(dir.join("new/1765100000.1.mx"), postfix("failed")).expect("write");
    std::fs::write(
        dir.join("new/1765100001.2.mx"),
        "From: x@y\r\n\r\nhello\r\n",
    )
    .expect("write");
    // Larger than any report: set aside unread.
    std::fs::write(
        dir.join("new/1765100002.3.mx"),
        vec![b'a'; usize::try_from(MAX_REPORT_BYTES).expect("size") + 1],
    )
    .expect("write");
    let got = b.waiting(10).await.expect("waiting");
    let handles: Vec<&str> = got.iter().map(|r| r.handle.as_str()).collect();
    assert_eq!(
        handles,
        ["1765100000.1.mx", "1765100001.2.mx", "1765100002.3.mx"]
    );
    assert!(got[0].bounce.is_some());
    assert!(got[1].bounce.is_none() && got[2].bounce.is_none());
    assert_eq!(b.waiting(1).await.expect("limit").len(), 1);
    for r in &got {
        b.done(&r.handle).await.expect("done");
    }
    assert!(b.waiting(10).await.expect("again").is_empty());
    assert!(dir.join("cur/1765100000.1.mx:2,S").exists());
    // A handle is a name of new/, never a path.
    for bad in ["../cur/x", "/etc/passwd", ".hidden", "a:2,S"] {
        assert!(b.done(bad).await.is_err(), "{bad}");
    }
}
