//! What a step the spec allows does to the model's state.

use crate::ids::{DocumentId, FolderId};

use super::super::ops::{EdgeKind, Got, Op};
use super::{Class, InvState, Life, MDoc, MFolder, MInvitation, Model, P, Share};

impl Model {
    /// Applies the effect of `op`, which ended as `got` (a success the
    /// model allowed: `Ok`, `Applied` or `Conflicted`). Ids, and the names
    /// of conflict copies, are the system's choice: the model adopts them.
    pub(in super::super) fn apply(&mut self, op: &Op, got: &Got) {
        match op {
            Op::Upload {
                by,
                space,
                folder,
                name,
            } => self.add_doc(MDoc {
                id: got.doc.expect("upload returns its document"),
                space: *space,
                folder: *folder,
                name: name.clone(),
                created_by: *by,
                version: 1,
                life: Life::Live,
            }),
            Op::CreateFolder {
                by,
                space,
                parent,
                name,
            } => self.add_folder(MFolder {
                id: got.folder.expect("create_folder returns its folder"),
                space: *space,
                parent: *parent,
                name: name.clone(),
                created_by: *by,
                life: Life::Live,
            }),
            Op::NewVersion { doc, .. } | Op::RestoreVersion { doc, .. } => {
                self.doc_mut(*doc).version += 1;
            }
            Op::ChangeMetadata { .. } => {}
            Op::RenameDoc { doc, name, .. } => self.doc_mut(*doc).name = name.clone(),
            Op::MoveDoc { doc, to, .. } => self.doc_mut(*doc).folder = *to,
            Op::DeleteDoc { doc, .. } => self.doc_mut(*doc).life = Life::Trashed(None),
            Op::RestoreDoc { doc, .. } => {
                let place = self.restore_place(self.doc(*doc).expect("known"));
                let d = self.doc_mut(*doc);
                d.folder = place;
                d.life = Life::Live;
            }
            Op::PurgeDoc { doc, .. } => self.doc_mut(*doc).life = Life::Purged,
            Op::RenameFolder { folder, name, .. } => self.folder_mut(*folder).name = name.clone(),
            Op::MoveFolder { folder, to, .. } => self.folder_mut(*folder).parent = *to,
            Op::DeleteFolder { folder, .. } => self.trash_folder(*folder),
            Op::RestoreFolder { folder, .. } => self.restore_folder(*folder),
            Op::PurgeFolder { folder, .. } => self.purge_folder(*folder),
            Op::SetMember {
                space, who, role, ..
            } => {
                self.spaces[*space].members.insert(*who, *role);
            }
            Op::RemoveMember { space, who, .. } => self.remove_member(*space, *who),
            Op::Invite {
                space, who, role, ..
            } => {
                if self.principals[*who].id.is_none() {
                    self.principals[*who].id = got.principal;
                }
                self.spaces[*space].members.insert(*who, *role);
                self.invitations.push(MInvitation {
                    id: got.invitation.expect("an invitation"),
                    space: *space,
                    contractor: *who,
                    state: InvState::Pending,
                });
            }
            Op::UpdateSpace { space, public, .. } => self.spaces[*space].public = *public,
            Op::RevokeInvitation { invitation, .. } => {
                if let Some(i) = self.invitations.iter_mut().find(|i| i.id == *invitation) {
                    i.state = InvState::Revoked;
                }
            }
            Op::Archive {
                space, archived, ..
            } => self.spaces[*space].archived = *archived,
            Op::Share { space, .. } => self.spaces[*space].share = Share::Shared,
            Op::Unshare { space, .. } => {
                if self.spaces[*space].share == Share::Shared {
                    self.spaces[*space].share = Share::Unsharing;
                }
            }
            Op::PurgeReceipt { space } => self.purge_receipt(*space),
            Op::Edge { by, space, kind } => self.apply_edge(*by, *space, kind, got),
            Op::CreateToken { .. } | Op::ContractorLogin { .. } | Op::SetPassword { .. } => {}
        }
    }

    fn trash_folder(&mut self, id: FolderId) {
        let (folders, docs) = self.live_subtree(id);
        let folders: Vec<FolderId> = folders.iter().map(|f| f.id).collect();
        let docs: Vec<DocumentId> = docs.iter().map(|d| d.id).collect();
        for f in folders {
            self.folder_mut(f).life = Life::Trashed((f != id).then_some(id));
        }
        for d in docs {
            self.doc_mut(d).life = Life::Trashed(Some(id));
        }
    }

    fn restore_folder(&mut self, id: FolderId) {
        let f = self.folder(id).expect("known");
        let place = f.parent.filter(|p| self.live_folder_in(*p, f.space));
        let f = self.folder_mut(id);
        f.parent = place;
        f.life = Life::Live;
        for f in &mut self.folders {
            if f.life == Life::Trashed(Some(id)) {
                f.life = Life::Live;
            }
        }
        for d in &mut self.docs {
            if d.life == Life::Trashed(Some(id)) {
                d.life = Life::Live;
            }
        }
    }

    fn purge_folder(&mut self, id: FolderId) {
        self.folder_mut(id).life = Life::Purged;
        for f in &mut self.folders {
            if f.life == Life::Trashed(Some(id)) {
                f.life = Life::Purged;
            }
        }
        for d in &mut self.docs {
            if d.life == Life::Trashed(Some(id)) {
                d.life = Life::Purged;
            }
        }
    }

    /// A member's removal revokes the contractor's links not used yet.
    fn remove_member(&mut self, s: usize, who: P) {
        self.spaces[s].members.remove(&who);
        for i in &mut self.invitations {
            if i.space == s && i.contractor == who && i.state == InvState::Pending {
                i.state = InvState::Revoked;
            }
        }
    }

    /// ADR 0002, 6: the receipt ends the un-share and every contractor's
    /// membership of the space, and revokes their unused invitations.
    fn purge_receipt(&mut self, s: usize) {
        if self.spaces[s].share != Share::Unsharing {
            return;
        }
        self.spaces[s].share = Share::Internal;
        let contractors: Vec<P> = self.spaces[s]
            .members
            .keys()
            .copied()
            .filter(|p| self.principals[*p].contractor)
            .collect();
        for c in contractors {
            self.remove_member(s, c);
        }
    }

    fn apply_edge(&mut self, by: P, s: usize, kind: &EdgeKind, got: &Got) {
        let copy = |m: &mut Model, folder: Option<FolderId>| {
            m.add_doc(MDoc {
                id: got.doc.expect("a conflict copy"),
                space: s,
                folder,
                name: got.doc_name.clone().expect("its name"),
                created_by: by,
                version: 1,
                life: Life::Live,
            });
        };
        let applied = got.class == Class::Applied;
        match kind {
            EdgeKind::NewDocument { folder, name } => {
                if applied {
                    self.add_doc(MDoc {
                        id: got.doc.expect("a document"),
                        space: s,
                        folder: *folder,
                        name: name.clone(),
                        created_by: by,
                        version: 1,
                        life: Life::Live,
                    });
                } else {
                    copy(self, *folder);
                }
            }
            EdgeKind::NewVersion { doc, .. } => {
                if applied {
                    self.doc_mut(*doc).version += 1;
                } else {
                    let folder = self.doc(*doc).expect("known").folder;
                    copy(self, folder);
                }
            }
            EdgeKind::Rename { doc, name } => self.doc_mut(*doc).name = name.clone(),
            EdgeKind::Move { doc, to } => self.doc_mut(*doc).folder = *to,
            EdgeKind::Delete { doc, .. } => {
                if applied {
                    self.doc_mut(*doc).life = Life::Trashed(None);
                }
            }
            EdgeKind::NewFolder {
                folder,
                parent,
                name,
            } => self.add_folder(MFolder {
                id: *folder,
                space: s,
                parent: *parent,
                name: name.clone(),
                created_by: by,
                life: Life::Live,
            }),
            EdgeKind::Accept { invitation } => {
                if let Some(i) = self.invitations.iter_mut().find(|i| i.id == *invitation)
                    && i.state == InvState::Pending
                {
                    i.state = InvState::Accepted;
                }
            }
        }
    }
}
