//! The search bench of issue 14: Passerelle's tantivy index behind core's
//! port against PostgreSQL full-text search (`french` + `unaccent`, GIN,
//! `websearch_to_tsquery`) on the same generated French corpus, printed
//! side by side: indexing throughput with and without extraction, index
//! size against the corpus, query latency p50/p95/p99 with the rights of a
//! user who reads 10 spaces of 80, recall@10 of the labelled set, peak RSS.
//!
//! `cargo bench -p passerelle-search --bench search`; environment:
//! `PASSERELLE_BENCH_DOCS` (generated documents, default 100000; the
//! planted ones are added), `PASSERELLE_BENCH_ROUNDS` (timed rounds of the
//! queries, default 20), `PASSERELLE_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`; the bench creates and
//! drops a scratch database; unreachable: the reference column is empty).

#[path = "../tests/corpus/mod.rs"]
mod corpus;
#[path = "search/engine.rs"]
mod engine;
#[path = "search/pg.rs"]
mod pg;
#[path = "search/sql.rs"]
mod sql;

use std::time::Instant;

use corpus::{Corpus, labelled::Recall};

/// The fixed latency set: single words, inflected accent-free forms,
/// phrases, field filters, prefixes and boolean forms; every search also
/// counts its hits and their facets (types, spaces, years).
const QUERIES: [&str; 30] = [
    // Single words.
    "piscine",
    "délibération",
    "voirie",
    "subvention",
    "assainissement",
    "tramway",
    // Inflected, accent-free.
    "deliberations",
    "arretes",
    "marches publics",
    "travaux realises",
    "factures payees",
    "equipements sportifs",
    // Phrases.
    "\"bon de commande\"",
    "\"cahier des charges\"",
    "\"conseil métropolitain\"",
    "\"piste cyclable\"",
    "\"eaux pluviales\"",
    "\"ordre du jour\"",
    // Field filters.
    "type:facture fournisseur:Colas",
    "montant_ttc:[10000 TO 20000] type:facture",
    "type:deliberation transport",
    "type:facture date_emission:2023",
    "objet:voirie type:arrete",
    "nom:piscine",
    // Prefixes, boolean forms, filters only (facets of everything).
    "piscin*",
    "tram*",
    "transport OR mobilité",
    "voirie -travaux",
    "type:bon-de-commande piscine",
    "type:compte-rendu",
];

/// The queries timed, their rounds and the scope.
#[derive(Debug)]
pub struct QuerySet {
    pub texts: Vec<String>,
    pub rounds: usize,
    pub scope_spaces: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    #[default]
    Tantivy,
    Postgres,
}

/// What one engine measured.
#[derive(Debug, Default)]
pub struct Measured {
    pub engine: Engine,
    pub docs: usize,
    pub corpus_bytes: u64,
    /// Seconds in the engine's indexing calls.
    pub index_secs: f64,
    /// Seconds in the extractor (Passerelle only).
    pub extract_secs: Option<f64>,
    pub statuses: String,
    pub index_bytes: u64,
    pub gin_bytes: Option<u64>,
    pub rss_hwm: Option<u64>,
    /// Peaks of `RssAnon` and `RssFile` sampled while indexing: the heap,
    /// and the index files mapped (page cache, given back under pressure).
    pub rss_anon_peak: u64,
    pub rss_file_peak: u64,
    /// The slowest queries: text and median in ms.
    pub slowest: Vec<(String, f64)>,
    /// p50, p95, p99 in ms.
    pub latency: [f64; 3],
    pub samples: usize,
    pub recall: Recall,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let background = env_usize("PASSERELLE_BENCH_DOCS", 100_000);
    let rounds = env_usize("PASSERELLE_BENCH_ROUNDS", 20);
    let url = std::env::var("PASSERELLE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let corpus = Corpus::new(background);
    let mut texts: Vec<String> = QUERIES.iter().map(|q| (*q).to_owned()).collect();
    texts.extend(corpus.labelled.queries.iter().map(|q| q.text.clone()));
    let queries = QuerySet {
        texts,
        rounds,
        scope_spaces: 10,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    eprintln!(
        "search bench: {} documents ({} planted) in {} spaces, {} queries × {rounds} rounds",
        corpus.len(),
        corpus.labelled.docs.len(),
        corpus::SPACES,
        queries.texts.len()
    );
    let started = Instant::now();
    let tantivy = runtime.block_on(engine::run(&corpus, &queries))?;
    eprintln!(
        "tantivy side done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let postgres = match runtime.block_on(pg::run(&url, &corpus, &queries)) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("PostgreSQL reference skipped: {e:#}");
            None
        }
    };
    eprintln!(
        "postgresql side done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    print_table(&tantivy, postgres.as_ref(), &queries);
    Ok(())
}

/// p50, p95, p99 of `samples` (nearest rank).
pub fn percentiles(samples: &mut [f64]) -> [f64; 3] {
    if samples.is_empty() {
        return [0.0; 3];
    }
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
        samples[rank - 1]
    };
    [at(0.50), at(0.95), at(0.99)]
}

/// `VmHWM` of a `/proc/<pid>/status`, in bytes.
pub fn rss_hwm_of(path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `RssAnon` and `RssFile` of a `/proc/<pid>/status`, in bytes.
pub fn rss_parts_of(path: &str) -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string(path) else {
        return (0, 0);
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    };
    (field("RssAnon:"), field("RssFile:"))
}

/// Keeps the peaks of `RssAnon` and `RssFile` of `path` in `m`.
pub fn sample_rss(m: &mut Measured, path: &str) {
    let (anon, file) = rss_parts_of(path);
    m.rss_anon_peak = m.rss_anon_peak.max(anon);
    m.rss_file_peak = m.rss_file_peak.max(file);
}

/// The five queries of highest median, from the samples of each query
/// (in the order of `texts`).
pub fn slowest(texts: &[String], by_query: &mut [Vec<f64>]) -> Vec<(String, f64)> {
    let mut medians: Vec<(String, f64)> = texts
        .iter()
        .zip(by_query.iter_mut())
        .map(|(t, samples)| (t.clone(), percentiles(samples)[0]))
        .collect();
    medians.sort_by(|a, b| b.1.total_cmp(&a.1));
    medians.truncate(5);
    medians
}

const MIB: f64 = 1024.0 * 1024.0;

struct Table {
    rows: Vec<[String; 4]>,
}

impl Table {
    fn row(&mut self, metric: &str, t: String, p: String, ratio: String) {
        self.rows.push([metric.to_owned(), t, p, ratio]);
    }

    fn print(&self) {
        let mut widths = [0; 4];
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        for (n, r) in self.rows.iter().enumerate() {
            let cells: Vec<String> = r
                .iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    let pad = " ".repeat(w - c.chars().count());
                    if i == 0 {
                        format!("{c}{pad}")
                    } else {
                        format!("{pad}{c}")
                    }
                })
                .collect();
            println!("| {} |", cells.join(" | "));
            if n == 0 {
                let rule: Vec<String> = widths
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        if i == 0 {
                            "-".repeat(*w)
                        } else {
                            format!("{}:", "-".repeat(w.saturating_sub(1)))
                        }
                    })
                    .collect();
                println!("| {} |", rule.join(" | "));
            }
        }
    }
}

fn ratio(t: f64, p: Option<f64>) -> String {
    match p {
        Some(p) if p > 0.0 => format!("{:.2}×", t / p),
        _ => "—".into(),
    }
}

fn print_table(t: &Measured, p: Option<&Measured>, q: &QuerySet) {
    let mb = |m: &Measured| m.corpus_bytes as f64 / MIB;
    let opt = |f: &dyn Fn(&Measured) -> Option<f64>, fmt: &dyn Fn(f64) -> String| {
        p.and_then(f).map_or("—".to_owned(), fmt)
    };
    println!();
    println!(
        "Corpus: {} documents, {:.1} MiB, 80 spaces; latency: {} queries × {} rounds, scope 10 spaces; ratio = Passerelle ÷ PostgreSQL",
        t.docs,
        mb(t),
        q.texts.len(),
        q.rounds
    );
    println!();
    let mut table = Table { rows: Vec::new() };
    table.row(
        "metric",
        "Passerelle (tantivy)".into(),
        "PostgreSQL FTS".into(),
        "ratio".into(),
    );
    let secs_ex = t.index_secs;
    let secs_in = t.index_secs + t.extract_secs.unwrap_or(0.0);
    let docs_s = |m: &Measured, s: f64| m.docs as f64 / s;
    let p_docs = p.map(|m| docs_s(m, m.index_secs));
    let p_mbs = p.map(|m| mb(m) / m.index_secs);
    table.row(
        "indexing, extraction excluded (docs/s)",
        format!("{:.0}", docs_s(t, secs_ex)),
        opt(&|m| Some(docs_s(m, m.index_secs)), &|x| format!("{x:.0}")),
        ratio(docs_s(t, secs_ex), p_docs),
    );
    table.row(
        "indexing, extraction excluded (MiB/s)",
        format!("{:.1}", mb(t) / secs_ex),
        opt(&|m| Some(mb(m) / m.index_secs), &|x| format!("{x:.1}")),
        ratio(mb(t) / secs_ex, p_mbs),
    );
    table.row(
        "indexing, extraction included (docs/s)",
        format!("{:.0}", docs_s(t, secs_in)),
        "(no extraction)".into(),
        ratio(docs_s(t, secs_in), p_docs),
    );
    table.row(
        "indexing, extraction included (MiB/s)",
        format!("{:.1}", mb(t) / secs_in),
        "(no extraction)".into(),
        ratio(mb(t) / secs_in, p_mbs),
    );
    table.row(
        "time in extraction / in the index (s)",
        format!("{:.0} / {:.0}", t.extract_secs.unwrap_or(0.0), t.index_secs),
        opt(&|m| Some(m.index_secs), &|x| format!("— / {x:.0}")),
        "".into(),
    );
    let size = |m: &Measured| m.index_bytes as f64 / m.corpus_bytes.max(1) as f64;
    table.row(
        "index size (MiB)",
        format!("{:.0}", t.index_bytes as f64 / MIB),
        opt(&|m| Some(m.index_bytes as f64 / MIB), &|x| {
            format!("{x:.0}")
        }),
        ratio(t.index_bytes as f64, p.map(|m| m.index_bytes as f64)),
    );
    table.row(
        "index size / corpus",
        format!("{:.2}", size(t)),
        opt(&|m| Some(size(m)), &|x| format!("{x:.2}")),
        "".into(),
    );
    if let Some(g) = p.and_then(|m| m.gin_bytes) {
        table.row(
            "  of which GIN index (MiB)",
            "".into(),
            format!("{:.0}", g as f64 / MIB),
            "".into(),
        );
    }
    for (i, name) in ["query p50 (ms)", "query p95 (ms)", "query p99 (ms)"]
        .iter()
        .enumerate()
    {
        table.row(
            name,
            format!("{:.2}", t.latency[i]),
            opt(&|m| Some(m.latency[i]), &|x| format!("{x:.2}")),
            ratio(t.latency[i], p.map(|m| m.latency[i])),
        );
    }
    table.row(
        "recall@10, labelled set",
        format!("{:.3}", t.recall.at_10),
        opt(&|m| Some(m.recall.at_10), &|x| format!("{x:.3}")),
        ratio(t.recall.at_10, p.map(|m| m.recall.at_10)),
    );
    table.row(
        "peak RSS, VmHWM (MiB)",
        t.rss_hwm
            .map_or("?".into(), |b| format!("{:.0}", b as f64 / MIB)),
        opt(&|m| m.rss_hwm.map(|b| b as f64 / MIB), &|x| {
            format!("{x:.0} (backend)")
        }),
        "".into(),
    );
    let peaks = |m: &Measured| {
        format!(
            "{:.0} / {:.0}",
            m.rss_anon_peak as f64 / MIB,
            m.rss_file_peak as f64 / MIB
        )
    };
    table.row(
        "  peak anonymous / file-mapped RSS (MiB)",
        peaks(t),
        p.map_or("—".into(), |m| format!("{} (backend)", peaks(m))),
        "".into(),
    );
    table.print();
    println!();
    println!("Extraction statuses: {}", t.statuses);
    for (name, m) in [("Passerelle", Some(t)), ("PostgreSQL", p)] {
        if let Some(m) = m {
            let slow: Vec<String> = m
                .slowest
                .iter()
                .map(|(q, ms)| format!("{q} ({ms:.1} ms)"))
                .collect();
            println!("{name}'s slowest medians: {}", slow.join(", "));
            for (query, missed) in &m.recall.misses {
                println!("{name} missed in the first ten of {query:?}: {missed:?}");
            }
        }
    }
}
