//! Notifications with both nodes as real processes and a real SMTP relay
//! (Debian's aiosmtpd on a loopback port): a contractor's upload on the
//! edge, once applied on the internal node, is an e-mail to the agent who
//! chose immediate notices, within a minute, in French, with a link to
//! the document on the internal node and no attachment; the relay
//! stopped, the next notice waits (shown to administrators as pending)
//! and arrives once, when the relay is back. A contractor's invitation is
//! mailed, and the link in the e-mail accepts it on the edge. A daily
//! digest goes once at its time of day, and not again after a kill -9.
use std::time::Duration;

use anyhow::{Context, ensure};
use passerelle_testing::smtp;
use serde_json::{Value, json};

use super::cluster::{CONTRACTOR_PASSWORD, Cluster, eventually_within};

const AGENT: &str = "m.durand@metropole.example.fr";

/// What the relay received for `address`, in order.
fn to(relay: &smtp::Smtp, address: &str) -> anyhow::Result<Vec<smtp::Received>> {
    Ok(relay
        .messages()?
        .into_iter()
        .filter(|m| m.rcpt.iter().any(|r| r == address))
        .collect())
}

/// The internal node's `[mail]` section for `relay`, and its
/// `[notifications]` one with `extra` lines.
fn mail_sections(relay: &smtp::Smtp, extra: &str) -> String {
    format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"GED Métropole <ged@metropole.example.fr>\"\ntimeout_secs = 5\n\n[notifications]\npublic_url = \"https://ged.metropole.example.fr\"\n{extra}",
        relay.port
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contractors_upload_is_mailed_to_the_agent_who_follows_the_space() -> anyhow::Result<()> {
    let Some(mut relay) = smtp::start()? else {
        return Ok(());
    };
    let c = Cluster::start_internal_with(&format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"GED Métropole <ged@metropole.example.fr>\"\ntimeout_secs = 5\n\n[notifications]\npublic_url = \"https://ged.metropole.example.fr\"\n",
        relay.port
    ))
    .await?;
    let http = reqwest::Client::new();
    let space = c.space(&http, "chantier").await?;

    // An agent who wants to know at once.
    agent_in(&c, &http, &space, "m.durand", AGENT, "collaborator").await?;
    let token = c
        .internal_cli(&[
            "token", "create", "--login", "m.durand", "--name", "notices",
        ])?
        .lines()
        .find(|l| l.starts_with("psr_"))
        .context("token")?
        .to_owned();
    let r = http
        .put(format!("{}/spaces/{space}/subscription", c.base))
        .bearer_auth(&token)
        .json(&json!({ "frequency": "immediate" }))
        .send()
        .await?;
    ensure!(r.status().is_success(), "subscribe: {}", r.status());

    let jean = c
        .contractor(&http, &space, "jean@btp.example", "collaborator")
        .await?;
    let upload = |name: &'static str| {
        jean.req(
            &http,
            reqwest::Method::POST,
            &format!("/spaces/{space}/documents"),
        )
        .query(&[("name", name)])
        .body(b"plans revus".to_vec())
        .send()
    };
    ensure!(upload("plans-revus.pdf").await?.status() == 202, "upload");

    // Within a minute of being applied (the worker runs every 15 s).
    let mails = eventually_within(
        "the notice",
        Duration::from_secs(90),
        Duration::from_millis(500),
        || async {
            let got = to(&relay, AGENT)?;
            ensure!(!got.is_empty(), "nothing yet");
            Ok(got)
        },
    )
    .await?;
    ensure!(mails.len() == 1, "one notice: {mails:?}");
    let m = &mails[0];
    ensure!(m.rcpt == [AGENT], "{m:?}");
    ensure!(
        m.subject == "[Passerelle] Nouveautés dans chantier",
        "{m:?}"
    );
    ensure!(m.text.contains("a déposé plans-revus.pdf"), "{}", m.text);
    ensure!(
        m.text
            .contains("https://ged.metropole.example.fr/documents/"),
        "a link to the internal node: {}",
        m.text
    );
    ensure!(m.attachments == 0, "never the file");
    ensure!(
        m.list_unsubscribe
            .as_deref()
            .is_some_and(|u| u.starts_with("<https://ged.metropole.example.fr/unsubscribe/")),
        "{m:?}"
    );
    ensure!(
        m.message_id.ends_with("@ged.metropole.example.fr>"),
        "{m:?}"
    );

    // The relay down: the next notice waits, visible to administrators…
    relay.stop();
    ensure!(upload("devis.pdf").await?.status() == 202, "upload");
    eventually_within(
        "a pending notice with the relay's error",
        Duration::from_secs(90),
        Duration::from_millis(500),
        || async {
            let v = admin_notices(&c, &http, "pending").await?;
            let first = &v["items"][0];
            ensure!(first["attempts"].as_u64().is_some_and(|a| a >= 1), "{v}");
            ensure!(first["last_error"].is_string(), "{v}");
            Ok(())
        },
    )
    .await?;
    // …and arrives once when it is back (the first retry is 30 s later).
    relay.start_again()?;
    let mails = eventually_within(
        "the delayed notice",
        Duration::from_secs(120),
        Duration::from_millis(500),
        || async {
            let got = to(&relay, AGENT)?;
            ensure!(got.len() >= 2, "{} so far", got.len());
            Ok(got)
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(20)).await;
    let all = to(&relay, AGENT)?;
    ensure!(all.len() == 2, "sent once: {}", all.len());
    ensure!(mails[1].text.contains("devis.pdf"), "{}", mails[1].text);
    ensure!(mails[0].message_id != mails[1].message_id, "two notices");
    Ok(())
}

/// The internal node's notices in `state`, as its administrators list them.
async fn admin_notices(c: &Cluster, http: &reqwest::Client, state: &str) -> anyhow::Result<Value> {
    let r = c
        .api(http, reqwest::Method::GET, "/admin/notices")
        .query(&[("state", state)])
        .send()
        .await?;
    ensure!(r.status() == 200, "admin notices: {}", r.status());
    Ok(r.json().await?)
}

/// An agent `login` (no password: tests act as them with tokens), made
/// through the API, member of `space` with `role`.
async fn agent_in(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
    login: &str,
    email: &str,
    role: &str,
) -> anyhow::Result<()> {
    let r = c
        .api(http, reqwest::Method::POST, "/users")
        .json(&json!({
            "login": login,
            "display_name": format!("Agent {login}"),
            "email": email,
        }))
        .send()
        .await?;
    ensure!(r.status().is_success(), "user {login}: {}", r.status());
    let r = c
        .api(
            http,
            reqwest::Method::PUT,
            &format!("/spaces/{space}/members/{login}"),
        )
        .json(&json!({ "role": role }))
        .send()
        .await?;
    ensure!(r.status().is_success(), "member {login}: {}", r.status());
    Ok(())
}

/// Agents who hear of the space at once: `n` of them, made through the
/// API, members of `space` (its default set to immediate by its manager).
async fn agents(c: &Cluster, http: &reqwest::Client, space: &str, n: usize) -> anyhow::Result<()> {
    for i in 0..n {
        let login = format!("agent.{i:03}");
        let email = format!("{login}@metropole.example.fr");
        agent_in(c, http, space, &login, &email, "reader").await?;
    }
    let r = c
        .api(
            http,
            reqwest::Method::PUT,
            &format!("/spaces/{space}/subscription/default"),
        )
        .json(&json!({ "frequency": "immediate" }))
        .send()
        .await?;
    ensure!(r.status().is_success(), "default: {}", r.status());
    Ok(())
}

/// kill -9 of the internal node while it hands notices to the relay (a
/// batch of 50 every 15 s: 120 notices take three runs), then a restart:
/// every notice arrives, and none twice but, at most, the one the relay
/// had accepted when the node died, which carries the same `Message-ID`
/// (mail readers fold it into one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_while_sending_loses_no_notice_and_repeats_none() -> anyhow::Result<()> {
    const PEOPLE: usize = 120;
    let Some(relay) = smtp::start()? else {
        return Ok(());
    };
    let mut c = Cluster::start_internal_with(&format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"ged@metropole.example.fr\"\ntimeout_secs = 5\n",
        relay.port
    ))
    .await?;
    let http = reqwest::Client::new();
    let space = c.space(&http, "consultation").await?;
    agents(&c, &http, &space, PEOPLE).await?;
    let r = c
        .api(
            &http,
            reqwest::Method::POST,
            &format!("/spaces/{space}/documents"),
        )
        .query(&[("name", "DCE.pdf")])
        .body(b"dossier de consultation".to_vec())
        .send()
        .await?;
    ensure!(r.status().is_success(), "upload: {}", r.status());

    // Killed once some, not all, were sent.
    eventually_within(
        "the first notices",
        Duration::from_secs(60),
        Duration::from_millis(20),
        || async {
            let n = relay.messages()?.len();
            ensure!(n > 0, "none yet");
            Ok(())
        },
    )
    .await?;
    c.kill_internal()?;
    let before = relay.messages()?.len();
    ensure!(
        before < PEOPLE,
        "all {before} were sent before the kill: nothing tested"
    );
    c.start_internal()?;

    let all = eventually_within(
        "every notice",
        Duration::from_secs(120),
        Duration::from_millis(500),
        || async {
            let got = relay.messages()?;
            ensure!(got.len() >= PEOPLE, "{} of {PEOPLE}", got.len());
            Ok(got)
        },
    )
    .await?;
    // One more run, to see that nothing else comes.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let all_now = relay.messages()?;
    let mut ids: Vec<&str> = all_now.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ensure!(
        ids.len() == PEOPLE,
        "{} distinct notices for {PEOPLE} people",
        ids.len()
    );
    ensure!(
        all_now.len() <= PEOPLE + 1,
        "{} messages: more than the one in flight at the kill sent twice",
        all_now.len()
    );
    let mut to: Vec<&str> = all
        .iter()
        .flat_map(|m| m.rcpt.iter().map(String::as_str))
        .collect();
    to.sort_unstable();
    to.dedup();
    ensure!(to.len() == PEOPLE, "every agent told: {}", to.len());
    Ok(())
}

/// A manager invites a contractor with a relay set: the invitation is
/// mailed from the internal node (the only one that knows its secret),
/// and the link the contractor reads in the e-mail accepts it on the
/// edge (core's tests show the outbox forgetting the link once sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_is_mailed_and_its_link_accepts_it_on_the_edge() -> anyhow::Result<()> {
    let Some(relay) = smtp::start()? else {
        return Ok(());
    };
    let c = Cluster::start_internal_with(&mail_sections(&relay, "")).await?;
    let http = reqwest::Client::new();
    let space = c.space(&http, "chantier").await?;
    let r = c
        .api(
            &http,
            reqwest::Method::POST,
            &format!("/spaces/{space}/share"),
        )
        .json(&json!({"edge": "edge-1"}))
        .send()
        .await?;
    ensure!(r.status().is_success(), "share: {}", r.status());
    let inv: Value = c
        .api(
            &http,
            reqwest::Method::POST,
            &format!("/spaces/{space}/contractors"),
        )
        .json(&json!({"email": "Lea@Archi.example", "display_name": "Léa Martin", "organisation": "Archi & Co", "role": "collaborator"}))
        .send()
        .await?
        .json()
        .await?;
    ensure!(inv["mailed"] == json!(true), "{inv}");

    let mails = eventually_within(
        "the invitation e-mail",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || async {
            let got = to(&relay, "lea@archi.example")?;
            ensure!(!got.is_empty(), "nothing yet");
            Ok(got)
        },
    )
    .await?;
    let m = &mails[0];
    ensure!(
        m.subject.contains("vous invite dans l'espace chantier"),
        "{m:?}"
    );
    // The edge's public address (its pages), as the internal node knows it.
    let link = format!("{}/invitation#", c.edge_http.trim_end_matches('/'));
    let secret = m
        .text
        .split(&link)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .with_context(|| format!("a link to the edge in {}", m.text))?
        .to_owned();
    ensure!(m.html.contains(&link), "{}", m.html);
    ensure!(m.attachments == 0, "{m:?}");

    // The contractor follows the link: accepted on the edge.
    eventually_within(
        "the invitation on the edge",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || async {
            let r = http
                .post(format!("{}/invitations/accept", c.ebase))
                .json(&json!({"secret": secret, "password": CONTRACTOR_PASSWORD}))
                .send()
                .await?;
            ensure!(r.status() == 200, "accept: {}", r.status());
            Ok(())
        },
    )
    .await?;

    // The outbox keeps the record.
    let v = admin_notices(&c, &http, "sent").await?;
    ensure!(
        v["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|n| n["kind"] == "invitation")),
        "{v}"
    );
    ensure!(to(&relay, "lea@archi.example")?.len() == 1, "sent once");
    Ok(())
}

/// A daily digest at its time of day (set a minute ahead for the test):
/// the agent who chose nothing (the daily default) gets one e-mail with
/// the day's document, once; a kill -9 and a restart send nothing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_digest_goes_once_at_its_time_even_across_a_kill() -> anyhow::Result<()> {
    let Some(relay) = smtp::start()? else {
        return Ok(());
    };
    let due = time::OffsetDateTime::now_utc() + time::Duration::seconds(60);
    let at = format!("{:02}:{:02}:{:02}", due.hour(), due.minute(), due.second());
    let mut c =
        Cluster::start_internal_with(&mail_sections(&relay, &format!("digest_time = \"{at}\"\n")))
            .await?;
    let http = reqwest::Client::new();
    let space = c.space(&http, "chantier").await?;
    agent_in(&c, &http, &space, "m.durand", AGENT, "reader").await?;
    let r = c
        .api(
            &http,
            reqwest::Method::POST,
            &format!("/spaces/{space}/documents"),
        )
        .query(&[("name", "compte-rendu.odt")])
        .body(b"compte rendu de chantier".to_vec())
        .send()
        .await?;
    ensure!(r.status().is_success(), "upload: {}", r.status());
    ensure!(
        time::OffsetDateTime::now_utc() < due,
        "the setup took longer than a minute: the upload is after the digest's time"
    );
    ensure!(to(&relay, AGENT)?.is_empty(), "nothing before its time");

    let mails = eventually_within(
        "the daily digest",
        Duration::from_secs(120),
        Duration::from_millis(500),
        || async {
            let got = to(&relay, AGENT)?;
            ensure!(!got.is_empty(), "nothing yet");
            Ok(got)
        },
    )
    .await?;
    let m = &mails[0];
    ensure!(
        m.subject == "[Passerelle] Résumé du jour : chantier",
        "{m:?}"
    );
    ensure!(m.text.contains("compte-rendu.odt"), "{}", m.text);

    c.kill_internal()?;
    c.start_internal()?;
    // Two worker runs after the restart.
    tokio::time::sleep(Duration::from_secs(35)).await;
    ensure!(
        to(&relay, AGENT)?.len() == 1,
        "once: {:?}",
        to(&relay, AGENT)?
    );
    Ok(())
}

/// A notice the relay accepted, then bounced by the recipient's server:
/// the MTA delivers the report to the node's bounce Maildir, and the
/// running node marks the notice refused with the server's words, for
/// administrators; the report is moved to `cur/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounce_delivered_to_the_maildir_marks_the_notice_refused() -> anyhow::Result<()> {
    let Some(relay) = smtp::start()? else {
        return Ok(());
    };
    let mailbox = tempfile::tempdir()?;
    let maildir = mailbox.path().join("Maildir");
    let c = Cluster::start_internal_with(&format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"ged@metropole.example.fr\"\ntimeout_secs = 5\nbounce_maildir = \"{}\"\n",
        relay.port,
        maildir.display()
    ))
    .await?;
    let http = reqwest::Client::new();
    let space = c.space(&http, "consultation").await?;
    agents(&c, &http, &space, 1).await?;
    let r = c
        .api(
            &http,
            reqwest::Method::POST,
            &format!("/spaces/{space}/documents"),
        )
        .query(&[("name", "DCE.pdf")])
        .body(b"dossier de consultation".to_vec())
        .send()
        .await?;
    ensure!(r.status().is_success(), "upload: {}", r.status());
    let sent = relay.wait_for(1, Duration::from_secs(60))?;
    ensure!(!sent.is_empty(), "the notice was not sent");
    let to = sent[0].rcpt[0].clone();
    let message_id = sent[0].message_id.clone();

    // The recipient's server said "unknown user" after the relay took it;
    // the relay's report arrives as an MTA delivers: tmp/, then new/.
    let report = format!(
        "From: MAILER-DAEMON@mx.metropole.example.fr\r\nTo: ged@metropole.example.fr\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.metropole.example.fr\r\n\r\nFinal-Recipient: rfc822; {to}\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <{to}>: User unknown\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: ged@metropole.example.fr\r\nTo: {to}\r\nMessage-ID: {message_id}\r\n\r\n--b--\r\n"
    );
    std::fs::write(maildir.join("tmp/1765100000.M1.mx"), report)?;
    std::fs::rename(
        maildir.join("tmp/1765100000.M1.mx"),
        maildir.join("new/1765100000.M1.mx"),
    )?;

    eventually_within(
        "the bounce recorded",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || async {
            let v = admin_notices(&c, &http, "refused").await?;
            let first = &v["items"][0];
            ensure!(first["address"] == json!(to), "{v}");
            ensure!(
                first["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("5.1.1") && e.contains("User unknown")),
                "{v}"
            );
            Ok(())
        },
    )
    .await?;
    ensure!(
        maildir.join("cur/1765100000.M1.mx:2,S").exists(),
        "set aside"
    );
    ensure!(
        std::fs::read_dir(maildir.join("new"))?.next().is_none(),
        "nothing left to read"
    );
    Ok(())
}
