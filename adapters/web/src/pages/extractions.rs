//! The administrators' list of contents whose text could not be
//! extracted (internal node), with a button to try each one again.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use passerelle_core::model::Page;
use passerelle_core::{ContentHash, CoreError};
use passerelle_http_common::AppState;

use super::auth::CsrfForm;
use super::view;
use crate::ctx::{PageCtx, Web, WebError, back_with_error, render, see_other};

/// Problems shown at once: a list longer than this is a pattern to fix at
/// its source (a format, a limit), not row by row.
const SHOWN: u64 = 200;

/// A document holding a content: `(id, name)`.
#[derive(Debug)]
struct Holder {
    id: String,
    name: String,
}

#[derive(Debug)]
struct ProblemRow {
    hash: String,
    status: String,
    reason: String,
    attempts: u32,
    next_try: String,
    documents: Vec<Holder>,
}

#[derive(Template)]
#[template(path = "extractions.html")]
struct ExtractionsPage {
    p: PageCtx,
    problems: Vec<ProblemRow>,
}

/// `GET /admin/extractions` (administrators; others get the refusal the
/// other administration pages give, from core).
pub async fn extractions(State(st): State<AppState>, web: Web) -> Result<Response, WebError> {
    let t = web.t();
    let page = st
        .search
        .extraction_problems(&web.actor, Page::new(0, SHOWN))
        .await?;
    let problems = page
        .items
        .into_iter()
        .map(|pb| ProblemRow {
            hash: pb.record.hash.to_string(),
            // The status alone: the reason and next try have their columns.
            status: t
                .s(view::extraction_key(pb.record.status))
                .replace(" ({reason})", ""),
            reason: pb.record.reason,
            attempts: pb.record.attempts,
            next_try: pb.record.next_try.map(view::date).unwrap_or_default(),
            documents: pb
                .documents
                .into_iter()
                .map(|(id, _, name)| Holder {
                    id: id.to_string(),
                    name,
                })
                .collect(),
        })
        .collect();
    Ok(render(&ExtractionsPage {
        p: web.page,
        problems,
    }))
}

/// `POST /admin/extractions/{hash}/retry`: tried again at the indexer's
/// next run; back to the list with a notice.
pub async fn retry(
    State(st): State<AppState>,
    web: Web,
    Path(hash): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&f.csrf)?;
    let hash: ContentHash = hash
        .parse()
        .map_err(|_| WebError::Core(CoreError::NotFound("page")))?;
    match st.search.retry_extraction(&web.actor, &hash).await {
        Ok(()) => Ok(see_other("/admin/extractions?ok=extraction_retried")),
        Err(e) => back_with_error("/admin/extractions", &e),
    }
}
