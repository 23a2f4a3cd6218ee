//! The Passerelle side: timed shares of the generated files from the
//! internal node to the edge, each checked on the edge afterwards, and the
//! contractor's uploads timed back to the internal node.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

use super::cluster::Cluster;
use super::data::{small, small_name, upload_content};
use super::measures::{clock_ticks, cpu_time, disk_writes};
use super::processes::sync_all;
use super::support::{self, CONTRACTOR, CONTRACTOR_PASSWORD, dir_bytes, loadavg, wait_for};
use super::{MIB, SMALL_COUNT, UPLOADS};

/// A contractor's session on the edge.
struct Contractor {
    cookie: String,
    csrf: String,
}

struct Bench<'a> {
    c: &'a Cluster,
    http: reqwest::Client,
    edge_pid: u32,
    internal_pid: u32,
    ticks: f64,
}

/// What one timed share measured.
pub(crate) struct ShareRun {
    pub(crate) elapsed: Duration,
    pub(crate) blob_bytes_added: u64,
    pub(crate) edge_disk_writes: u64,
    pub(crate) partial_left: u64,
    pub(crate) edge_cpu: Duration,
    pub(crate) internal_cpu: Duration,
    /// One big blob only: when the poller first saw it whole in `partial/`,
    /// and whole in `blobs/` (20 ms resolution).
    pub(crate) big_received: Option<Duration>,
    pub(crate) big_committed: Option<Duration>,
}

impl Bench<'_> {
    fn api(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.c.api(&self.http, m, path)
    }

    fn edge(&self, who: &Contractor, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(m, format!("{}{path}", self.c.ebase))
            .header("Cookie", &who.cookie)
            .header("X-CSRF-Token", &who.csrf)
    }

    async fn create_space(&self, slug: &str) -> anyhow::Result<String> {
        support::create_space(self.c, &self.http, slug).await
    }

    async fn upload(&self, space: &str, name: &str, body: reqwest::Body) -> anyhow::Result<()> {
        let r = self
            .api(reqwest::Method::POST, &format!("/spaces/{space}/documents"))
            .query(&[("name", name)])
            .body(body)
            .send()
            .await?;
        ensure!(r.status() == 201, "upload {name}: {}", r.status());
        Ok(())
    }

    async fn upload_small_set(&self, space: &str, dir: &Path) -> anyhow::Result<()> {
        for i in 0..SMALL_COUNT {
            let name = small_name(i);
            let bytes = tokio::fs::read(dir.join(&name)).await?;
            self.upload(space, &name, bytes.into()).await?;
        }
        Ok(())
    }

    async fn upload_big(&self, space: &str, file: &Path) -> anyhow::Result<()> {
        let f = tokio::fs::File::open(file).await?;
        let len = f.metadata().await?.len();
        let stream = tokio_util::io::ReaderStream::with_capacity(f, MIB as usize);
        let r = self
            .api(reqwest::Method::POST, &format!("/spaces/{space}/documents"))
            .query(&[("name", "big.bin")])
            .header("Content-Length", len.to_string())
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await?;
        ensure!(r.status() == 201, "big upload: {}", r.status());
        Ok(())
    }

    async fn share(&self, space: &str) -> anyhow::Result<()> {
        let r = self
            .api(reqwest::Method::POST, &format!("/spaces/{space}/share"))
            .json(&json!({"edge": "edge-1"}))
            .send()
            .await?;
        ensure!(
            r.status().is_success(),
            "share: {} {}",
            r.status(),
            r.text().await?
        );
        Ok(())
    }

    /// Invites the bench's contractor; returns the invitation's secret.
    async fn invite(&self, space: &str) -> anyhow::Result<String> {
        let r = self
            .api(reqwest::Method::POST, &format!("/spaces/{space}/contractors"))
            .json(&json!({"email": CONTRACTOR, "display_name": "Prestataire Bench", "organisation": "Bench SARL", "role": "collaborator"}))
            .send()
            .await?;
        ensure!(
            r.status() == 201,
            "invite: {} {}",
            r.status(),
            r.text().await?
        );
        let v: Value = r.json().await?;
        let url = v["invitation_url"].as_str().context("invitation url")?;
        Ok(url
            .split('#')
            .nth(1)
            .context("secret in the link")?
            .to_owned())
    }

    async fn replication(&self, space: &str) -> anyhow::Result<Value> {
        support::replication(self.c, &self.http, space).await
    }

    async fn wait_caught_up(&self, space: &str, timeout: Duration) -> anyhow::Result<()> {
        wait_for(
            "the edge to acknowledge the space",
            timeout,
            Duration::from_millis(50),
            || async {
                let v = self.replication(space).await?;
                if let Some(e) = v["last_error"].as_str() {
                    bail!("replication error: {e}");
                }
                Ok((v["lag_revisions"] == 0).then_some(()))
            },
        )
        .await
    }

    /// Warm-up space: shared, contractor invited, invitation accepted, logged
    /// in (the link is up and idle after this).
    async fn contractor(&self, space: &str) -> anyhow::Result<Contractor> {
        self.share(space).await?;
        let secret = self.invite(space).await?;
        self.wait_caught_up(space, Duration::from_secs(60)).await?;
        let ebase = &self.c.ebase;
        let r = self
            .http
            .post(format!("{ebase}/invitations/accept"))
            .json(&json!({"secret": secret, "password": CONTRACTOR_PASSWORD}))
            .send()
            .await?;
        ensure!(
            r.status() == 200,
            "accept: {} {}",
            r.status(),
            r.text().await?
        );
        // The edge requires a second factor: this first login enrols.
        let s = passerelle_testing::edge_login::edge_login(
            &self.http,
            ebase,
            CONTRACTOR,
            CONTRACTOR_PASSWORD,
            &passerelle_testing::edge_login::Factor::default(),
        )
        .await?;
        Ok(Contractor {
            cookie: s.cookie,
            csrf: s.csrf,
        })
    }

    /// Documents of the space the contractor sees on the edge (`None`: the
    /// space is not visible to them yet).
    async fn edge_total(&self, who: &Contractor, space: &str) -> anyhow::Result<Option<u64>> {
        let r = self
            .edge(
                who,
                reqwest::Method::GET,
                &format!("/spaces/{space}/children"),
            )
            .query(&[("limit", "1")])
            .send()
            .await?;
        if !r.status().is_success() {
            return Ok(None);
        }
        let v: Value = r.json().await?;
        Ok(v["documents"]["total"].as_u64())
    }

    /// The timed window: share → invite → the contractor lists `count`
    /// documents on the edge.
    /// `big`: the hash and size of the one blob of the space, to time its
    /// two steps on the edge (`partial/`, then the blob store).
    async fn timed_share(
        &self,
        who: &Contractor,
        space: &str,
        count: u64,
        big: Option<(&str, u64)>,
        timeout: Duration,
    ) -> anyhow::Result<ShareRun> {
        let blobs_before = dir_bytes(&self.c.edir.join("blobs"));
        let writes_before = disk_writes(self.edge_pid)?;
        let cpu_before = (
            cpu_time(self.edge_pid, self.ticks)?,
            cpu_time(self.internal_pid, self.ticks)?,
        );
        let received = std::cell::Cell::new(None);
        let committed = std::cell::Cell::new(None);
        let t = Instant::now();
        self.share(space).await?;
        self.invite(space).await?;
        wait_for(
            "every document on the edge",
            timeout,
            Duration::from_millis(20),
            || async {
                if let Some((hash, size)) = big {
                    let len = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).ok();
                    let partial = self.c.edir.join("partial").join(hash);
                    if received.get().is_none() && len(partial) == Some(size) {
                        received.set(Some(t.elapsed()));
                    }
                    let blob = self.c.edir.join("blobs").join(&hash[..2]).join(hash);
                    if committed.get().is_none() && len(blob) == Some(size) {
                        committed.set(Some(t.elapsed()));
                    }
                }
                Ok(self
                    .edge_total(who, space)
                    .await?
                    .filter(|n| *n == count)
                    .map(|_| ()))
            },
        )
        .await?;
        let elapsed = t.elapsed();
        let run = ShareRun {
            elapsed,
            blob_bytes_added: dir_bytes(&self.c.edir.join("blobs")).saturating_sub(blobs_before),
            edge_disk_writes: disk_writes(self.edge_pid)?.saturating_sub(writes_before),
            partial_left: dir_bytes(&self.c.edir.join("partial")),
            edge_cpu: cpu_time(self.edge_pid, self.ticks)?.saturating_sub(cpu_before.0),
            internal_cpu: cpu_time(self.internal_pid, self.ticks)?.saturating_sub(cpu_before.1),
            big_received: received.get(),
            big_committed: committed.get(),
        };
        self.wait_caught_up(space, Duration::from_secs(60)).await?;
        Ok(run)
    }

    /// Every document of the space on the edge, as the contractor sees it:
    /// name → (id, version hash), then its content re-hashed.
    async fn verify_on_edge(
        &self,
        who: &Contractor,
        space: &str,
        expected: &[(String, String)],
    ) -> anyhow::Result<()> {
        let mut seen = Vec::new();
        let mut offset = 0u64;
        loop {
            let r = self
                .edge(
                    who,
                    reqwest::Method::GET,
                    &format!("/spaces/{space}/children"),
                )
                .query(&[("limit", "500".to_owned()), ("offset", offset.to_string())])
                .send()
                .await?;
            ensure!(r.status() == 200, "edge listing: {}", r.status());
            let v: Value = r.json().await?;
            let items = v["documents"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if items.is_empty() {
                break;
            }
            offset += items.len() as u64;
            for d in items {
                seen.push((
                    d["name"].as_str().context("name")?.to_owned(),
                    d["id"].as_str().context("id")?.to_owned(),
                ));
            }
        }
        ensure!(
            seen.len() == expected.len(),
            "{} documents on the edge, {} expected",
            seen.len(),
            expected.len()
        );
        for (name, hash) in expected {
            let id = &seen
                .iter()
                .find(|(n, _)| n == name)
                .with_context(|| format!("{name} missing on the edge"))?
                .1;
            let r = self
                .edge(who, reqwest::Method::GET, &format!("/documents/{id}"))
                .send()
                .await?;
            ensure!(r.status() == 200, "edge document {name}: {}", r.status());
            let v: Value = r.json().await?;
            ensure!(
                v["version"]["hash"].as_str() == Some(hash.as_str()),
                "{name}: hash {} on the edge, {hash} expected",
                v["version"]["hash"]
            );
            let mut r = self
                .edge(
                    who,
                    reqwest::Method::GET,
                    &format!("/documents/{id}/content"),
                )
                .send()
                .await?;
            ensure!(r.status() == 200, "edge content {name}: {}", r.status());
            let mut h = blake3::Hasher::new();
            while let Some(c) = r.chunk().await? {
                h.update(&c);
            }
            ensure!(
                h.finalize().to_hex().as_str() == hash,
                "{name}: the content served by the edge does not match its hash"
            );
        }
        Ok(())
    }

    /// Uploads as the contractor on the edge, then polls the internal node
    /// until the document is listed there. Returns each latency.
    async fn upload_latencies(
        &self,
        who: &Contractor,
        space: &str,
    ) -> anyhow::Result<Vec<Duration>> {
        let mut out = Vec::with_capacity(UPLOADS);
        for i in 0..UPLOADS {
            let name = format!("prestataire-{i:03}.txt");
            let t = Instant::now();
            let r = self
                .edge(
                    who,
                    reqwest::Method::POST,
                    &format!("/spaces/{space}/documents"),
                )
                .query(&[("name", name.as_str())])
                .body(upload_content(i))
                .send()
                .await?;
            ensure!(r.status() == 202, "edge upload {name}: {}", r.status());
            wait_for(
                "the contractor's upload on the internal node",
                Duration::from_secs(30),
                Duration::from_millis(10),
                || async {
                    let r = self
                        .api(reqwest::Method::GET, &format!("/spaces/{space}/children"))
                        .query(&[("limit", "500")])
                        .send()
                        .await?;
                    ensure!(r.status() == 200, "internal listing: {}", r.status());
                    let v: Value = r.json().await?;
                    let found = v["documents"]["items"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|d| d["name"] == name.as_str()));
                    Ok(found.then_some(()))
                },
            )
            .await?;
            out.push(t.elapsed());
        }
        Ok(out)
    }
}

/// What the Passerelle side measured.
pub(crate) struct PasserelleFigures {
    pub(crate) small: ShareRun,
    pub(crate) big: ShareRun,
    pub(crate) dedup: ShareRun,
    pub(crate) latencies: Vec<Duration>,
}

pub(crate) async fn passerelle(
    c: &Cluster,
    small_dir: &Path,
    big_file: &Path,
    big_hash: &str,
    log_dir: &Path,
) -> anyhow::Result<PasserelleFigures> {
    let edge_pid = c.edge.as_ref().context("edge process")?.child.id();
    let internal_pid = c.node.as_ref().context("internal process")?.child.id();
    let b = Bench {
        c,
        http: reqwest::Client::new(),
        edge_pid,
        internal_pid,
        ticks: clock_ticks(),
    };
    let small_expected: Vec<(String, String)> = (0..SMALL_COUNT)
        .map(|i| (small_name(i), blake3::hash(&small(i)).to_hex().to_string()))
        .collect();

    // Warm-up: the contractor and the uploads space.
    let uploads = b.create_space("televersements").await?;
    let who = b.contractor(&uploads).await?;

    // (a) 1000 × 64 KiB.
    let space_a = b.create_space("petits-fichiers").await?;
    b.upload_small_set(&space_a, small_dir).await?;
    sync_all(log_dir)?;
    println!("sharing 1000 × 64 KiB… (load {})", loadavg());
    let small_run = b
        .timed_share(
            &who,
            &space_a,
            SMALL_COUNT as u64,
            None,
            Duration::from_secs(600),
        )
        .await?;
    b.verify_on_edge(&who, &space_a, &small_expected).await?;

    // (b) one big file.
    let space_b = b.create_space("gros-fichier").await?;
    b.upload_big(&space_b, big_file).await?;
    sync_all(log_dir)?;
    println!("sharing the big file… (load {})", loadavg());
    let big_size = std::fs::metadata(big_file)?.len();
    let big_run = b
        .timed_share(
            &who,
            &space_b,
            1,
            Some((big_hash, big_size)),
            Duration::from_secs(1200),
        )
        .await?;
    b.verify_on_edge(
        &who,
        &space_b,
        &[("big.bin".to_owned(), big_hash.to_owned())],
    )
    .await?;

    // Dedup: the same bytes as (a) in another space.
    let space_c = b.create_space("memes-octets").await?;
    b.upload_small_set(&space_c, small_dir).await?;
    sync_all(log_dir)?;
    println!(
        "sharing a space with the same 1000 contents… (load {})",
        loadavg()
    );
    let dedup_run = b
        .timed_share(
            &who,
            &space_c,
            SMALL_COUNT as u64,
            None,
            Duration::from_secs(600),
        )
        .await?;
    b.verify_on_edge(&who, &space_c, &small_expected).await?;

    // Contractor uploads coming back.
    sync_all(log_dir)?;
    println!("100 contractor uploads… (load {})", loadavg());
    let mut latencies = b.upload_latencies(&who, &uploads).await?;
    latencies.sort();
    Ok(PasserelleFigures {
        small: small_run,
        big: big_run,
        dedup: dedup_run,
        latencies,
    })
}
