//! Notifications with both nodes as real processes and a real SMTP relay
//! (Debian's aiosmtpd on a loopback port): a contractor's upload on the
//! edge, once applied on the internal node, is an e-mail to the agent who
//! chose immediate notices, within a minute, in French, with a link to
//! the document on the internal node and no attachment; the relay
//! stopped, the next notice waits (shown to administrators as pending)
//! and arrives once, when the relay is back.

use std::time::Duration;

use anyhow::{Context, ensure};
use passerelle_testing::smtp;
use serde_json::{Value, json};

use super::cluster::{Cluster, eventually_within};

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
    let r = c
        .api(&http, reqwest::Method::POST, "/users")
        .json(&json!({
            "login": "m.durand",
            "display_name": "Marie Durand",
            "email": "m.durand@metropole.example.fr",
            "password": "Un mot de passe assez long",
        }))
        .send()
        .await?;
    ensure!(r.status().is_success(), "user: {}", r.status());
    let r = c
        .api(
            &http,
            reqwest::Method::PUT,
            &format!("/spaces/{space}/members/m.durand"),
        )
        .json(&json!({ "role": "collaborator" }))
        .send()
        .await?;
    ensure!(r.status().is_success(), "member: {}", r.status());
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
            let got = relay.messages()?;
            ensure!(!got.is_empty(), "nothing yet");
            Ok(got)
        },
    )
    .await?;
    ensure!(mails.len() == 1, "one notice: {mails:?}");
    let m = &mails[0];
    ensure!(m.rcpt == ["m.durand@metropole.example.fr"], "{m:?}");
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
            let v: Value = c
                .api(&http, reqwest::Method::GET, "/admin/notices?state=pending")
                .send()
                .await?
                .json()
                .await?;
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
            let got = relay.messages()?;
            ensure!(got.len() >= 2, "{} so far", got.len());
            Ok(got)
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(20)).await;
    let all = relay.messages()?;
    ensure!(all.len() == 2, "sent once: {}", all.len());
    ensure!(mails[1].text.contains("devis.pdf"), "{}", mails[1].text);
    ensure!(mails[0].message_id != mails[1].message_id, "two notices");
    Ok(())
}

/// Agents who hear of the space at once: `n` of them, made through the
/// API, members of `space` (its default set to immediate by its manager).
async fn agents(c: &Cluster, http: &reqwest::Client, space: &str, n: usize) -> anyhow::Result<()> {
    for i in 0..n {
        let login = format!("agent.{i:03}");
        let r = c
            .api(http, reqwest::Method::POST, "/users")
            .json(&json!({
                "login": login,
                "display_name": format!("Agent {i}"),
                "email": format!("{login}@metropole.example.fr"),
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
            .json(&json!({ "role": "reader" }))
            .send()
            .await?;
        ensure!(r.status().is_success(), "member {login}: {}", r.status());
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
