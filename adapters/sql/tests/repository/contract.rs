//! The contract of core's `Repository` port: what every implementation
//! (in-memory fake, SQLite, PostgreSQL) must do alike. Each check takes a
//! fresh, empty repository.

mod accounts;
mod audit;
mod content;
mod extractions;
mod flows;
mod links;
mod lock_mirror;
mod locks;
mod notify;
mod properties;
mod replication;
mod spaces;
mod transactions;

pub use accounts::*;
pub use audit::*;
pub use content::*;
pub use extractions::*;
pub use flows::*;
pub use links::*;
pub use lock_mirror::*;
pub use locks::*;
pub use notify::*;
pub use properties::*;
pub use replication::*;
pub use spaces::*;
pub use transactions::*;

use passerelle_core::ContentHash;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId};
use passerelle_core::model::{
    Document, Folder, Membership, Principal, PrincipalKind, Space, Trashed, Version, Visibility,
};
use passerelle_core::names::{DocumentName, Login, Slug};
use passerelle_core::ports::{RepoError, Repository, Tx, TxMode};
use passerelle_core::replication::Invitation;
use passerelle_core::role::Role;
use serde_json::Map;
use time::OffsetDateTime;

pub type Outcome = anyhow::Result<()>;

/// A time with nanoseconds, so that any truncation shows.
pub const T0: i128 = 1_764_000_000_123_456_789;

pub fn at(nanos: i128) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("a valid test time")
}

pub fn name(raw: &str) -> DocumentName {
    DocumentName::parse(raw).expect("a valid test name")
}

pub fn agent(login: &str) -> Principal {
    Principal {
        id: PrincipalId::new(),
        login: Login::parse(login).expect("a valid test login"),
        display_name: format!("Agent {login}"),
        email: format!("{login}@metropole.example"),
        kind: PrincipalKind::Agent,
        is_admin: false,
        disabled: false,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into()),
        source: passerelle_core::model::AccountSource::Local,
        second_factor_reset: None,
        organisation: None,
        created_at: at(T0),
        revision: Revision(1),
    }
}

pub fn space(slug: &str, title: &str, by: PrincipalId) -> Space {
    Space {
        id: SpaceId::new(),
        slug: Slug::parse(slug).expect("a valid test slug"),
        title: title.into(),
        description: format!("Espace {title}"),
        domain: "Urbanisme".into(),
        visibility: Visibility::Private,
        edge: None,
        archived: false,
        created_by: by,
        created_at: at(T0 + 1),
        revision: Revision(2),
    }
}

pub fn member(space: &Space, principal: &Principal, role: Role) -> Membership {
    Membership::granted(space.id, principal.id, role, Revision(3))
}

pub fn folder(space: &Space, parent: Option<&Folder>, raw_name: &str) -> Folder {
    Folder {
        id: FolderId::new(),
        space: space.id,
        parent: parent.map(|p| p.id),
        name: name(raw_name),
        created_by: space.created_by,
        created_at: at(T0 + 2),
        trashed: None,
        purged: false,
        revision: Revision(4),
    }
}

pub fn document(space: &Space, folder: Option<&Folder>, raw_name: &str) -> Document {
    Document {
        id: DocumentId::new(),
        space: space.id,
        folder: folder.map(|f| f.id),
        name: name(raw_name),
        doc_type: None,
        metadata: Map::new(),
        current_version: 1,
        created_by: space.created_by,
        created_at: at(T0 + 3),
        updated_at: at(T0 + 4),
        trashed: None,
        purged: false,
        revision: Revision(5),
    }
}

pub fn version(doc: &Document, number: u32, content: &str) -> Version {
    Version {
        document: doc.id,
        number,
        hash: ContentHash::of(content.as_bytes()),
        size: content.len() as u64,
        media_type: "application/pdf".into(),
        author: doc.created_by,
        comment: format!("version {number}"),
        created_at: at(T0 + 5 + i128::from(number)),
        revision: Revision(6),
    }
}

pub fn trashed(by: PrincipalId, with_folder: Option<FolderId>) -> Option<Trashed> {
    Some(Trashed {
        at: at(T0 + 99),
        by,
        with_folder,
    })
}

/// A row to seed; see [`save`].
#[derive(Clone)]
pub enum Row {
    Principal(Principal),
    Space(Space),
    Membership(Membership),
    Folder(Folder),
    Document(Document),
    Version(Version),
    Invitation(Invitation),
}

macro_rules! row_from {
    ($($variant:ident),*) => {$(
        impl From<&$variant> for Row {
            fn from(v: &$variant) -> Row {
                Row::$variant(v.clone())
            }
        }
    )*};
}
row_from!(
    Principal, Space, Membership, Folder, Document, Version, Invitation
);

/// Saves `rows` in order, in one committed write transaction.
pub async fn save(repo: &dyn Repository, rows: impl IntoIterator<Item = Row>) -> Outcome {
    let mut tx = repo.begin(TxMode::Write).await?;
    for row in rows {
        match row {
            Row::Principal(p) => tx.save_principal(&p).await?,
            Row::Space(s) => tx.save_space(&s).await?,
            Row::Membership(m) => tx.save_membership(&m).await?,
            Row::Folder(f) => tx.save_folder(&f).await?,
            Row::Document(d) => tx.save_document(&d).await?,
            Row::Version(v) => tx.save_version(&v).await?,
            Row::Invitation(i) => tx.save_invitation(&i).await?,
        }
    }
    tx.commit().await?;
    Ok(())
}

/// An agent and a space it created, saved.
pub async fn seed_space(repo: &dyn Repository, slug: &str) -> anyhow::Result<(Principal, Space)> {
    let p = agent(&format!("owner-{slug}"));
    let s = space(slug, slug, p.id);
    save(repo, [Row::from(&p), Row::from(&s)]).await?;
    Ok((p, s))
}

pub async fn read(repo: &dyn Repository) -> anyhow::Result<Box<dyn Tx>> {
    Ok(repo.begin(TxMode::Read).await?)
}

pub async fn write(repo: &dyn Repository) -> anyhow::Result<Box<dyn Tx>> {
    Ok(repo.begin(TxMode::Write).await?)
}

pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T, RepoError>, what: &str) {
    assert!(
        matches!(result, Err(RepoError::Conflict(_))),
        "{what}: expected Conflict, got {result:?}"
    );
}

pub fn assert_storage<T: std::fmt::Debug>(result: Result<T, RepoError>, what: &str) {
    assert!(
        matches!(result, Err(RepoError::Storage(_))),
        "{what}: expected Storage, got {result:?}"
    );
}
