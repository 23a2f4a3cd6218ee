//! Check-out and check-in: a check-out is core's lock on the document
//! (the one WebDAV and the pages show), its working copy the document
//! itself as its holder sees it; `checkIn` adds the posted content as the
//! next version, applies the posted properties, then releases the lock.

use axum::response::Response;
use passerelle_core::CoreError;
use passerelle_core::service::NewVersion;
use passerelle_http_common::multipart::streamed;

use super::edits::apply_edits;
use super::{created, done, latest, upload_error};
use crate::ctx::Ctx;
use crate::error::{CmisError, CmisResult};
use crate::form::Form;
use crate::ids::{ObjectId, Which};
use crate::reads::Doc;

/// `checkOut`: the document locked for the caller (core's check-out, the
/// one WebDAV and the pages show), answered as its working copy.
pub(super) async fn check_out(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    let d = latest(id)?;
    let doc = Doc::load(ctx, d).await?;
    if doc.checked_out.is_some() {
        return Err(CmisError::versioning("the document is checked out already"));
    }
    ctx.cmis
        .locks
        .check_out(&ctx.actor, d, None, Some("CMIS".into()))
        .await?;
    let doc = Doc::load(ctx, d).await?;
    created(doc.render(ctx, Which::WorkingCopy).await?)
}

/// The document whose check-out the caller holds, or `versioning`.
async fn held(ctx: &Ctx, id: ObjectId) -> CmisResult<Doc> {
    let d = latest(id)?;
    let doc = Doc::load(ctx, d).await?;
    if !doc.mine() {
        return Err(CmisError::versioning(
            "the document is not checked out by you",
        ));
    }
    Ok(doc)
}

pub(super) async fn cancel_check_out(ctx: &Ctx, id: ObjectId) -> CmisResult<Response> {
    let doc = held(ctx, id).await?;
    ctx.cmis
        .locks
        .check_in(&ctx.actor, doc.view.document.id)
        .await?;
    done()
}

/// `checkIn`: the working copy's new content becomes the next version,
/// its properties are applied, then the check-out ends. A failure leaves
/// the check-out held, so the client may try again.
pub(super) async fn check_in(ctx: &Ctx, id: ObjectId, form: Form) -> CmisResult<Response> {
    let doc = held(ctx, id).await?;
    let d = doc.view.document.id;
    let comment = form.get("checkincomment").unwrap_or_default().to_owned();
    apply_edits(ctx, &doc, &form).await?;
    if let Some(field) = form.content {
        let new = NewVersion {
            media_type: field.content_type().map(ToString::to_string),
            comment,
        };
        let app = &ctx.cmis.app;
        streamed(field, |content| {
            app.new_version(&ctx.actor, d, new, content)
        })
        .await
        .map_err(upload_error)?;
    }
    match ctx.cmis.locks.check_in(&ctx.actor, d).await {
        // Expired meanwhile: nothing left to release.
        Ok(()) | Err(CoreError::NotFound("lock")) => {}
        Err(e) => return Err(e.into()),
    }
    let doc = Doc::load(ctx, d).await?;
    created(doc.render(ctx, Which::Latest).await?)
}
