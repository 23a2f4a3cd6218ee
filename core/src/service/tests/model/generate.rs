//! The generator: seeded, and reading only the model's state, so that a
//! seed replays the same steps as long as the model and the use cases agree.

use uuid::Uuid;

use crate::ids::{DocumentId, FolderId};

use super::ops::{ADMIN, CONTRACTORS, EdgeKind, OUTSIDER, Op, Rng};
use super::reference::{InvState, Life, MRole, Model, P, Share};

/// Every agent, the outsider included.
const AGENTS: [P; 7] = [0, 1, 2, 3, 4, 5, 6];
/// Agents who may be given roles.
const CANDIDATES: [P; 6] = [0, 1, 2, 3, 4, 5];

/// Few names, so that they collide (case-insensitively too).
const NAMES: [&str; 10] = [
    "a.txt", "A.TXT", "b.txt", "Plan.pdf", "plan.PDF", "notes", "Notes", "CCTP.odt", "2026",
    "Lot 1",
];

/// What to generate, and how often (weights).
#[derive(Clone, Copy, Debug)]
enum Kind {
    Upload,
    NewVersion,
    ChangeMetadata,
    RestoreVersion,
    RenameDoc,
    MoveDoc,
    DeleteDoc,
    RestoreDoc,
    PurgeDoc,
    CreateFolder,
    RenameFolder,
    MoveFolder,
    DeleteFolder,
    RestoreFolder,
    PurgeFolder,
    SetMember,
    RemoveMember,
    Invite,
    RevokeInvitation,
    UpdateSpace,
    Archive,
    Share,
    Unshare,
    PurgeReceipt,
    Edge,
    CreateToken,
    ContractorLogin,
    SetPassword,
}

const WEIGHTS: [(Kind, u32); 28] = [
    (Kind::Upload, 12),
    (Kind::NewVersion, 4),
    (Kind::ChangeMetadata, 2),
    (Kind::RestoreVersion, 2),
    (Kind::RenameDoc, 4),
    (Kind::MoveDoc, 4),
    (Kind::DeleteDoc, 7),
    (Kind::RestoreDoc, 4),
    (Kind::PurgeDoc, 3),
    (Kind::CreateFolder, 9),
    (Kind::RenameFolder, 3),
    (Kind::MoveFolder, 4),
    (Kind::DeleteFolder, 7),
    (Kind::RestoreFolder, 3),
    (Kind::PurgeFolder, 3),
    (Kind::SetMember, 9),
    (Kind::RemoveMember, 4),
    (Kind::Invite, 6),
    (Kind::RevokeInvitation, 2),
    (Kind::UpdateSpace, 2),
    (Kind::Archive, 2),
    (Kind::Share, 3),
    (Kind::Unshare, 2),
    (Kind::PurgeReceipt, 8),
    (Kind::Edge, 14),
    (Kind::CreateToken, 3),
    (Kind::ContractorLogin, 1),
    (Kind::SetPassword, 1),
];

/// The next step, from the model's state (never from the real one's, so a
/// seed replays the same steps as long as the two agree).
pub(super) fn generate(rng: &mut Rng, m: &Model) -> Op {
    let total: u32 = WEIGHTS.iter().map(|(_, w)| w).sum();
    loop {
        let mut x = (rng.next_u64() % u64::from(total)) as u32;
        let kind = WEIGHTS
            .iter()
            .find(|(_, w)| {
                if x < *w {
                    true
                } else {
                    x -= w;
                    false
                }
            })
            .map(|(k, _)| *k)
            .unwrap_or(Kind::Upload);
        if let Some(op) = (Gen { rng, m }).op(kind) {
            return op;
        }
    }
}

struct Gen<'a> {
    rng: &'a mut Rng,
    m: &'a Model,
}

impl Gen<'_> {
    fn op(&mut self, kind: Kind) -> Option<Op> {
        Some(match kind {
            Kind::Upload => {
                let space = self.space();
                Op::Upload {
                    by: self.actor(space),
                    space,
                    folder: self.place(space),
                    name: self.name(),
                }
            }
            Kind::CreateFolder => {
                let space = self.space();
                Op::CreateFolder {
                    by: self.actor(space),
                    space,
                    parent: self.place(space),
                    name: self.name(),
                }
            }
            Kind::NewVersion => {
                let (by, doc) = self.doc_and_actor(false);
                Op::NewVersion { by, doc }
            }
            Kind::ChangeMetadata => {
                let (by, doc) = self.doc_and_actor(false);
                Op::ChangeMetadata { by, doc }
            }
            Kind::RestoreVersion => {
                let (by, doc) = self.doc_and_actor(false);
                let version = self.m.doc(doc).map_or(1, |d| d.version);
                let number = match self.rng.below(10) {
                    0..=6 => 1,
                    7 | 8 => 1 + self.rng.below(version as usize) as u32,
                    _ => version + 5,
                };
                Op::RestoreVersion { by, doc, number }
            }
            Kind::RenameDoc => {
                let (by, doc) = self.doc_and_actor(false);
                Op::RenameDoc {
                    by,
                    doc,
                    name: self.name(),
                }
            }
            Kind::MoveDoc => {
                let (by, doc) = self.doc_and_actor(false);
                let space = self.m.doc(doc).map_or(0, |d| d.space);
                Op::MoveDoc {
                    by,
                    doc,
                    to: self.place(space),
                }
            }
            Kind::DeleteDoc => {
                let (by, doc) = self.doc_and_actor(false);
                Op::DeleteDoc { by, doc }
            }
            Kind::RestoreDoc => {
                let (by, doc) = self.doc_and_actor(true);
                Op::RestoreDoc { by, doc }
            }
            Kind::PurgeDoc => {
                let (by, doc) = self.doc_and_actor(true);
                Op::PurgeDoc { by, doc }
            }
            Kind::RenameFolder => {
                let (by, folder) = self.folder_and_actor(false);
                Op::RenameFolder {
                    by,
                    folder,
                    name: self.name(),
                }
            }
            Kind::MoveFolder => {
                let (by, folder) = self.folder_and_actor(false);
                let space = self.m.folder(folder).map_or(0, |f| f.space);
                Op::MoveFolder {
                    by,
                    folder,
                    to: self.place(space),
                }
            }
            Kind::DeleteFolder => {
                let (by, folder) = self.folder_and_actor(false);
                Op::DeleteFolder { by, folder }
            }
            Kind::RestoreFolder => {
                let (by, folder) = self.folder_and_actor(true);
                Op::RestoreFolder { by, folder }
            }
            Kind::PurgeFolder => {
                let (by, folder) = self.folder_and_actor(true);
                Op::PurgeFolder { by, folder }
            }
            Kind::SetMember => self.set_member()?,
            Kind::RemoveMember => {
                let space = self.space();
                let members: Vec<P> = self.m.spaces[space].members.keys().copied().collect();
                let who = match self.rng.pick(&members) {
                    Some(p) if self.rng.chance(85) => p,
                    _ => self.rng.below(9),
                };
                Op::RemoveMember {
                    by: self.actor(space),
                    space,
                    who,
                }
            }
            Kind::RevokeInvitation => {
                let known: Vec<(Uuid, usize)> =
                    self.m.invitations.iter().map(|i| (i.id, i.space)).collect();
                let (invitation, space) = match self.rng.pick(&known) {
                    Some(x) if self.rng.chance(90) => x,
                    _ => (Uuid::now_v7(), self.space()),
                };
                Op::RevokeInvitation {
                    by: self.actor(space),
                    invitation,
                }
            }
            Kind::UpdateSpace => {
                let space = self.space();
                Op::UpdateSpace {
                    by: self.actor(space),
                    space,
                    public: !self.m.spaces[space].public ^ self.rng.chance(15),
                }
            }
            Kind::Invite => {
                let space = self.shared_space();
                let role = if self.rng.chance(15) {
                    MRole::Manager
                } else {
                    self.rng.pick(&MRole::ALL[1..])?
                };
                Op::Invite {
                    by: self.actor(space),
                    space,
                    who: self.rng.pick(&CONTRACTORS)?,
                    role,
                }
            }
            Kind::Archive => {
                let space = self.space();
                let archived = if self.m.spaces[space].archived {
                    self.rng.chance(20)
                } else {
                    self.rng.chance(85)
                };
                Op::Archive {
                    by: self.actor(space),
                    space,
                    archived,
                }
            }
            Kind::Share => {
                let space = self.space();
                Op::Share {
                    by: self.actor(space),
                    space,
                }
            }
            Kind::Unshare => {
                let space = self.space();
                Op::Unshare {
                    by: self.actor(space),
                    space,
                }
            }
            Kind::PurgeReceipt => {
                let waiting: Vec<usize> = (0..self.m.spaces.len())
                    .filter(|s| self.m.spaces[*s].share == Share::Unsharing)
                    .collect();
                Op::PurgeReceipt {
                    space: self.rng.pick(&waiting)?,
                }
            }
            Kind::Edge => self.edge()?,
            Kind::CreateToken => {
                let by = match self.rng.pick(&CONTRACTORS) {
                    Some(c) if self.rng.chance(10) && self.m.principals[c].id.is_some() => c,
                    _ => self.rng.pick(&AGENTS)?,
                };
                let for_ = match self.rng.below(20) {
                    0..=7 => Some(by),
                    8..=16 => Some(self.rng.below(9)),
                    _ => None,
                };
                Op::CreateToken { by, for_ }
            }
            Kind::ContractorLogin => Op::ContractorLogin {
                who: self.rng.pick(&CONTRACTORS)?,
            },
            Kind::SetPassword => {
                let who = self.rng.pick(&CONTRACTORS)?;
                let by = if self.m.principals[who].id.is_some() && self.rng.chance(40) {
                    who
                } else {
                    ADMIN
                };
                Op::SetPassword { by, who }
            }
        })
    }

    fn space(&mut self) -> usize {
        self.rng.below(self.m.spaces.len())
    }

    /// Mostly a shared space, where contractors may be (any if none is).
    fn shared_space(&mut self) -> usize {
        let shared: Vec<usize> = (0..self.m.spaces.len())
            .filter(|s| self.m.spaces[*s].share == Share::Shared)
            .collect();
        match self.rng.pick(&shared) {
            Some(s) if self.rng.chance(75) => s,
            _ => self.space(),
        }
    }

    fn name(&mut self) -> String {
        NAMES[self.rng.below(NAMES.len())].to_owned()
    }

    /// Mostly someone with a role in the space (so that steps succeed
    /// often enough to build state), else any agent, the outsider included.
    fn actor(&mut self, space: usize) -> P {
        let members: Vec<P> = self.m.spaces[space]
            .members
            .keys()
            .copied()
            .filter(|p| !self.m.principals[*p].contractor)
            .collect();
        match self.rng.below(100) {
            0..=59 => self.rng.pick(&members).unwrap_or(ADMIN),
            60..=66 => ADMIN,
            _ => self.rng.pick(&AGENTS).unwrap_or(OUTSIDER),
        }
    }

    /// The root, a live folder of the space, or now and then a folder that
    /// is not one (trashed, of another space, or unknown).
    fn place(&mut self, space: usize) -> Option<FolderId> {
        let live: Vec<FolderId> = self
            .m
            .folders
            .iter()
            .filter(|f| f.space == space && f.life == Life::Live)
            .map(|f| f.id)
            .collect();
        match self.rng.below(100) {
            0..=44 => None,
            45..=91 => self.rng.pick(&live),
            92..=96 => self.rng.pick(&self.m.folders).map(|f| f.id),
            _ => Some(FolderId::new()),
        }
    }

    /// A document (a live one, or one in the trash) and who acts on it;
    /// now and then an id that does not exist.
    fn doc_and_actor(&mut self, trashed: bool) -> (P, DocumentId) {
        let wanted: Vec<(DocumentId, usize)> = self
            .m
            .docs
            .iter()
            .filter(|d| {
                if trashed {
                    matches!(d.life, Life::Trashed(_))
                } else {
                    d.life == Life::Live
                }
            })
            .map(|d| (d.id, d.space))
            .collect();
        let any: Vec<(DocumentId, usize)> = self.m.docs.iter().map(|d| (d.id, d.space)).collect();
        let chosen = match self.rng.below(100) {
            0..=87 => self.rng.pick(&wanted),
            88..=95 => self.rng.pick(&any),
            _ => None,
        };
        match chosen {
            Some((d, s)) => (self.actor(s), d),
            None => {
                let s = self.space();
                (self.actor(s), DocumentId::new())
            }
        }
    }

    fn folder_and_actor(&mut self, trashed: bool) -> (P, FolderId) {
        let wanted: Vec<(FolderId, usize)> = self
            .m
            .folders
            .iter()
            .filter(|f| {
                if trashed {
                    matches!(f.life, Life::Trashed(_))
                } else {
                    f.life == Life::Live
                }
            })
            .map(|f| (f.id, f.space))
            .collect();
        let any: Vec<(FolderId, usize)> = self.m.folders.iter().map(|f| (f.id, f.space)).collect();
        let chosen = match self.rng.below(100) {
            0..=87 => self.rng.pick(&wanted),
            88..=95 => self.rng.pick(&any),
            _ => None,
        };
        match chosen {
            Some((f, s)) => (self.actor(s), f),
            None => {
                let s = self.space();
                (self.actor(s), FolderId::new())
            }
        }
    }

    fn set_member(&mut self) -> Option<Op> {
        let (space, who) = if self.rng.chance(25) {
            (self.shared_space(), self.rng.pick(&CONTRACTORS)?)
        } else {
            (self.space(), self.rng.pick(&CANDIDATES)?)
        };
        let role = if self.m.principals[who].contractor && self.rng.chance(30) {
            MRole::Manager
        } else {
            self.rng.pick(&MRole::ALL)?
        };
        Some(Op::SetMember {
            by: self.actor(space),
            space,
            who,
            role,
        })
    }

    /// A contractor's operation, mostly in a space where they are a member
    /// and on its documents, with a stale base version now and then.
    fn edge(&mut self) -> Option<Op> {
        let existing: Vec<P> = CONTRACTORS
            .iter()
            .copied()
            .filter(|c| self.m.principals[*c].id.is_some())
            .collect();
        let by = self.rng.pick(&existing)?;
        let theirs: Vec<usize> = (0..self.m.spaces.len())
            .filter(|s| self.m.spaces[*s].members.contains_key(&by))
            .collect();
        let space = match self.rng.pick(&theirs) {
            Some(s) if self.rng.chance(85) => s,
            _ => self.space(),
        };
        let docs: Vec<(DocumentId, u32)> = self
            .m
            .docs
            .iter()
            .filter(|d| d.life == Life::Live && (d.space == space || self.rng.chance(5)))
            .map(|d| (d.id, d.version))
            .collect();
        let (doc, version) = self
            .rng
            .pick(&docs)
            .unwrap_or_else(|| (DocumentId::new(), 1));
        let base = if self.rng.chance(25) {
            version.saturating_sub(1).max(1)
        } else {
            version
        };
        let kind = match self.rng.below(100) {
            0..=29 => EdgeKind::NewDocument {
                folder: self.place(space),
                name: self.name(),
            },
            30..=44 => EdgeKind::NewVersion { doc, base },
            45..=54 => EdgeKind::Rename {
                doc,
                name: self.name(),
            },
            55..=64 => EdgeKind::Move {
                doc,
                to: self.place(space),
            },
            65..=76 => EdgeKind::Delete { doc, base },
            77..=91 => EdgeKind::NewFolder {
                folder: FolderId::new(),
                parent: self.place(space),
                name: self.name(),
            },
            _ => {
                let mine: Vec<Uuid> = self
                    .m
                    .invitations
                    .iter()
                    .filter(|i| i.contractor == by && i.state != InvState::Revoked)
                    .map(|i| i.id)
                    .collect();
                EdgeKind::Accept {
                    invitation: self.rng.pick(&mine).unwrap_or_else(Uuid::now_v7),
                }
            }
        };
        Some(Op::Edge { by, space, kind })
    }
}
