//! The reference model: DESIGN §2 and ADR 0002 written out a second time, on
//! small structs of its own, from the text and not from the use cases. It
//! never calls `Role::allows`, `Passerelle::access` or any other rule of
//! core: when it and the use cases disagree, one of the two misread the spec.
//!
//! Where the spec says "refused" without saying which refusal comes first
//! (a reader writing in an archived space: forbidden or `space_archived`?),
//! the model accepts every refusal that applies. What it never accepts is a
//! success where one applies, a refusal where none does, or anything but
//! "not found" for what the caller cannot see.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use crate::ids::{DocumentId, FolderId, PrincipalId, SpaceId};

mod effects;
mod expect;

/// A principal, as an index into [`Model::principals`].
pub(super) type P = usize;

/// A role in a space (the model's own, not `crate::role::Role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MRole {
    Manager,
    Collaborator,
    Contributor,
    Reader,
}

impl MRole {
    pub(super) const ALL: [MRole; 4] = [
        MRole::Manager,
        MRole::Collaborator,
        MRole::Contributor,
        MRole::Reader,
    ];
}

/// The columns of the table of DESIGN §2, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Right {
    Create = 1,
    EditOwn = 2,
    EditAny = 3,
    DeleteOwn = 4,
    DeleteAny = 5,
    Manage = 6,
}

/// DESIGN §2, row by row: read, create, edit own, edit any, delete own,
/// delete any, manage members & sharing (trash restore and purge too,
/// ADR 0002).
pub(super) fn may(role: MRole, right: Right) -> bool {
    let row: [bool; 7] = match role {
        MRole::Manager => [true, true, true, true, true, true, true],
        MRole::Collaborator => [true, true, true, true, true, false, false],
        MRole::Contributor => [true, true, true, false, true, false, false],
        MRole::Reader => [true, false, false, false, false, false, false],
    };
    row[right as usize]
}

fn edit(own: bool) -> Right {
    if own { Right::EditOwn } else { Right::EditAny }
}

fn delete(own: bool) -> Right {
    if own {
        Right::DeleteOwn
    } else {
        Right::DeleteAny
    }
}

#[derive(Clone, Debug)]
pub(super) struct MPrincipal {
    pub login: String,
    pub contractor: bool,
    pub admin: bool,
    /// `None` until the account exists (contractors: until invited).
    pub id: Option<PrincipalId>,
}

/// Where a space stands with the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Share {
    Internal,
    Shared,
    /// Un-shared, the edge's purge receipt not recorded yet: contractors'
    /// memberships are dormant, not gone (ADR 0002, 6).
    Unsharing,
}

#[derive(Clone, Debug)]
pub(super) struct MSpace {
    pub id: SpaceId,
    pub public: bool,
    pub archived: bool,
    pub share: Share,
    pub members: BTreeMap<P, MRole>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Life {
    Live,
    /// In the trash; `Some(f)`: went there with folder `f` (and comes back
    /// with it).
    Trashed(Option<FolderId>),
    Purged,
}

#[derive(Clone, Debug)]
pub(super) struct MFolder {
    pub id: FolderId,
    pub space: usize,
    pub parent: Option<FolderId>,
    pub name: String,
    pub created_by: P,
    pub life: Life,
}

#[derive(Clone, Debug)]
pub(super) struct MDoc {
    pub id: DocumentId,
    pub space: usize,
    pub folder: Option<FolderId>,
    pub name: String,
    pub created_by: P,
    pub version: u32,
    pub life: Life,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum InvState {
    Pending,
    Accepted,
    Revoked,
}

#[derive(Clone, Debug)]
pub(super) struct MInvitation {
    pub id: Uuid,
    pub space: usize,
    pub contractor: P,
    pub state: InvState,
}

/// How a call ended, at the granularity the spec speaks of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Class {
    Ok,
    NotFound,
    Forbidden,
    Conflict(&'static str),
    Invalid(&'static str),
    /// Unauthenticated or throttled: no session, no actor.
    Unauthenticated,
    /// Outcomes of an edge operation.
    Applied,
    Conflicted,
    Rejected,
    /// Anything else (an internal error, `Err` from `apply_edge_op`…).
    Other(String),
}

/// One outcome the spec allows.
#[derive(Clone, Debug)]
pub(super) enum Want {
    Is(Class),
    /// A refusal with this code, `Conflict` or `Invalid` (the ADR names the
    /// code, not the class).
    Code(&'static str),
    /// Any refusal a caller can be shown (not a success, not an internal error).
    Refused,
}

impl Want {
    pub(super) fn matches(&self, got: &Class) -> bool {
        match self {
            Want::Is(c) => c == got,
            Want::Code(k) => {
                matches!(got, Class::Conflict(c) | Class::Invalid(c) if c == k)
            }
            Want::Refused => matches!(
                got,
                Class::NotFound
                    | Class::Forbidden
                    | Class::Conflict(_)
                    | Class::Invalid(_)
                    | Class::Unauthenticated
            ),
        }
    }
}

/// The whole reference state.
#[derive(Clone, Debug, Default)]
pub(super) struct Model {
    pub principals: Vec<MPrincipal>,
    pub spaces: Vec<MSpace>,
    /// In creation order (the generator picks by index: reproducible).
    pub folders: Vec<MFolder>,
    pub docs: Vec<MDoc>,
    pub invitations: Vec<MInvitation>,
    folder_ix: HashMap<FolderId, usize>,
    doc_ix: HashMap<DocumentId, usize>,
}

impl Model {
    // ---- reading -------------------------------------------------------

    /// The role `p` acts with in space `s`, `None`: the space is invisible.
    /// ADR 0002: administrators act as managers everywhere; every agent
    /// reads a public space; contractors see only their spaces.
    pub(super) fn role(&self, p: P, s: usize) -> Option<MRole> {
        let who = &self.principals[p];
        let space = &self.spaces[s];
        if who.admin {
            return Some(MRole::Manager);
        }
        if let Some(r) = space.members.get(&p) {
            return Some(*r);
        }
        (space.public && !who.contractor).then_some(MRole::Reader)
    }

    pub(super) fn doc(&self, id: DocumentId) -> Option<&MDoc> {
        self.doc_ix.get(&id).map(|i| &self.docs[*i])
    }

    pub(super) fn folder(&self, id: FolderId) -> Option<&MFolder> {
        self.folder_ix.get(&id).map(|i| &self.folders[*i])
    }

    pub(super) fn doc_mut(&mut self, id: DocumentId) -> &mut MDoc {
        let i = self.doc_ix[&id];
        &mut self.docs[i]
    }

    pub(super) fn folder_mut(&mut self, id: FolderId) -> &mut MFolder {
        let i = self.folder_ix[&id];
        &mut self.folders[i]
    }

    pub(super) fn add_doc(&mut self, d: MDoc) {
        self.doc_ix.insert(d.id, self.docs.len());
        self.docs.push(d);
    }

    pub(super) fn add_folder(&mut self, f: MFolder) {
        self.folder_ix.insert(f.id, self.folders.len());
        self.folders.push(f);
    }

    fn live_folder_in(&self, f: FolderId, s: usize) -> bool {
        self.folder(f)
            .is_some_and(|f| f.space == s && f.life == Life::Live)
    }

    /// `None` (the root) or a live folder of `s`.
    fn place_ok(&self, f: Option<FolderId>, s: usize) -> bool {
        f.is_none_or(|f| self.live_folder_in(f, s))
    }

    /// Names are unique among the live folders and documents of a folder,
    /// case-insensitively (ADR 0002; the generator's names are ASCII).
    pub(super) fn name_free(
        &self,
        s: usize,
        parent: Option<FolderId>,
        name: &str,
        except: Option<Uuid>,
    ) -> bool {
        let key = name.to_lowercase();
        let clash_f = self.folders.iter().any(|f| {
            f.space == s
                && f.parent == parent
                && f.life == Life::Live
                && Some(f.id.as_uuid()) != except
                && f.name.to_lowercase() == key
        });
        let clash_d = self.docs.iter().any(|d| {
            d.space == s
                && d.folder == parent
                && d.life == Life::Live
                && Some(d.id.as_uuid()) != except
                && d.name.to_lowercase() == key
        });
        !clash_f && !clash_d
    }

    /// Whether `f` is `root` or below it (any life).
    fn under(&self, f: FolderId, root: FolderId) -> bool {
        let mut cursor = Some(f);
        let mut hops = 0;
        while let Some(c) = cursor {
            if c == root {
                return true;
            }
            hops += 1;
            if hops > self.folders.len() {
                return false;
            }
            cursor = self.folder(c).and_then(|x| x.parent);
        }
        false
    }

    /// Other agent managers of `s` than `leaving` (ADR 0002, 2).
    fn other_agent_manager(&self, s: usize, leaving: P) -> bool {
        self.spaces[s]
            .members
            .iter()
            .any(|(p, r)| *p != leaving && *r == MRole::Manager && !self.principals[*p].contractor)
    }

    fn exists(&self, p: P) -> bool {
        self.principals[p].id.is_some()
    }

    /// Where a restored document goes: its folder, or the root if that
    /// folder is not live any more.
    fn restore_place(&self, d: &MDoc) -> Option<FolderId> {
        d.folder.filter(|f| self.live_folder_in(*f, d.space))
    }

    /// The live folders and documents at or below `root`.
    fn live_subtree(&self, root: FolderId) -> (Vec<&MFolder>, Vec<&MDoc>) {
        let folders: Vec<&MFolder> = self
            .folders
            .iter()
            .filter(|f| f.life == Life::Live && self.under(f.id, root))
            .collect();
        let docs = self
            .docs
            .iter()
            .filter(|d| d.life == Life::Live && d.folder.is_some_and(|f| self.under(f, root)))
            .collect();
        (folders, docs)
    }
}
