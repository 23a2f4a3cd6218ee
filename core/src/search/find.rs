//! What a search finds, once core has read the catalogue: the [`Query`] a
//! user typed, with every field name resolved to what it means (a built-in
//! field, a document type's metadata field and its kind) and every range
//! bound typed. Engines behind [`super::SearchIndex`] execute a [`Find`]
//! and never interpret a field name themselves, so `type:facture` or
//! `montant_ttc:[10000 TO 20000]` mean the same on every engine.
//!
//! [`Query`]: super::Query

use std::ops::Bound;

use time::Date;

use crate::ids::{FolderId, PrincipalId, SpaceId};

/// Where analysed words are looked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Within {
    /// Name, metadata text, version comment, folder path and content.
    Anywhere,
    /// The document's name.
    Name,
    /// The current version's comment.
    Comment,
    /// The current version's extracted text.
    Content,
    /// The names of the folders the document sits in.
    FolderPath,
    /// The space's name.
    SpaceName,
    /// The author's display name and login.
    Author,
    /// A text (or enumerated) metadata field, by key.
    Meta(String),
}

/// A value matched exactly, never analysed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Exact {
    /// Documents of this type key.
    Type(String),
    Space(SpaceId),
    /// Documents whose current version is by this principal.
    Author(PrincipalId),
    /// Documents in this folder or any folder below it.
    Folder(FolderId),
}

/// A field that holds dates.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DateField {
    /// When the document last changed (its current version).
    Modified,
    /// A metadata field of kind date, by key.
    Meta(String),
}

/// A resolved search: what an engine executes.
#[derive(Clone, Debug, PartialEq)]
pub enum Find {
    /// Every document in scope.
    All,
    /// No document (a clause that cannot match: a date range on a field
    /// whose bounds are not dates, a type that does not exist).
    Nothing,
    /// One word, analysed as the field's text is.
    Word {
        within: Within,
        text: String,
    },
    /// Words next to each other, in this order, analysed.
    Phrase {
        within: Within,
        words: Vec<String>,
    },
    /// Words starting with `text` (analysed as a word, unstemmed).
    Prefix {
        within: Within,
        text: String,
    },
    Is(Exact),
    Dates {
        field: DateField,
        lower: Bound<Date>,
        upper: Bound<Date>,
    },
    /// A metadata field of kind integer or decimal, by key.
    Numbers {
        key: String,
        lower: Bound<f64>,
        upper: Bound<f64>,
    },
    /// Every part (at least one not a `Not`, or `All` among them).
    And(Vec<Find>),
    /// Any part.
    Or(Vec<Find>),
    /// Documents the inner clause does not match (only inside `And`).
    Not(Box<Find>),
}
