//! The real node indexing (issue 14): a release `passerelle-internal` on
//! its embedded defaults (SQLite, blobs and search index in its data
//! directory), plain-text documents uploaded through the API by concurrent
//! clients while its indexer follows the change feed, then the index
//! deleted (`search reindex`) and rebuilt from scratch. Its memory is
//! sampled from `/proc/<pid>/status` all along and printed beside the
//! issue's target (RSS < 300 MiB while indexing).
//!
//! `cargo bench -p passerelle-internal --bench indexing`
//! (`PASSERELLE_BENCH_DOCS`, default 20,000; `PASSERELLE_BENCH_CLIENTS`,
//! default 6). The node inherits the environment: run it with
//! `MALLOC_ARENA_MAX=2` to measure as the systemd units deploy it.

#[path = "support/node.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::{cli, first_space, prepare, start};

const MIB: f64 = 1024.0 * 1024.0;
/// Issue 14's target for the node's resident memory while indexing.
const TARGET_MIB: f64 = 300.0;

/// Words of French administrative prose, accented and inflected, so that
/// the analyzer, the dictionary and the postings see realistic text.
const WORDS: &[&str] = &[
    "délibération",
    "délibérations",
    "conseil",
    "municipal",
    "métropolitain",
    "arrêté",
    "arrêtés",
    "voirie",
    "stationnement",
    "marché",
    "marchés",
    "publics",
    "commande",
    "fournisseur",
    "facture",
    "factures",
    "montant",
    "paiement",
    "budget",
    "investissement",
    "fonctionnement",
    "piscine",
    "piscines",
    "bassin",
    "natation",
    "transport",
    "transports",
    "mobilité",
    "tramway",
    "ligne",
    "lignes",
    "travaux",
    "chantier",
    "chantiers",
    "réseau",
    "assainissement",
    "eau",
    "potable",
    "station",
    "épuration",
    "école",
    "écoles",
    "cantine",
    "restauration",
    "scolaire",
    "élèves",
    "enseignants",
    "bibliothèque",
    "médiathèque",
    "culture",
    "patrimoine",
    "église",
    "rénovation",
    "énergétique",
    "chauffage",
    "électricité",
    "éclairage",
    "public",
    "urbanisme",
    "permis",
    "construire",
    "lotissement",
    "zone",
    "aménagement",
    "espaces",
    "verts",
    "arbres",
    "plantation",
    "propreté",
    "déchets",
    "collecte",
    "tri",
    "sélectif",
    "subvention",
    "subventions",
    "association",
    "associations",
    "sport",
    "sportif",
    "stade",
    "gymnase",
    "personnel",
    "agents",
    "recrutement",
    "formation",
    "rémunération",
    "le",
    "la",
    "les",
    "de",
    "des",
    "du",
    "et",
    "pour",
    "dans",
    "sur",
    "par",
    "avec",
    "une",
    "un",
    "au",
    "aux",
    "est",
    "sont",
    "été",
    "selon",
    "après",
    "avant",
];

/// A small deterministic generator (xorshift): the same corpus every run,
/// without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Document `i`: 2–48 KiB of prose, distinct from every other.
fn text(i: usize) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let size = 2048 + rng.below(46 * 1024) as usize;
    let mut out = format!("Document {i}. ");
    while out.len() < size {
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        out.push_str(w);
        out.push(if rng.below(12) == 0 { '.' } else { ' ' });
    }
    out.into_bytes()
}

/// Peaks of the node's memory over a phase, in KiB, from its status file.
#[derive(Clone, Copy, Debug, Default)]
struct Peaks {
    rss: u64,
    anon: u64,
    file: u64,
}

fn status(pid: u32) -> Option<(u64, u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("RssAnon:")?, field("RssFile:")?))
}

/// Samples the node every 0.2 s until `stop`; each figure's own peak.
fn sample(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Peaks> {
    std::thread::spawn(move || {
        let mut p = Peaks::default();
        while !stop.load(Ordering::Relaxed) {
            if let Some((rss, anon, file)) = status(pid) {
                p.rss = p.rss.max(rss);
                p.anon = p.anon.max(anon);
                p.file = p.file.max(file);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        p
    })
}

/// The index's lag behind the feed, summed over spaces, from `/metrics`.
async fn lag(http: &reqwest::Client, base: &str) -> anyhow::Result<f64> {
    let body = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(body
        .lines()
        .filter(|l| l.starts_with("passerelle_search_index_lag_rows{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Waits until the index holds every row of the feed.
async fn caught_up(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    while lag(http, base).await? > 0.0 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

fn dir_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The node's search index: the `search` folder of its data directory.
fn index_dir(root: &Path) -> Option<PathBuf> {
    let here = root.join("search");
    if here.join("meta.json").exists() {
        return Some(here);
    }
    std::fs::read_dir(root)
        .ok()?
        .flatten()
        .filter(|e| e.path().is_dir())
        .find_map(|e| index_dir(&e.path()))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let docs = env_usize("PASSERELLE_BENCH_DOCS", 20_000);
    let clients = env_usize("PASSERELLE_BENCH_CLIENTS", 6).max(1);
    let root = std::env::current_dir()?
        .join("target")
        .join("bench-indexing");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let dir = tempfile::tempdir_in(&root)?;
    let d = dir.path();
    let token = prepare(d, "bench")?;
    let auth = format!("Bearer {token}");
    let http = reqwest::Client::new();

    // Phase 1: uploads with the indexer running beside them, then its
    // catching up.
    let (server, base) = start(d)?;
    let pid = server.0.id();
    let space = first_space(&http, &base, &auth).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample(pid, stop.clone());
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (http, base, auth, space) = (http.clone(), base.clone(), auth.clone(), space.clone());
        tasks.spawn(async move {
            let mut bytes = 0u64;
            for i in (c..docs).step_by(clients) {
                let body = text(i);
                bytes += body.len() as u64;
                let r = http
                    .post(format!(
                        "{base}/api/v1/spaces/{space}/documents?name=doc-{i}.txt"
                    ))
                    .header("Authorization", &auth)
                    .header("Content-Type", "text/plain; charset=utf-8")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 201, "upload {i}: {}", r.status());
            }
            Ok(bytes)
        });
    }
    let mut corpus = 0u64;
    while let Some(done) = tasks.join_next().await {
        corpus += done??;
    }
    let uploads = t.elapsed();
    let lag_after_uploads = lag(&http, &base).await?;
    caught_up(&http, &base).await?;
    let live = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let live_peaks = sampler.join().map_err(|_| anyhow::anyhow!("sampler"))?;
    let live_hwm = support::peak_rss_kib(pid)?;
    drop(server);

    // Phase 2: the index deleted and rebuilt from the database and blobs.
    cli(d, &["search", "reindex"])?;
    let (server, base) = start(d)?;
    let pid = server.0.id();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample(pid, stop.clone());
    let t = Instant::now();
    // The indexer may not have read the feed yet: wait for the lag first.
    while lag(&http, &base).await? == 0.0 && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    caught_up(&http, &base).await?;
    let rebuild = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let rebuild_peaks = sampler.join().map_err(|_| anyhow::anyhow!("sampler"))?;
    let rebuild_hwm = support::peak_rss_kib(pid)?;

    // A few searches over the whole index, through HTTP.
    let mut latencies = Vec::new();
    for q in [
        "piscine",
        "deliberations",
        "\"conseil municipal\"",
        "transp*",
        "voirie -travaux",
    ] {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/api/v1/search"))
            .query(&[("q", q)])
            .header("Authorization", &auth)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 200, "search {q}: {}", r.status());
        r.bytes().await?;
        latencies.push((q, t.elapsed()));
    }
    let after_searches = status(pid).unwrap_or_default();
    drop(server);
    let index_bytes = index_dir(d).map_or(0, |p| dir_bytes(&p));

    let arena = std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "glibc default".into());
    println!(
        "\nThe real node indexing: {docs} plain-text documents ({:.0} MiB), {clients} clients, MALLOC_ARENA_MAX={arena}",
        corpus as f64 / MIB
    );
    println!(
        "uploads through the API, indexer beside them: {:.1} s ({:.0} documents/s); index lag when they end: {lag_after_uploads:.0} feed rows",
        uploads.as_secs_f64(),
        docs as f64 / uploads.as_secs_f64()
    );
    println!(
        "caught up {:.1} s after the first upload",
        live.as_secs_f64()
    );
    println!(
        "rebuild from scratch after `search reindex`: {:.1} s, {:.0} documents/s, {:.1} MiB/s (extraction included, start-up included)",
        rebuild.as_secs_f64(),
        docs as f64 / rebuild.as_secs_f64(),
        corpus as f64 / MIB / rebuild.as_secs_f64()
    );
    println!(
        "index size: {:.0} MiB = {:.2} of the corpus",
        index_bytes as f64 / MIB,
        index_bytes as f64 / corpus.max(1) as f64
    );
    println!(
        "\n{:<34} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "peak memory (MiB)", "VmHWM", "VmRSS", "RssAnon", "RssFile", "target"
    );
    for (phase, p, hwm) in [
        ("uploads + catching up", live_peaks, live_hwm),
        ("rebuild from scratch", rebuild_peaks, rebuild_hwm),
    ] {
        println!(
            "{phase:<34} {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>7.2}×",
            mib(hwm),
            mib(p.rss),
            mib(p.anon),
            mib(p.file),
            mib(hwm) / TARGET_MIB
        );
    }
    println!(
        "(peaks sampled every 0.2 s, each column its own; × = VmHWM ÷ the {TARGET_MIB:.0} MiB target)"
    );
    println!(
        "after the searches: VmRSS {:.0}, RssAnon {:.0}, RssFile {:.0} MiB",
        mib(after_searches.0),
        mib(after_searches.1),
        mib(after_searches.2)
    );
    for (q, t) in latencies {
        println!(
            "search {q:<24} {:>7.1} ms (first try, through HTTP)",
            t.as_secs_f64() * 1000.0
        );
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
