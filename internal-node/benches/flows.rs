//! Hot folders vs the REST API, side by side in one run (issue 16): the
//! same PES files filed from a `[[drops]]` folder of kind `pes` and
//! uploaded through `POST /api/v1/spaces/{id}/documents`, by the real
//! `passerelle-internal` binary; target: the hot folder at ≥ 80 % of REST.
//!
//! `cargo bench -p passerelle-internal --bench flows`
//! (`PASSERELLE_BENCH_FLOWS=500` small flows, `PASSERELLE_BENCH_BIG_MIB=300`
//! for the big one: the defaults; `PASSERELLE_BENCH_KEEP=1` keeps
//! `internal-node/target/bench-flows` to profile a path by hand).
//!
//! Rows: N small PES (2 bordereaux, 1 attachment of 20 KiB, each file's
//! bytes and each attachment's its own), then one PES of about
//! `BIG_MIB` MiB (one generated attachment, streamed to disk, never held in
//! memory). Every measurement runs on a fresh data directory and a fresh
//! node process, so that no path finds the other's blobs already stored
//! (content addressing would make the second one free) and VmHWM is that
//! path's own. The hot folder turns a flow into 1 + bordereaux +
//! attachments documents (parsed, typed metadata, ledger row, receipt),
//! REST into one untyped document: both files/s and documents/s are shown.

#[path = "support/node.rs"]
mod support;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use futures::{StreamExt, TryStreamExt};
use passerelle_testing::drops::filed;
use passerelle_testing::eventually_within;
use passerelle_testing::pes::{
    PesAttachment, PesBordereau, PesBuilder, PesContent, generated_byte,
};

use support::{Server, cli, first_space, peak_rss_kib, prepare, start, start_with};

const MIB: u64 = 1024 * 1024;
const SMALL_ATTACHMENT: u64 = 20 * 1024;
const SPACE: &str = "finances";
/// How many REST uploads are in flight at once in the parallel row, as
/// the webdav bench's curl rows.
const PARALLEL: usize = 4;

/// Small flow `i`: its bordereau numbers make its bytes (and its hash, the
/// ledger's key) its own.
fn small_flow(i: usize) -> PesBuilder {
    PesBuilder {
        bordereaux: (0..2)
            .map(|b| PesBordereau {
                depense: b == 0,
                numero: format!("{i}{b:02}"),
                exercice: 2026,
                pieces: vec!["1200.50", "99.50"],
                declared: None,
            })
            .collect(),
        attachments: vec![PesAttachment {
            name: format!("facture {i}.pdf"),
            media_type: "application/pdf".into(),
            content: PesContent::Bytes(small_attachment(i)),
        }],
        ..PesBuilder::default()
    }
}

/// Attachment `i`'s bytes, its own: the same bytes in every flow would be
/// stored once (content addressing) and flatter the hot folder.
fn small_attachment(i: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..SMALL_ATTACHMENT)
        .map(|j| generated_byte(j + i as u64 * SMALL_ATTACHMENT))
        .collect();
    v[..8].copy_from_slice(&(i as u64).to_le_bytes());
    v
}

/// One flow of about `mib` MiB on disk: base64 in lines of 76 characters
/// plus CRLF makes 78 bytes of every 57, so the attachment is 57/78 of it.
fn big_flow(mib: u64) -> PesBuilder {
    PesBuilder {
        attachments: vec![PesAttachment {
            name: "marché travaux — DCE complet.pdf".into(),
            media_type: "application/pdf".into(),
            content: PesContent::Generated {
                len: mib * MIB / 78 * 57,
            },
        }],
        ..PesBuilder::default()
    }
}

/// Writes `flow` to `path` through a buffer: a big one is never in memory.
fn write_flow(flow: &PesBuilder, path: &Path) -> anyhow::Result<u64> {
    let mut out = BufWriter::with_capacity(MIB as usize, std::fs::File::create(path)?);
    flow.write_to(&mut out)?;
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// A fresh data directory `d`, as ops set one up: the space, an API token
/// for `admin`, the service account `helios` contributing to the space,
/// and a configuration whose PES drop folder is `d/depot`. Returns the
/// token and the configuration's path.
fn setup(d: &Path) -> anyhow::Result<(String, PathBuf)> {
    std::fs::create_dir_all(d)?;
    let token = prepare(d, SPACE)?;
    cli(
        d,
        &["service", "add", "helios", "--name", "Helios (finances)"],
    )?;
    cli(d, &["service", "grant", "helios", "--space", SPACE])?;
    std::fs::create_dir(d.join("depot"))?;
    let config = d.join("passerelle.toml");
    // rescan_secs 1 as in production's shortest; the stable delay does not
    // matter: every file has its `.ok` marker, which makes it taken at once.
    std::fs::write(
        &config,
        format!(
            "[[drops]]\nname = \"helios\"\npath = \"{}\"\nkind = \"pes\"\nservice = \"helios\"\n\
             space = \"{SPACE}\"\nfolder = \"Flux Helios\"\nrescan_secs = 1\nstable_secs = 1\n",
            d.join("depot").display()
        ),
    )?;
    Ok((token, config))
}

/// Documents the receipts of `depot`'s filed files list.
fn documents_in_receipts(depot: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for f in filed(depot) {
        let receipt = PathBuf::from(format!("{}.recu.json", f.display()));
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&receipt)?)?;
        ensure!(
            v["deja_classe"] == serde_json::Value::Bool(false),
            "{} filed as already filed",
            f.display()
        );
        total += v["documents"].as_array().context("documents")?.len() as u64;
    }
    Ok(total)
}

/// What one path did with a set of files.
#[derive(Clone, Copy, Debug)]
struct Run {
    files: usize,
    documents: u64,
    bytes: u64,
    time: Duration,
    peak_rss_kib: u64,
}

impl Run {
    fn files_per_s(&self) -> f64 {
        self.files as f64 / self.time.as_secs_f64()
    }
    fn documents_per_s(&self) -> f64 {
        self.documents as f64 / self.time.as_secs_f64()
    }
    fn mib_per_s(&self) -> f64 {
        self.bytes as f64 / MIB as f64 / self.time.as_secs_f64()
    }
}

/// The hot folder: `sources` hard-linked into a fresh node's drop folder
/// with their `.ok` markers, all before the node starts (so the figure is
/// the node's filing rate, not this writer's nor the stable delay), then
/// timed from the node's ready line to the last file in `traite/`.
/// Returns the run and the files already filed at the ready line (the
/// worker starts just before the listener: those make the rate flattering
/// by that much).
async fn hot(d: &Path, sources: &[PathBuf], poll: Duration) -> anyhow::Result<(Run, usize)> {
    let (_token, config) = setup(d)?;
    let depot = d.join("depot");
    let mut bytes = 0;
    for s in sources {
        let name = s.file_name().context("name")?;
        // A hard link: no copy, and the claim's rename leaves the source.
        std::fs::hard_link(s, depot.join(name))?;
        std::fs::write(depot.join(format!("{}.ok", name.to_string_lossy())), b"")?;
        bytes += std::fs::metadata(s)?.len();
    }
    let config_arg = config.display().to_string();
    let (server, _base): (Server, String) = start_with(d, &["--config", &config_arg])?;
    let t = Instant::now();
    let at_ready = filed(&depot).len();
    let want = sources.len();
    eventually_within(
        "every flow filed",
        Duration::from_secs(3600),
        poll,
        || async {
            let n = filed(&depot).len();
            // A refused flow (`erreur/<name>` and its `.err.txt`) never
            // reaches `traite/`: settled all the same, reported below.
            let refused = std::fs::read_dir(depot.join("erreur")).map_or(0, |r| r.count());
            anyhow::ensure!(n + refused / 2 >= want, "{n} of {want} filed");
            Ok(())
        },
    )
    .await?;
    let time = t.elapsed();
    let peak_rss_kib = peak_rss_kib(server.0.id())?;
    drop(server);
    let refused = std::fs::read_dir(depot.join("erreur")).map_or(0, |r| r.count());
    ensure!(
        refused == 0,
        "{refused} entries in erreur/: see {}",
        depot.display()
    );
    ensure!(filed(&depot).len() == want, "not every flow filed");
    Ok((
        Run {
            files: want,
            documents: documents_in_receipts(&depot)?,
            bytes,
            time,
            peak_rss_kib,
        },
        at_ready,
    ))
}

/// REST: the same files uploaded to a fresh node, `parallel` at a time,
/// each streamed from its file, timed from the first request to the last
/// answer.
async fn rest(d: &Path, sources: &[PathBuf], parallel: usize) -> anyhow::Result<Run> {
    let (token, _config) = setup(d)?;
    // No `--config`: no drop folder worker, the node as REST clients see it.
    let (server, base) = start(d)?;
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let space = first_space(&http, &base, &auth).await?;
    let mut bytes = 0;
    for s in sources {
        bytes += std::fs::metadata(s)?.len();
    }
    let t = Instant::now();
    futures::stream::iter(sources.iter().map(Ok))
        .try_for_each_concurrent(parallel, |s| {
            let (http, auth, base, space) = (&http, &auth, &base, &space);
            async move { upload(http, auth, base, space, s).await }
        })
        .await?;
    let time = t.elapsed();
    let peak_rss_kib = peak_rss_kib(server.0.id())?;
    drop(server);
    Ok(Run {
        files: sources.len(),
        documents: sources.len() as u64,
        bytes,
        time,
        peak_rss_kib,
    })
}

/// One file as a raw body, streamed from disk as a client would send it.
async fn upload(
    http: &reqwest::Client,
    auth: &str,
    base: &str,
    space: &str,
    source: &Path,
) -> anyhow::Result<()> {
    let name = source
        .file_name()
        .context("name")?
        .to_string_lossy()
        .into_owned();
    let file = tokio::fs::File::open(source).await?;
    let len = file.metadata().await?.len();
    let body = reqwest::Body::wrap_stream(
        tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024)
            .map(|c| c.map_err(std::io::Error::other)),
    );
    let r = http
        .post(format!("{base}/api/v1/spaces/{space}/documents"))
        .query(&[("name", name.as_str())])
        .header("Authorization", auth)
        .header("Content-Type", "application/xml")
        .header("Content-Length", len.to_string())
        .body(body)
        .send()
        .await?;
    ensure!(r.status() == 201, "upload of {name}: {}", r.status());
    Ok(())
}

/// What the reader needs to judge the figures: the machine and what else
/// ran on it.
fn machine(root: &Path) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let disk = Command::new("df")
        .args(["-T", "-h", &root.display().to_string()])
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .nth(1)
                .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_default();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    format!(
        "{cores} cores ({cpu}), disk {disk} at {}, load average {load} at start, {profile} build",
        root.display()
    )
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flows = usize::try_from(env_or("PASSERELLE_BENCH_FLOWS", 500))?;
    let big_mib = env_or("PASSERELLE_BENCH_BIG_MIB", 300);
    let root = std::env::current_dir()?.join("target").join("bench-flows");
    let _ = std::fs::remove_dir_all(&root);
    let src = root.join("src");
    std::fs::create_dir_all(src.join("small"))?;
    let facts = machine(&root);

    let mut small = Vec::with_capacity(flows);
    let mut small_bytes = 0;
    for i in 0..flows {
        let path = src.join(format!("small/PES_2026_{i:05}.xml"));
        small_bytes += write_flow(&small_flow(i), &path)?;
        small.push(path);
    }
    let big = vec![src.join("PES_2026_GROS.xml")];
    let big_bytes = write_flow(&big_flow(big_mib), &big[0])?;

    // Small flows: hot folder first, then REST one by one, then 4 at a
    // time; each on its own node.
    let (hot_small, at_ready) =
        hot(&root.join("hot-small"), &small, Duration::from_millis(20)).await?;
    let rest_small = rest(&root.join("rest-small"), &small, 1).await?;
    let rest_small_4 = rest(&root.join("rest-small-4"), &small, PARALLEL).await?;
    let (hot_big, _) = hot(&root.join("hot-big"), &big, Duration::from_millis(50)).await?;
    let rest_big = rest(&root.join("rest-big"), &big, 1).await?;

    println!("\nHot folder (PES drop) vs REST upload, same files, same run");
    println!("{facts}");
    println!(
        "{:<46} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "workload", "time s", "files/s", "docs/s", "MiB/s", "hot/REST", "peak RSS"
    );
    let row = |name: &str, r: &Run, vs: Option<&Run>| {
        let ratio = vs.map_or(String::new(), |v| {
            format!("{:.0}%", r.files_per_s() / v.files_per_s() * 100.0)
        });
        println!(
            "{name:<46} {:>9.2} {:>9.1} {:>9.1} {:>9.1} {ratio:>10} {:>6.1} MiB",
            r.time.as_secs_f64(),
            r.files_per_s(),
            r.documents_per_s(),
            r.mib_per_s(),
            r.peak_rss_kib as f64 / 1024.0
        )
    };
    let kib = small_bytes as f64 / flows as f64 / 1024.0;
    row(
        &format!("hot folder: {flows} small PES ({kib:.0} KiB)"),
        &hot_small,
        Some(&rest_small),
    );
    row(
        &format!("REST: {flows} small PES, 1 at a time"),
        &rest_small,
        None,
    );
    row(
        &format!("REST: {flows} small PES, {PARALLEL} at a time"),
        &rest_small_4,
        None,
    );
    let mib = big_bytes as f64 / MIB as f64;
    row(
        &format!("hot folder: 1 PES of {mib:.0} MiB"),
        &hot_big,
        Some(&rest_big),
    );
    row(&format!("REST: 1 PES of {mib:.0} MiB"), &rest_big, None);
    println!(
        "hot/REST: files/s (= MiB/s) of the hot folder over REST one at a time. \
         Hot: {} documents from {flows} small flows; {at_ready} already filed at the ready line; \
         big flow: {} documents. Peak RSS: the node's VmHWM, a fresh process per row.",
        hot_small.documents, hot_big.documents
    );
    // Kept on demand, to profile a path by hand on the same files.
    if std::env::var_os("PASSERELLE_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(())
}
