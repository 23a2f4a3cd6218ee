//! The reference: PostgreSQL full-text search on the same corpus, as a
//! reasonable PostgreSQL user would set it up (issue 14): `unaccent` and a
//! `fr_unaccent` configuration (a copy of `french` with `unaccent` before
//! `french_stem`), one table with the space, type, metadata as `jsonb` and
//! the text, a generated `tsvector` weighted name A, metadata and folder B,
//! text C, a GIN index on it and a B-tree on the space; loaded with `COPY`
//! in batches of 2,000 rows (one transaction each, as tantivy's commits);
//! queried with the rights as `space_id = ANY($1)`, ranked by `ts_rank`,
//! and counted with the same facets as the port (types, spaces, years).
//! It runs in a scratch database of its own, dropped at the end.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection, Row};

use passerelle_core::search::{MetaValue, parse, resolve};

use super::corpus::Corpus;
use super::sql::translate;
use super::{Engine, Measured, QuerySet, percentiles, rss_hwm_of, sample_rss, slowest};

const SETUP: &str = "
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION fr_unaccent (COPY = french);
ALTER TEXT SEARCH CONFIGURATION fr_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
CREATE TABLE docs (
    id bigint PRIMARY KEY,
    space_id int NOT NULL,
    doc_type text,
    name text NOT NULL,
    folder_path text NOT NULL,
    meta_text text NOT NULL,
    metadata jsonb NOT NULL,
    modified timestamptz NOT NULL,
    body text NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('fr_unaccent'::regconfig, name), 'A')
        || setweight(to_tsvector('fr_unaccent'::regconfig, meta_text), 'B')
        || setweight(to_tsvector('fr_unaccent'::regconfig, body), 'C')
    ) STORED
);
CREATE INDEX docs_tsv ON docs USING gin (tsv);
CREATE INDEX docs_space ON docs (space_id);
";

const COPY: &str = "COPY docs (id, space_id, doc_type, name, folder_path, meta_text, metadata, \
                    modified, body) FROM STDIN";

/// Runs the PostgreSQL side; `Err` when the server cannot be reached.
pub async fn run(url: &str, corpus: &Corpus, queries: &QuerySet) -> anyhow::Result<Measured> {
    let db = format!("passerelle_bench_{}", std::process::id());
    let mut admin = PgConnection::connect(url).await?;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}")))
        .execute(&mut admin)
        .await?;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await?;
    let result = measure(url, &db, corpus, queries).await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    result
}

async fn measure(
    url: &str,
    db: &str,
    corpus: &Corpus,
    queries: &QuerySet,
) -> anyhow::Result<Measured> {
    let options = PgConnectOptions::from_str(url)?.database(db);
    let mut conn = PgConnection::connect_with(&options).await?;
    sqlx::raw_sql(SETUP).execute(&mut conn).await?;
    let backend: i32 = sqlx::query("SELECT pg_backend_pid()")
        .fetch_one(&mut conn)
        .await?
        .get(0);

    // Load: COPY in batches of 2,000 rows; only the database's time counts.
    let mut m = Measured::default();
    let mut busy = Duration::ZERO;
    let mut rows = Vec::with_capacity(8 << 20);
    let n = corpus.len();
    let mut i = 0;
    while i < n {
        let end = (i + 2_000).min(n);
        let t = Instant::now();
        let mut copy = conn.copy_in_raw(COPY).await?;
        busy += t.elapsed();
        for j in i..end {
            let g = corpus.doc(j);
            m.corpus_bytes += g.content.len() as u64;
            row(&mut rows, j, &g.entry);
            if rows.len() > 4 << 20 || j + 1 == end {
                let t = Instant::now();
                copy.send(std::mem::take(&mut rows)).await?;
                busy += t.elapsed();
            }
        }
        let t = Instant::now();
        copy.finish().await?;
        busy += t.elapsed();
        sample_rss(&mut m, &format!("/proc/{backend}/status"));
        i = end;
        m.docs = end;
        if end % 20_000 == 0 {
            eprintln!(
                "  postgresql: {end}/{n} loaded, {:.0} s in COPY",
                busy.as_secs_f64()
            );
        }
    }
    let t = Instant::now();
    sqlx::raw_sql("ANALYZE docs").execute(&mut conn).await?;
    busy += t.elapsed();
    m.index_secs = busy.as_secs_f64();
    m.rss_hwm = rss_hwm_of(&format!("/proc/{backend}/status"));
    m.index_bytes = size(&mut conn, "SELECT pg_total_relation_size('docs')").await?;
    m.gin_bytes = Some(size(&mut conn, "SELECT pg_relation_size('docs_tsv')").await?);

    // Latency: the same queries, scope of ten spaces, warm-up round first.
    let scope: Vec<i32> = (0..queries.scope_spaces as i32).collect();
    let prepared: Vec<(String, String)> = queries
        .texts
        .iter()
        .map(|q| statements(&resolve(&parse(q), corpus.types())))
        .collect();
    let mut by_query = vec![Vec::new(); prepared.len()];
    for round in 0..=queries.rounds {
        for (q, (top, facets)) in prepared.iter().enumerate() {
            let t = Instant::now();
            sqlx::query(AssertSqlSafe(top.as_str()))
                .bind(&scope)
                .fetch_all(&mut conn)
                .await?;
            sqlx::query(AssertSqlSafe(facets.as_str()))
                .bind(&scope)
                .fetch_all(&mut conn)
                .await?;
            if round > 0 {
                by_query[q].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    m.latency = percentiles(&mut by_query.concat());
    m.slowest = slowest(&queries.texts, &mut by_query);

    // Recall@10 of the labelled set, every space in scope.
    let all: Vec<i32> = (0..super::corpus::SPACES as i32).collect();
    let mut hits = Vec::new();
    for q in &corpus.labelled.queries {
        let (top, _) = statements(&resolve(&parse(&q.text), corpus.types()));
        let found = sqlx::query(AssertSqlSafe(top.as_str()))
            .bind(&all)
            .fetch_all(&mut conn)
            .await?;
        hits.push(
            found
                .iter()
                .map(|r| Corpus::id(r.get::<i64, _>(0) as usize))
                .collect::<Vec<_>>(),
        );
    }
    let labelled = &corpus.labelled;
    m.recall = labelled.recall(&hits, |k| {
        Corpus::id(labelled.index_of(k).unwrap_or(usize::MAX))
    });
    m.engine = Engine::Postgres;
    Ok(m)
}

/// The first page (ten rows, best `ts_rank` first, ties newest first) and
/// the total with the facets, for one query.
fn statements(find: &passerelle_core::search::Find) -> (String, String) {
    let sql = translate(find);
    let order = match &sql.rank {
        Some(q) => format!("ts_rank(tsv, {q}) DESC, modified DESC"),
        None => "modified DESC".to_owned(),
    };
    let filter = format!("space_id = ANY($1) AND ({})", sql.cond);
    let top = format!("SELECT id FROM docs WHERE {filter} ORDER BY {order} LIMIT 10");
    let facets = format!(
        "SELECT doc_type, space_id, extract(year FROM modified)::int AS year, count(*) \
         FROM docs WHERE {filter} \
         GROUP BY GROUPING SETS ((doc_type), (space_id), (year), ())"
    );
    (top, facets)
}

async fn size(conn: &mut PgConnection, sql: &'static str) -> anyhow::Result<u64> {
    let bytes: i64 = sqlx::query(sql).fetch_one(conn).await?.get(0);
    Ok(bytes as u64)
}

/// One row of `COPY … FROM STDIN` (text format).
fn row(out: &mut Vec<u8>, i: usize, e: &passerelle_core::search::IndexedDocument) {
    // Space ids end with their index (corpus::space_id).
    let space = (e.space.as_uuid().as_u128() & 0xFFFF) as usize;
    let mut meta_text = String::new();
    let mut json = String::from("{");
    for (k, v) in &e.metadata {
        if json.len() > 1 {
            json.push(',');
        }
        json.push_str(&format!("\"{k}\":"));
        match v {
            MetaValue::Text(t) => {
                meta_text.push_str(t);
                meta_text.push(' ');
                json.push_str(&json_string(t));
            }
            MetaValue::Number(x) => json.push_str(&format!("{x}")),
            MetaValue::Date(d) => json.push_str(&json_string(&d.to_string())),
        }
    }
    json.push('}');
    meta_text.push_str(&e.folder_path);
    let fields = [
        i.to_string(),
        space.to_string(),
        e.doc_type.clone().unwrap_or_else(|| "\\N".into()),
        e.name.clone(),
        e.folder_path.clone(),
        meta_text,
        json,
        format!("{} {}+00", e.modified.date(), e.modified.time()),
    ];
    for (n, f) in fields.iter().enumerate() {
        if n == 2 && e.doc_type.is_none() {
            out.extend_from_slice(b"\\N");
        } else {
            escape(out, f);
        }
        out.push(b'\t');
    }
    // The text the extractor would keep (its cap), as tantivy gets.
    let cap = passerelle_extract::Limits::default().max_text;
    let mut end = e.text.len().min(cap);
    while !e.text.is_char_boundary(end) {
        end -= 1;
    }
    escape(out, &e.text[..end]);
    out.push(b'\n');
}

fn escape(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0 => {}
            b => out.push(b),
        }
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
