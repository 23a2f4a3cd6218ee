//! The steps the generator plays, what a real call returned (`Got`), the
//! seeded random source, and how a step is written in the failure log.

use uuid::Uuid;

use crate::ids::{DocumentId, FolderId, PrincipalId};

use super::reference::{Class, MRole, Model, P};

/// The principals of every run, by index: an administrator, five agents
/// who take roles in the spaces, an agent who never becomes a member, and
/// two contractors (who exist once invited).
pub(super) const ADMIN: P = 0;
pub(super) const OUTSIDER: P = 6;
pub(super) const CONTRACTORS: [P; 2] = [7, 8];

/// A contractor's operation as the edge queues it (ids of the internal
/// node's things; a stale `base` now and then).
#[derive(Clone, Debug)]
pub(super) enum EdgeKind {
    NewDocument {
        folder: Option<FolderId>,
        name: String,
    },
    NewVersion {
        doc: DocumentId,
        base: u32,
    },
    Rename {
        doc: DocumentId,
        name: String,
    },
    Move {
        doc: DocumentId,
        to: Option<FolderId>,
    },
    Delete {
        doc: DocumentId,
        base: u32,
    },
    NewFolder {
        folder: FolderId,
        parent: Option<FolderId>,
        name: String,
    },
    Accept {
        invitation: Uuid,
    },
}

/// One step. Targets are concrete ids, so the log can be read back.
#[derive(Clone, Debug)]
pub(super) enum Op {
    Upload {
        by: P,
        space: usize,
        folder: Option<FolderId>,
        name: String,
    },
    NewVersion {
        by: P,
        doc: DocumentId,
    },
    ChangeMetadata {
        by: P,
        doc: DocumentId,
    },
    RenameDoc {
        by: P,
        doc: DocumentId,
        name: String,
    },
    MoveDoc {
        by: P,
        doc: DocumentId,
        to: Option<FolderId>,
    },
    DeleteDoc {
        by: P,
        doc: DocumentId,
    },
    RestoreDoc {
        by: P,
        doc: DocumentId,
    },
    PurgeDoc {
        by: P,
        doc: DocumentId,
    },
    /// Makes version `number` current again (a new version; an edit).
    RestoreVersion {
        by: P,
        doc: DocumentId,
        number: u32,
    },
    CreateFolder {
        by: P,
        space: usize,
        parent: Option<FolderId>,
        name: String,
    },
    RenameFolder {
        by: P,
        folder: FolderId,
        name: String,
    },
    MoveFolder {
        by: P,
        folder: FolderId,
        to: Option<FolderId>,
    },
    DeleteFolder {
        by: P,
        folder: FolderId,
    },
    RestoreFolder {
        by: P,
        folder: FolderId,
    },
    PurgeFolder {
        by: P,
        folder: FolderId,
    },
    SetMember {
        by: P,
        space: usize,
        who: P,
        role: MRole,
    },
    RemoveMember {
        by: P,
        space: usize,
        who: P,
    },
    Invite {
        by: P,
        space: usize,
        who: P,
        role: MRole,
    },
    /// Makes a space public or private.
    UpdateSpace {
        by: P,
        space: usize,
        public: bool,
    },
    Archive {
        by: P,
        space: usize,
        archived: bool,
    },
    RevokeInvitation {
        by: P,
        invitation: Uuid,
    },
    Share {
        by: P,
        space: usize,
    },
    Unshare {
        by: P,
        space: usize,
    },
    /// The edge's receipt of an un-share purge (the replication driver).
    PurgeReceipt {
        space: usize,
    },
    /// A contractor's operation coming up from the edge.
    Edge {
        by: P,
        space: usize,
        kind: EdgeKind,
    },
    /// `for_: None`: a login that does not exist.
    CreateToken {
        by: P,
        for_: Option<P>,
    },
    ContractorLogin {
        who: P,
    },
    /// Setting a contractor's password on the internal node.
    SetPassword {
        by: P,
        who: P,
    },
}

impl Op {
    /// Whether the step is one of the ways an archived `space` may still
    /// change (ADR 0002, 4): unarchive, and un-share with its receipt.
    pub(super) fn is_way_out(&self, space: usize) -> bool {
        match self {
            Op::Archive {
                space: s,
                archived: false,
                ..
            }
            | Op::Unshare { space: s, .. }
            | Op::PurgeReceipt { space: s } => *s == space,
            _ => false,
        }
    }
}

/// What the real call returned, reduced to what the model needs.
#[derive(Clone, Debug)]
pub(super) struct Got {
    pub class: Class,
    /// The error, as the caller sees it (`Debug`), for the log.
    pub error: Option<String>,
    pub doc: Option<DocumentId>,
    /// The name the system chose (conflict copies).
    pub doc_name: Option<String>,
    pub folder: Option<FolderId>,
    pub principal: Option<PrincipalId>,
    pub invitation: Option<Uuid>,
    /// A rule the call broke that its class does not show (an edge
    /// operation not recorded as it must be…): its kind and message.
    pub broken: Option<(&'static str, String)>,
}

impl Got {
    pub(super) fn new(class: Class) -> Self {
        Self {
            class,
            error: None,
            doc: None,
            doc_name: None,
            folder: None,
            principal: None,
            invitation: None,
            broken: None,
        }
    }
}

/// splitmix64: tiny, seeded, and the same on every platform and version.
#[derive(Clone, Debug)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub(super) fn pick<T: Clone>(&mut self, xs: &[T]) -> Option<T> {
        (!xs.is_empty()).then(|| xs[self.below(xs.len())].clone())
    }
}

/// What the model knows of the step's actor and space, for a failure's
/// message: the actor's role there, and the space's flags.
pub(super) fn situation(op: &Op, m: &Model) -> String {
    let doc_space = |d: &DocumentId| m.doc(*d).map(|d| d.space);
    let folder_space = |f: &FolderId| m.folder(*f).map(|f| f.space);
    let (by, space) = match op {
        Op::Upload { by, space, .. }
        | Op::CreateFolder { by, space, .. }
        | Op::SetMember { by, space, .. }
        | Op::RemoveMember { by, space, .. }
        | Op::Invite { by, space, .. }
        | Op::UpdateSpace { by, space, .. }
        | Op::Archive { by, space, .. }
        | Op::Share { by, space }
        | Op::Unshare { by, space }
        | Op::Edge { by, space, .. } => (Some(*by), Some(*space)),
        Op::NewVersion { by, doc }
        | Op::ChangeMetadata { by, doc }
        | Op::RestoreVersion { by, doc, .. }
        | Op::RenameDoc { by, doc, .. }
        | Op::MoveDoc { by, doc, .. }
        | Op::DeleteDoc { by, doc }
        | Op::RestoreDoc { by, doc }
        | Op::PurgeDoc { by, doc } => (Some(*by), doc_space(doc)),
        Op::RenameFolder { by, folder, .. }
        | Op::MoveFolder { by, folder, .. }
        | Op::DeleteFolder { by, folder }
        | Op::RestoreFolder { by, folder }
        | Op::PurgeFolder { by, folder } => (Some(*by), folder_space(folder)),
        Op::RevokeInvitation { by, invitation } => (
            Some(*by),
            m.invitations
                .iter()
                .find(|i| i.id == *invitation)
                .map(|i| i.space),
        ),
        Op::PurgeReceipt { space } => (None, Some(*space)),
        Op::CreateToken { by, .. } | Op::SetPassword { by, .. } => (Some(*by), None),
        Op::ContractorLogin { who } => (Some(*who), None),
    };
    let Some(s) = space else {
        return String::new();
    };
    let sp = &m.spaces[s];
    let role = match (by, op) {
        // An edge operation acts with the contractor's membership only.
        (Some(p), Op::Edge { .. }) => sp.members.get(&p).copied(),
        (Some(p), _) => m.role(p, s),
        (None, _) => None,
    };
    format!(
        " (model: s{s} archived={} share={:?} public={}; actor's role there: {role:?})",
        sp.archived, sp.share, sp.public
    )
}

/// A step as the failure log shows it: principals by login, spaces as
/// `s0`…, documents and folders by creation order (`d3`, `f1`; `d?` for
/// an id the run never created).
pub(super) fn describe(op: &Op, m: &Model) -> String {
    let p = |x: &P| m.principals[*x].login.clone();
    let d = |x: &DocumentId| {
        m.docs
            .iter()
            .position(|y| y.id == *x)
            .map_or("d?".to_owned(), |i| format!("d{i}"))
    };
    let f = |x: &FolderId| {
        m.folders
            .iter()
            .position(|y| y.id == *x)
            .map_or("f?".to_owned(), |i| format!("f{i}"))
    };
    let place = |x: &Option<FolderId>| x.as_ref().map_or("root".to_owned(), f);
    match op {
        Op::Upload {
            by,
            space,
            folder,
            name,
        } => format!("{} upload s{space}/{} {name:?}", p(by), place(folder)),
        Op::NewVersion { by, doc } => format!("{} new_version {}", p(by), d(doc)),
        Op::ChangeMetadata { by, doc } => format!("{} update_metadata {}", p(by), d(doc)),
        Op::RestoreVersion { by, doc, number } => {
            format!("{} restore_version {} v{number}", p(by), d(doc))
        }
        Op::RenameDoc { by, doc, name } => format!("{} rename {} {name:?}", p(by), d(doc)),
        Op::MoveDoc { by, doc, to } => format!("{} move {} -> {}", p(by), d(doc), place(to)),
        Op::DeleteDoc { by, doc } => format!("{} delete {}", p(by), d(doc)),
        Op::RestoreDoc { by, doc } => format!("{} restore {}", p(by), d(doc)),
        Op::PurgeDoc { by, doc } => format!("{} purge {}", p(by), d(doc)),
        Op::CreateFolder {
            by,
            space,
            parent,
            name,
        } => format!(
            "{} create_folder s{space}/{} {name:?}",
            p(by),
            place(parent)
        ),
        Op::RenameFolder { by, folder, name } => {
            format!("{} rename_folder {} {name:?}", p(by), f(folder))
        }
        Op::MoveFolder { by, folder, to } => {
            format!("{} move_folder {} -> {}", p(by), f(folder), place(to))
        }
        Op::DeleteFolder { by, folder } => format!("{} delete_folder {}", p(by), f(folder)),
        Op::RestoreFolder { by, folder } => format!("{} restore_folder {}", p(by), f(folder)),
        Op::PurgeFolder { by, folder } => format!("{} purge_folder {}", p(by), f(folder)),
        Op::SetMember {
            by,
            space,
            who,
            role,
        } => format!("{} set_member s{space} {} {role:?}", p(by), p(who)),
        Op::RemoveMember { by, space, who } => {
            format!("{} remove_member s{space} {}", p(by), p(who))
        }
        Op::Invite {
            by,
            space,
            who,
            role,
        } => format!("{} invite s{space} {} {role:?}", p(by), p(who)),
        Op::UpdateSpace { by, space, public } => {
            format!("{} update_space s{space} public={public}", p(by))
        }
        Op::Archive {
            by,
            space,
            archived,
        } => format!("{} set_archived s{space} {archived}", p(by)),
        Op::RevokeInvitation { by, invitation } => {
            let known = m.invitations.iter().position(|i| i.id == *invitation);
            format!("{} revoke invitation {known:?}", p(by))
        }
        Op::Share { by, space } => format!("{} share s{space}", p(by)),
        Op::Unshare { by, space } => format!("{} unshare s{space}", p(by)),
        Op::PurgeReceipt { space } => format!("edge-1 purge receipt s{space}"),
        Op::Edge { by, space, kind } => {
            let what = match kind {
                EdgeKind::NewDocument { folder, name } => {
                    format!("new_document {}/{name:?}", place(folder))
                }
                EdgeKind::NewVersion { doc, base } => format!("new_version {} base {base}", d(doc)),
                EdgeKind::Rename { doc, name } => format!("rename {} {name:?}", d(doc)),
                EdgeKind::Move { doc, to } => format!("move {} -> {}", d(doc), place(to)),
                EdgeKind::Delete { doc, base } => format!("delete {} base {base}", d(doc)),
                EdgeKind::NewFolder { parent, name, .. } => {
                    format!("new_folder {}/{name:?}", place(parent))
                }
                EdgeKind::Accept { invitation } => {
                    let known = m.invitations.iter().position(|i| i.id == *invitation);
                    format!("accept invitation {known:?}")
                }
            };
            format!("edge-1: {} s{space} {what}", p(by))
        }
        Op::CreateToken { by, for_ } => format!(
            "{} create_token for {}",
            p(by),
            for_.as_ref().map_or("ghost".to_owned(), p)
        ),
        Op::ContractorLogin { who } => format!("{} login on the internal node", p(who)),
        Op::SetPassword { by, who } => format!("{} set_password {}", p(by), p(who)),
    }
}
