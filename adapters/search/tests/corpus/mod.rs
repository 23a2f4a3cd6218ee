//! The generated corpus shared by the relevance test and the search bench
//! (issue 14): deterministic French-like documents of public
//! administration in 80 spaces, typed with the default catalogue, with a
//! realistic size mix (most 2–50 KB of text, ~2 % PDFs, ~0.5 % of
//! 1–3 MB), and the planted documents of the labelled queries
//! (`tests/relevance/queries.toml`). Document `i` is generated from the
//! seed and `i` alone, so that a corpus of 100,000 documents is streamed
//! twice (tantivy, then PostgreSQL) without being held in memory.

#![allow(dead_code)] // Each of the two users reads part of it.

pub mod labelled;
pub mod pdf;
pub mod words;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use time::{Date, Duration, OffsetDateTime, Time};

use passerelle_core::doctype::{DocumentType, FieldKind, default_catalogue};
use passerelle_core::hash::ContentHash;
use passerelle_core::ids::{DocumentId, PrincipalId, SpaceId};
use passerelle_core::search::{IndexedDocument, MetaValue};

pub use labelled::Labelled;

/// Spaces of the corpus.
pub const SPACES: usize = 80;
/// Seed of every corpus (the figures of a run can be compared).
pub const SEED: u64 = 0x5EA2_C0DE_2026;

/// What a document's content is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Pdf,
}

/// One generated document: its entry (the text given, as after an
/// extraction) and its content's bytes as uploaded.
#[derive(Clone, Debug)]
pub struct GenDoc {
    /// `bg-<i>` for background documents, the planted key otherwise.
    pub key: String,
    pub kind: Kind,
    pub entry: IndexedDocument,
    pub content: Vec<u8>,
}

/// The corpus: `planted` documents first, then `background` ones.
#[derive(Debug)]
pub struct Corpus {
    background: usize,
    types: Vec<DocumentType>,
    spaces: Vec<(SpaceId, String)>,
    pub labelled: Labelled,
}

const SERVICES: &[&str] = &[
    "Voirie",
    "Finances",
    "Commande publique",
    "Eau et assainissement",
    "Sports",
    "Mobilités",
    "Assemblées",
    "Urbanisme",
    "Propreté",
    "Bâtiments",
];

impl Corpus {
    /// A corpus of the planted documents and `background` generated ones.
    pub fn new(background: usize) -> Self {
        let spaces = (0..SPACES)
            .map(|s| {
                let name = format!(
                    "{} {}",
                    SERVICES[s % SERVICES.len()],
                    s / SERVICES.len() + 1
                );
                (space_id(s), name)
            })
            .collect();
        Self {
            background,
            types: default_catalogue(),
            spaces,
            labelled: Labelled::load(),
        }
    }

    pub fn len(&self) -> usize {
        self.labelled.docs.len() + self.background
    }

    pub fn types(&self) -> &[DocumentType] {
        &self.types
    }

    /// Every space's id, by index.
    pub fn space_ids(&self) -> Vec<SpaceId> {
        self.spaces.iter().map(|(id, _)| *id).collect()
    }

    /// The id document `i` gets.
    pub fn id(i: usize) -> DocumentId {
        DocumentId::from_uuid(uuid::Uuid::from_u128(
            0xD0C5_0000_0000_0000_0000_0000_0000_0000 | i as u128,
        ))
    }

    /// Document `i` (planted ones first).
    pub fn doc(&self, i: usize) -> GenDoc {
        let planted = self.labelled.docs.len();
        if i < planted {
            self.planted(i)
        } else {
            self.background(i, i - planted)
        }
    }

    fn planted(&self, i: usize) -> GenDoc {
        let p = &self.labelled.docs[i];
        let mut rng = StdRng::seed_from_u64(SEED ^ 0xF1A7 ^ i as u64);
        let mut text = p.text.trim().to_owned();
        text.push_str("\n\n");
        // Some administrative filler, but no topic word: the planted words
        // are what the document is about.
        text.push_str(&prose(&mut rng, &[words::COMMON], 600));
        let doc_type = p.doc_type.clone();
        let metadata = self.typed_meta(doc_type.as_deref(), &p.meta);
        let modified = at(p.date, &mut rng);
        let kind = if p.pdf { Kind::Pdf } else { Kind::Text };
        self.assemble(Parts {
            i,
            key: p.key.clone(),
            space: p.space % SPACES,
            folder_path: p.folder.clone(),
            name: p.name.clone(),
            doc_type,
            metadata,
            modified,
            text,
            kind,
            rng: &mut rng,
        })
    }

    fn background(&self, i: usize, n: usize) -> GenDoc {
        let mut rng = StdRng::seed_from_u64(
            SEED.wrapping_add((n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        );
        let space = rng.random_range(0..SPACES);
        let t1 = rng.random_range(0..words::TOPICS.len());
        let t2 = rng.random_range(0..words::TOPICS.len());
        let year = rng.random_range(2015..=2024);
        let day = Date::from_ordinal_date(year, rng.random_range(1..=365)).unwrap_or(Date::MIN);
        // Most documents typed, a third not (scans, notes, spreadsheets).
        let doc_type = (rng.random_bool(0.67))
            .then(|| self.types.choose(&mut rng).map(|t| t.key.clone()))
            .flatten();
        let metadata = self.generated_meta(doc_type.as_deref(), &mut rng, year, t1);
        let subject = words::TOPICS[t1]
            .choose_multiple(&mut rng, 3)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let label = doc_type
            .as_deref()
            .and_then(|k| self.types.iter().find(|t| t.key == k))
            .map_or("Note", |t| t.label.as_str());
        let commune = words::COMMUNES.choose(&mut rng).copied().unwrap_or("Lyon");
        let name = format!("{label} {subject} {commune} {year}-{:04}", n % 10_000);
        let r: f64 = rng.random();
        let (kind, bytes) = if r < 0.005 {
            (Kind::Text, rng.random_range(1_000_000..3_000_000))
        } else if r < 0.025 {
            (Kind::Pdf, log_uniform(&mut rng, 2_000.0, 50_000.0))
        } else if r < 0.125 {
            (Kind::Text, rng.random_range(500..2_000))
        } else {
            (Kind::Text, log_uniform(&mut rng, 2_000.0, 50_000.0))
        };
        let text = prose(&mut rng, &[words::TOPICS[t1], words::TOPICS[t2]], bytes);
        let folder_path = format!("{year} / {}", capitalised(words::TOPICS[t1][0]));
        let modified = at(day, &mut rng);
        self.assemble(Parts {
            i,
            key: format!("bg-{n}"),
            space,
            folder_path,
            name,
            doc_type,
            metadata,
            modified,
            text,
            kind,
            rng: &mut rng,
        })
    }

    fn assemble(&self, p: Parts<'_>) -> GenDoc {
        let people = words::PEOPLE;
        let author = p.rng.random_range(0..people.len());
        let (content, media_type, ext) = match p.kind {
            Kind::Text => (p.text.clone().into_bytes(), "text/plain", "txt"),
            Kind::Pdf => (pdf::render(&p.text), "application/pdf", "pdf"),
        };
        let (space, space_name) = self.spaces[p.space].clone();
        let entry = IndexedDocument {
            id: Self::id(p.i),
            space,
            space_name,
            folder: None,
            folder_ancestry: Vec::new(),
            folder_path: p.folder_path,
            name: format!("{}.{ext}", p.name),
            doc_type: p.doc_type,
            metadata: p.metadata,
            author: PrincipalId::from_uuid(uuid::Uuid::from_u128(0xA7 << 64 | author as u128)),
            author_name: format!("{} {}", people[author], people[author].to_lowercase()),
            modified: p.modified,
            comment: String::new(),
            media_type: media_type.to_owned(),
            size: content.len() as u64,
            hash: ContentHash::of(&content),
            text: p.text,
            trashed: false,
        };
        GenDoc {
            key: p.key,
            kind: p.kind,
            entry,
            content,
        }
    }

    /// The planted metadata, typed by the catalogue.
    fn typed_meta(
        &self,
        doc_type: Option<&str>,
        meta: &[(String, String)],
    ) -> Vec<(String, MetaValue)> {
        let fields = doc_type
            .and_then(|k| self.types.iter().find(|t| t.key == k))
            .map(|t| t.fields.as_slice())
            .unwrap_or_default();
        meta.iter()
            .map(|(k, v)| {
                let kind = fields.iter().find(|f| &f.key == k).map(|f| &f.kind);
                let value = match kind {
                    Some(FieldKind::Integer | FieldKind::Decimal) => MetaValue::Number(
                        v.replace([' ', '\u{202f}'], "")
                            .replace(',', ".")
                            .parse()
                            .unwrap_or(0.0),
                    ),
                    Some(FieldKind::Date) => MetaValue::Date(labelled::date(v)),
                    _ => MetaValue::Text(v.clone()),
                };
                (k.clone(), value)
            })
            .collect()
    }

    /// Metadata for a background document of `doc_type`.
    fn generated_meta(
        &self,
        doc_type: Option<&str>,
        rng: &mut StdRng,
        year: i32,
        topic: usize,
    ) -> Vec<(String, MetaValue)> {
        let Some(t) = doc_type.and_then(|k| self.types.iter().find(|t| t.key == k)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for f in &t.fields {
            let value = match &f.kind {
                FieldKind::Date => {
                    let d = Date::from_ordinal_date(year, rng.random_range(1..=365))
                        .unwrap_or(Date::MIN);
                    MetaValue::Date(d)
                }
                // Amounts avoid 10,000–20,000 €: that range is the planted
                // invoices' (the labelled `montant_ttc:[10000 TO 20000]`).
                FieldKind::Decimal => {
                    let cents: u64 = if rng.random_bool(0.6) {
                        rng.random_range(5_000..1_000_000)
                    } else {
                        rng.random_range(2_000_001..50_000_000)
                    };
                    MetaValue::Number(cents as f64 / 100.0)
                }
                FieldKind::Integer if f.key == "exercice" => MetaValue::Number(f64::from(year)),
                FieldKind::Integer => MetaValue::Number(f64::from(rng.random_range(1..9))),
                FieldKind::Enum { values } => {
                    MetaValue::Text(values.choose(rng).cloned().unwrap_or_default())
                }
                FieldKind::Boolean => {
                    MetaValue::Text(if rng.random_bool(0.5) { "oui" } else { "non" }.to_owned())
                }
                FieldKind::Text => MetaValue::Text(text_field(&f.key, rng, year, topic)),
            };
            out.push((f.key.clone(), value));
        }
        out
    }
}

/// The fields of a document being assembled.
struct Parts<'a> {
    i: usize,
    key: String,
    space: usize,
    folder_path: String,
    name: String,
    doc_type: Option<String>,
    metadata: Vec<(String, MetaValue)>,
    modified: OffsetDateTime,
    text: String,
    kind: Kind,
    rng: &'a mut StdRng,
}

pub fn space_id(s: usize) -> SpaceId {
    SpaceId::from_uuid(uuid::Uuid::from_u128(
        0x5BAC_E000_0000_0000_0000_0000_0000_0000 | s as u128,
    ))
}

fn text_field(key: &str, rng: &mut StdRng, year: i32, topic: usize) -> String {
    let pick = |rng: &mut StdRng, list: &[&str]| list.choose(rng).copied().unwrap_or("").to_owned();
    match key {
        "fournisseur" | "tiers" => pick(rng, words::SUPPLIERS),
        "signataire" | "participants" => pick(rng, words::PEOPLE),
        "correspondant" => pick(rng, words::COMMUNES),
        "siret" => format!(
            "{:014}",
            rng.random_range(10_000_000_000_000u64..99_999_999_999_999)
        ),
        "objet" => {
            let w: Vec<&str> = words::TOPICS[topic]
                .choose_multiple(rng, 4)
                .copied()
                .collect();
            capitalised(&w.join(" "))
        }
        _ => format!("{year}-{:05}", rng.random_range(0..100_000)),
    }
}

/// A time of `day`, in working hours.
fn at(day: Date, rng: &mut StdRng) -> OffsetDateTime {
    let time = Time::from_hms(rng.random_range(8..19), rng.random_range(0..60), 0)
        .unwrap_or(Time::MIDNIGHT);
    day.with_time(time).assume_utc() + Duration::ZERO
}

fn log_uniform(rng: &mut StdRng, lo: f64, hi: f64) -> usize {
    let x: f64 = rng.random();
    (lo * (hi / lo).powf(x)) as usize
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// About `bytes` of French-looking prose: sentences of filler, common
/// words, the topics' words (the first one most), communes, people and
/// numbers (years 2015–2024 only: 2025 and 2026 are the planted ones').
pub fn prose(rng: &mut StdRng, topics: &[&[&str]], bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 64);
    let mut sentence = 0;
    while out.len() < bytes {
        let len = rng.random_range(8..22);
        let mut first = true;
        for _ in 0..len {
            let r: f64 = rng.random();
            let word: String = if r < 0.34 {
                words::FILLER
                    .choose(rng)
                    .copied()
                    .unwrap_or("de")
                    .to_owned()
            } else if r < 0.58 {
                words::COMMON
                    .choose(rng)
                    .copied()
                    .unwrap_or("service")
                    .to_owned()
            } else if r < 0.93 {
                let t = if topics.len() > 1 && rng.random_bool(0.3) {
                    topics[1]
                } else {
                    topics[0]
                };
                t.choose(rng).copied().unwrap_or("dossier").to_owned()
            } else if r < 0.96 {
                words::COMMUNES
                    .choose(rng)
                    .copied()
                    .unwrap_or("Lyon")
                    .to_owned()
            } else if r < 0.98 {
                words::PEOPLE
                    .choose(rng)
                    .copied()
                    .unwrap_or("Martin")
                    .to_owned()
            } else if r < 0.99 {
                rng.random_range(2015..=2024).to_string()
            } else {
                rng.random_range(1..10_000).to_string()
            };
            if first {
                out.push_str(&capitalised(&word));
                first = false;
            } else {
                out.push_str(&word);
            }
            if !word.ends_with('’') {
                out.push(' ');
            }
        }
        out.pop();
        out.push_str(". ");
        sentence += 1;
        if sentence % 7 == 0 {
            out.push_str("\n\n");
        }
    }
    out
}
