//! Transfers cut by `kill -9` of the edge: a 200 MiB blob resumed from the
//! bytes the edge kept, and an un-share after a cut that came between the
//! blobs and their batch (issue 12) leaving no byte of the space behind.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use reqwest::Method;
use serde_json::Value;

use super::MIB;
use super::api::{accept_and_login, audit_log, invite, new_space, share, upload_internal};
use super::cluster::{self, Cluster, blob_files, eventually, eventually_within, plain};
use super::content::{find_file, generated_body, hash_file, hash_generated, unique};

/// Size of the large document of the first test.
const BIG: u64 = 200 * MIB;

pub(crate) async fn transfer_resumes_after_kill_9_of_the_edge(
    c: &mut Cluster,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let space = new_space(c, &http, "forage-profond").await?;

    // 200 MiB of generated content, streamed up (never held in memory).
    let seed = format!("maquette {}", unique());
    let expected = {
        let seed = seed.clone();
        tokio::task::spawn_blocking(move || hash_generated(&seed, BIG)).await?
    };
    let t = Instant::now();
    let doc = upload_internal(c, &http, &space, "maquette.ifc", generated_body(&seed, BIG)).await?;
    ensure!(
        doc["version"]["hash"] == expected.as_str(),
        "stored with another hash: {doc}"
    );
    let doc = doc["document"]["id"].as_str().context("doc id")?.to_owned();
    eprintln!("200 MiB uploaded to the internal node in {:?}", t.elapsed());

    share(c, &http, &space).await?;
    let secret = invite(c, &http, &space, "ines@geotech.fr", "reader").await?;

    // Cut the transfer once the edge holds more than 20 MiB of it.
    let t = Instant::now();
    let partial = c.edir.join("partial").join(&expected);
    let seen = eventually_within(
        "a partial blob over 20 MiB on the edge",
        Duration::from_secs(60),
        Duration::from_millis(5),
        || {
            let partial = partial.clone();
            async move {
                let len = std::fs::metadata(&partial)?.len();
                ensure!(len > 20 * MIB, "{len} bytes so far");
                Ok(len)
            }
        },
    )
    .await?;
    c.kill_edge()?;
    let kept = std::fs::metadata(&partial)
        .context("the partial blob did not survive kill -9")?
        .len();
    eprintln!(
        "edge killed {:?} after sharing, with {} MiB of {} MiB kept",
        t.elapsed(),
        kept / MIB,
        BIG / MIB
    );
    ensure!(kept >= seen, "the partial blob shrank: {kept} < {seen}");
    ensure!(
        kept < BIG,
        "the transfer was complete before the kill ({kept} bytes): nothing to resume"
    );
    ensure!(!blob_files(&c.edir).contains(&expected));

    // Same data dir, same ports: the internal node reconnects by itself.
    c.start_edge()?;
    let t = Instant::now();
    let ines = accept_and_login(c, &http, &space, &secret, "ines@geotech.fr").await?;
    let on_edge = eventually("the large document on the edge", || {
        let req = ines.req(Method::GET, &format!("/documents/{doc}"));
        async move {
            let r = req.send().await?;
            ensure!(r.status() == 200, "{}", r.status());
            Ok(r.json::<Value>().await?)
        }
    })
    .await?;
    eprintln!("transfer finished {:?} after the restart", t.elapsed());
    ensure!(
        on_edge["version"]["hash"] == expected.as_str(),
        "edge: {on_edge}"
    );
    ensure!(on_edge["version"]["size"] == BIG, "edge: {on_edge}");
    ensure!(!partial.exists(), "the partial blob was left behind");
    let stored = find_file(&c.edir.join("blobs"), &expected).context("the blob on the edge")?;
    let actual = tokio::task::spawn_blocking(move || hash_file(&stored)).await??;
    ensure!(actual == expected, "the edge stored other bytes");

    // The resume: every PushBlob after the restart started at or past what
    // the edge had kept (none started over from 0, none resent a prefix).
    let log = plain(&c.edge_log());
    let offsets: Vec<u64> = log
        .lines()
        .filter(|l| l.contains("blob transfer resumed") && l.contains(&expected))
        .map(|l| field(l, "offset").with_context(|| format!("no offset in {l:?}")))
        .collect::<anyhow::Result<_>>()?;
    ensure!(
        !offsets.is_empty(),
        "no resumed transfer in the edge's log:\n{log}"
    );
    // The first push after the restart starts exactly at what was kept (a
    // later cut, if any, resumes further on).
    ensure!(
        offsets.first() == Some(&kept) && offsets.iter().all(|o| *o >= kept),
        "resumed at {offsets:?}, not from the {kept} bytes the edge kept"
    );
    eprintln!("resumed at {offsets:?} (kept {kept})");
    Ok(())
}

/// Small documents of the space in the fourth test: pushed whole, quickly,
/// beside the large one that holds their batch back.
const SMALL: usize = 30;

/// Issue 12: blobs pushed whole before their batch was applied were named
/// by nothing on the edge, and an un-share purge left them in `blobs/`.
pub(crate) async fn unshare_after_a_cut_before_the_batch(c: &mut Cluster) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let space = new_space(c, &http, "carottage").await?;
    let seed = format!("relevé de sondage {}", unique());
    let mut smalls = Vec::new();
    for i in 0..SMALL {
        let text = format!("{seed} n°{i}");
        upload_internal(
            c,
            &http,
            &space,
            &format!("releve-{i}.txt"),
            text.clone().into(),
        )
        .await?;
        smalls.push((blake3::hash(text.as_bytes()).to_hex().to_string(), text));
    }
    let big_seed = format!("carotte {}", unique());
    let big = {
        let s = big_seed.clone();
        tokio::task::spawn_blocking(move || hash_generated(&s, BIG)).await?
    };
    upload_internal(
        c,
        &http,
        &space,
        "carotte.bin",
        generated_body(&big_seed, BIG),
    )
    .await?;
    share(c, &http, &space).await?;

    // The first batch names all 31 blobs: it is applied only once the large
    // one is whole. Cut when the small ones are stored and it is not.
    let partial = c.edir.join("partial").join(&big);
    eventually_within(
        "the small blobs whole on the edge, the large one begun",
        Duration::from_secs(60),
        Duration::from_millis(5),
        || {
            let (edir, partial, smalls) = (c.edir.clone(), partial.clone(), &smalls);
            async move {
                let stored = blob_files(&edir);
                let whole = smalls.iter().filter(|(h, _)| stored.contains(h)).count();
                ensure!(whole == SMALL, "{whole} small blobs so far");
                ensure!(partial.exists(), "the large one not begun");
                Ok(())
            }
        },
    )
    .await?;
    c.kill_edge()?;
    ensure!(
        !blob_files(&c.edir).contains(&big),
        "the large blob was whole before the kill: its batch may have been applied"
    );

    // Un-shared while the edge is down; the restarted edge's Hello names
    // the space (held since the blobs were asked) and the link purges it.
    let r = c
        .api(&http, Method::POST, &format!("/spaces/{space}/unshare"))
        .send()
        .await?;
    ensure!(r.status().is_success(), "unshare: {}", r.status());
    c.start_edge()?;
    let receipt = eventually("the purge receipt", || async {
        audit_log(c, &http)
            .await?
            .into_iter()
            .find(|e| e["action"] == "space.unshare" && e.to_string().contains(&space))
            .context("not yet")
    })
    .await?;
    eprintln!("purge receipt: {}", receipt["detail"]);

    let stored = blob_files(&c.edir);
    let left: Vec<_> = smalls
        .iter()
        .map(|(h, _)| h)
        .chain([&big])
        .filter(|h| stored.contains(h))
        .collect();
    ensure!(
        left.is_empty(),
        "blobs of the space still on the edge: {left:?}"
    );
    ensure!(!partial.exists(), "the partial blob is still on the edge");
    let scan = cluster::files_under(&c.edir);
    for (_, text) in &smalls {
        if let Some(file) = cluster::holds(&scan, text.as_bytes()) {
            bail!("{text:?} is still in {}", file.display());
        }
    }
    let edge_cli = |args: &[&str]| {
        let mut v = vec!["--data-dir", c.edir.to_str().unwrap_or_default()];
        v.extend_from_slice(args);
        cluster::run(Path::new(cluster::EDGE_BIN), &v)
    };
    let verify = edge_cli(&["blobs", "verify"])?;
    ensure!(verify.contains(", 0 stored,"), "{verify}");
    Ok(())
}

/// `name=value` in a log line.
fn field(line: &str, name: &str) -> Option<u64> {
    let key = format!(" {name}=");
    let start = line.find(&key)? + key.len();
    let digits: String = line[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}
