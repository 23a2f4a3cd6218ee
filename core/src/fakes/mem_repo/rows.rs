//! What the in-memory tables share: the error of a missing foreign key,
//! as the SQL engines report one, and a page of a list.

use std::fmt;

use crate::model::{Page, Paged};
use crate::ports::RepoError;

pub(super) fn missing(what: &str, id: impl fmt::Display) -> RepoError {
    RepoError::Storage(format!("foreign key violation: no {what} {id}").into())
}

pub(super) fn paged<T>(items: Vec<T>, page: Page) -> Paged<T> {
    let total = items.len() as u64;
    let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(page.limit).unwrap_or(usize::MAX);
    Paged {
        items: items.into_iter().skip(skip).take(take).collect(),
        total,
    }
}
