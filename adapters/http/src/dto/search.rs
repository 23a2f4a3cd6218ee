//! Search: the query string of `GET /search`, its hits and facets, and
//! extraction statuses.

use passerelle_core::search::ExtractionRecord;
use passerelle_core::service::{ExtractionProblem, Facet, FacetsView, Found, SearchPage};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::DocumentSummaryDto;

/// The query string of `GET /search`. Besides these, `meta.<key>=<value>`
/// filters on a metadata field, the value as in a field query
/// (`meta.fournisseur=BTP Rhône`, `meta.montant_ttc=[10000 TO 20000]`,
/// `meta.date_emission=>=2026-01-01`).
#[derive(Debug, Clone, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; they are read from the raw pairs.
pub struct SearchQueryDoc {
    /// What to find: words, `"a phrase"`, `prefix*`, `field:value`,
    /// `field:[a TO b]`, `field:>=v`, `AND`, `OR`, `-word`, parentheses.
    /// Fields: `nom`, `type`, `auteur`, `espace`, `dossier`, `commentaire`,
    /// `contenu`, `modifie`, and the document types' metadata keys.
    q: Option<String>,
    /// Only this space (a space id).
    space: Option<Uuid>,
    /// Only this document type (its key).
    #[param(rename = "type")]
    doc_type: Option<String>,
    /// Only documents whose current version is by this principal (an id).
    author: Option<Uuid>,
    /// Only this folder and the folders below it (a folder id).
    folder: Option<Uuid>,
    /// Changed on or after this day (`YYYY-MM-DD`).
    modified_after: Option<String>,
    /// Changed on or before this day (`YYYY-MM-DD`).
    modified_before: Option<String>,
    /// Changed during this year (`YYYY`), as the year facet gives it:
    /// `modified_after` and `modified_before` its first and last day.
    year: Option<u16>,
    /// `relevance` (default), `date` (newest first) or `name`.
    sort: Option<String>,
    /// Hits per page, 1 to 100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `true`: search the trash of the spaces one manages.
    trash: Option<bool>,
}

/// The space a hit is in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitSpaceDto {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
}

/// A folder on a hit's path.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitFolderDto {
    pub id: Uuid,
    pub name: String,
}

/// One document found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHitDto {
    pub document: DocumentSummaryDto,
    pub space: HitSpaceDto,
    /// From the root down to the document's folder.
    pub folders: Vec<HitFolderDto>,
    /// The folders' names joined by ` / ` (empty at the root).
    pub folder_path: String,
    pub media_type: String,
    pub size: u64,
    /// When the current version was made, and by whom.
    #[serde(with = "time::serde::rfc3339")]
    pub modified: OffsetDateTime,
    pub author_name: String,
    /// A passage that matched, as HTML: the text escaped, the matched
    /// words in `<mark>`. Empty when no words were searched.
    pub snippet_html: String,
    pub score: f32,
    /// What extraction made of the content: `ok`, `empty`, `too_large`,
    /// `encrypted`, `unsupported`, `failed`, `timeout`; `null` if not tried yet.
    pub extraction: Option<&'static str>,
}

impl From<&Found> for SearchHitDto {
    fn from(f: &Found) -> Self {
        Self {
            document: (&f.document).into(),
            space: HitSpaceDto {
                id: f.space.id.as_uuid(),
                slug: f.space.slug.as_str().to_owned(),
                title: f.space.title.clone(),
            },
            folders: f
                .folders
                .iter()
                .map(|x| HitFolderDto {
                    id: x.id.as_uuid(),
                    name: x.name.to_string(),
                })
                .collect(),
            folder_path: f
                .folders
                .iter()
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join(" / "),
            media_type: f.version.media_type.clone(),
            size: f.version.size,
            modified: f.version.created_at,
            author_name: f.author_name.clone(),
            snippet_html: f.snippet.to_html(),
            score: f.score,
            extraction: f.extraction.map(|s| s.as_str()),
        }
    }
}

/// A facet's value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetDto {
    /// As the filter takes it (type key, space or principal id, year).
    pub value: String,
    pub label: String,
    pub count: u64,
}

fn facets(v: &[Facet]) -> Vec<FacetDto> {
    v.iter()
        .map(|f| FacetDto {
            value: f.value.clone(),
            label: f.label.clone(),
            count: f.count,
        })
        .collect()
}

/// Counts of all the hits by type, space, author and year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetsDto {
    #[serde(rename = "type")]
    pub types: Vec<FacetDto>,
    pub space: Vec<FacetDto>,
    pub author: Vec<FacetDto>,
    pub year: Vec<FacetDto>,
}

impl From<&FacetsView> for FacetsDto {
    fn from(f: &FacetsView) -> Self {
        Self {
            types: facets(&f.types),
            space: facets(&f.spaces),
            author: facets(&f.authors),
            year: facets(&f.years),
        }
    }
}

/// A page of hits.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResultsDto {
    /// Every document found (all pages).
    pub total: u64,
    pub hits: Vec<SearchHitDto>,
    pub facets: FacetsDto,
    /// Pass it as `cursor` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl From<&SearchPage> for SearchResultsDto {
    fn from(p: &SearchPage) -> Self {
        Self {
            total: p.total,
            hits: p.hits.iter().map(Into::into).collect(),
            facets: (&p.facets).into(),
            next_cursor: p.next_offset.map(|o| o.to_string()),
        }
    }
}

/// What extraction made of a content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExtractionDto {
    /// The content hash (BLAKE3, hex).
    pub hash: String,
    /// `ok`, `empty`, `too_large`, `encrypted`, `unsupported`, `failed`, `timeout`.
    pub status: &'static str,
    /// Why, for people.
    pub reason: String,
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub tried_at: OffsetDateTime,
    /// When it is tried again (`failed` and `timeout` only).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_try: Option<OffsetDateTime>,
}

impl From<&ExtractionRecord> for ExtractionDto {
    fn from(r: &ExtractionRecord) -> Self {
        Self {
            hash: r.hash.to_hex(),
            status: r.status.as_str(),
            reason: r.reason.clone(),
            attempts: r.attempts,
            tried_at: r.tried_at,
            next_try: r.next_try,
        }
    }
}

/// A document holding a content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HolderDto {
    pub id: Uuid,
    pub space: Uuid,
    pub name: String,
}

/// A content that gave no text, and who holds it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExtractionProblemDto {
    pub extraction: ExtractionDto,
    pub documents: Vec<HolderDto>,
}

impl From<&ExtractionProblem> for ExtractionProblemDto {
    fn from(p: &ExtractionProblem) -> Self {
        Self {
            extraction: (&p.record).into(),
            documents: p
                .documents
                .iter()
                .map(|(id, space, name)| HolderDto {
                    id: id.as_uuid(),
                    space: space.as_uuid(),
                    name: name.clone(),
                })
                .collect(),
        }
    }
}
