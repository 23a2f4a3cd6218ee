//! What the spec allows for each step, in the current state.

use uuid::Uuid;

use crate::ids::{DocumentId, FolderId};

use super::super::ops::{EdgeKind, Op};
use super::{
    Class, InvState, Life, MDoc, MFolder, MRole, MSpace, Model, P, Right, Share, Want, delete,
    edit, may,
};

const ARCHIVED: Want = Want::Is(Class::Conflict("space_archived"));
const NAME_TAKEN: Want = Want::Is(Class::Conflict("name_taken"));

/// The refusals that apply to one call; none: it must succeed.
#[derive(Default)]
struct Refusals(Vec<Want>);

impl Refusals {
    fn unless(&mut self, ok: bool, w: Want) {
        if !ok {
            self.0.push(w);
        }
    }
    fn verdict(self) -> Vec<Want> {
        if self.0.is_empty() {
            vec![Want::Is(Class::Ok)]
        } else {
            self.0
        }
    }
}

fn not_found() -> Vec<Want> {
    vec![Want::Is(Class::NotFound)]
}

fn outcome(c: Class) -> Vec<Want> {
    vec![Want::Is(c)]
}

impl Model {
    /// The outcomes the spec allows for `op` in the current state.
    pub(in super::super) fn expect(&self, op: &Op) -> Vec<Want> {
        match op {
            Op::Upload {
                by,
                space,
                folder,
                name,
            }
            | Op::CreateFolder {
                by,
                space,
                parent: folder,
                name,
            } => self.expect_create(*by, *space, *folder, name),
            Op::NewVersion { by, doc } | Op::ChangeMetadata { by, doc } => {
                self.expect_doc_edit(*by, *doc, None)
            }
            Op::RenameDoc { by, doc, name } => {
                self.expect_doc_edit(*by, *doc, Some((None, name.as_str())))
            }
            Op::MoveDoc { by, doc, to } => {
                let name = self.doc(*doc).map(|d| d.name.clone()).unwrap_or_default();
                self.expect_doc_edit(*by, *doc, Some((Some(*to), name.as_str())))
            }
            Op::RestoreVersion { by, doc, number } => {
                self.expect_restore_version(*by, *doc, *number)
            }
            Op::DeleteDoc { by, doc } => self.expect_doc_delete(*by, *doc),
            Op::RestoreDoc { by, doc } | Op::PurgeDoc { by, doc } => {
                self.expect_doc_trash(*by, *doc, matches!(op, Op::RestoreDoc { .. }))
            }
            Op::RenameFolder { by, folder, name } => {
                self.expect_folder_edit(*by, *folder, None, name)
            }
            Op::MoveFolder { by, folder, to } => {
                let name = self
                    .folder(*folder)
                    .map(|f| f.name.clone())
                    .unwrap_or_default();
                self.expect_folder_edit(*by, *folder, Some(*to), &name)
            }
            Op::DeleteFolder { by, folder } => self.expect_folder_delete(*by, *folder),
            Op::RestoreFolder { by, folder } | Op::PurgeFolder { by, folder } => {
                self.expect_folder_trash(*by, *folder, matches!(op, Op::RestoreFolder { .. }))
            }
            Op::SetMember {
                by,
                space,
                who,
                role,
            } => self.expect_set_member(*by, *space, *who, *role),
            Op::RemoveMember { by, space, who } => self.expect_remove_member(*by, *space, *who),
            Op::Invite {
                by,
                space,
                who: _,
                role,
            } => self.expect_invite(*by, *space, *role),
            Op::UpdateSpace { by, space, .. } => {
                self.expect_space_admin(*by, *space, |s| s.archived.then(|| vec![ARCHIVED]))
            }
            Op::RevokeInvitation { by, invitation } => self.expect_revoke(*by, *invitation),
            Op::Archive {
                by,
                space,
                archived,
            } => self.expect_space_admin(*by, *space, |s| match (s.archived, *archived) {
                // Archiving again changes nothing: allowed, or refused.
                (true, true) => Some(vec![Want::Is(Class::Ok), ARCHIVED]),
                _ => None,
            }),
            Op::Share { by, space } => {
                self.expect_space_admin(*by, *space, |s| match (s.archived, s.share) {
                    (true, Share::Shared) => Some(vec![Want::Is(Class::Ok), ARCHIVED]),
                    (true, _) => Some(vec![ARCHIVED]),
                    _ => None,
                })
            }
            // Un-sharing stays possible in an archived space (ADR 0002, 4).
            Op::Unshare { by, space } => self.expect_space_admin(*by, *space, |_| None),
            Op::PurgeReceipt { .. } => outcome(Class::Ok),
            Op::Edge { by, space, kind } => self.expect_edge(*by, *space, kind),
            Op::CreateToken { by, for_ } => self.expect_token(*by, *for_),
            // ADR 0002, 5: never a session for a contractor here.
            Op::ContractorLogin { .. } => outcome(Class::Unauthenticated),
            Op::SetPassword { by: _, who } => {
                if self.exists(*who) {
                    vec![Want::Refused]
                } else {
                    not_found()
                }
            }
        }
    }

    fn expect_create(&self, by: P, s: usize, place: Option<FolderId>, name: &str) -> Vec<Want> {
        let Some(role) = self.role(by, s) else {
            return not_found();
        };
        let mut r = Refusals::default();
        r.unless(may(role, Right::Create), Want::Is(Class::Forbidden));
        r.unless(!self.spaces[s].archived, ARCHIVED);
        r.unless(self.place_ok(place, s), Want::Is(Class::NotFound));
        r.unless(
            !self.place_ok(place, s) || self.name_free(s, place, name, None),
            NAME_TAKEN,
        );
        r.verdict()
    }

    /// A live document the caller can see, and the caller's role.
    fn live_doc(&self, by: P, id: DocumentId) -> Option<(MRole, &MDoc)> {
        let d = self.doc(id).filter(|d| d.life == Life::Live)?;
        Some((self.role(by, d.space)?, d))
    }

    /// New version, metadata, rename (`to: None`) or move.
    fn expect_doc_edit(
        &self,
        by: P,
        id: DocumentId,
        rename: Option<(Option<Option<FolderId>>, &str)>,
    ) -> Vec<Want> {
        let Some((role, d)) = self.live_doc(by, id) else {
            return not_found();
        };
        let mut r = Refusals::default();
        r.unless(
            may(role, edit(d.created_by == by)),
            Want::Is(Class::Forbidden),
        );
        r.unless(!self.spaces[d.space].archived, ARCHIVED);
        if let Some((to, name)) = rename {
            let place = to.unwrap_or(d.folder);
            let ok = self.place_ok(place, d.space);
            r.unless(ok, Want::Is(Class::NotFound));
            r.unless(
                !ok || self.name_free(d.space, place, name, Some(id.as_uuid())),
                NAME_TAKEN,
            );
        }
        r.verdict()
    }

    /// Restoring a version is an edit (ADR 0002); every version is kept.
    fn expect_restore_version(&self, by: P, id: DocumentId, number: u32) -> Vec<Want> {
        let Some((role, d)) = self.live_doc(by, id) else {
            return not_found();
        };
        let mut r = Refusals::default();
        r.unless(
            may(role, edit(d.created_by == by)),
            Want::Is(Class::Forbidden),
        );
        r.unless(!self.spaces[d.space].archived, ARCHIVED);
        r.unless((1..=d.version).contains(&number), Want::Is(Class::NotFound));
        r.verdict()
    }

    fn expect_doc_delete(&self, by: P, id: DocumentId) -> Vec<Want> {
        let Some((role, d)) = self.live_doc(by, id) else {
            return not_found();
        };
        let mut r = Refusals::default();
        r.unless(
            may(role, delete(d.created_by == by)),
            Want::Is(Class::Forbidden),
        );
        r.unless(!self.spaces[d.space].archived, ARCHIVED);
        r.verdict()
    }

    fn expect_doc_trash(&self, by: P, id: DocumentId, restore: bool) -> Vec<Want> {
        let Some(d) = self.doc(id).filter(|d| matches!(d.life, Life::Trashed(_))) else {
            return not_found();
        };
        let Some(role) = self.role(by, d.space) else {
            return not_found();
        };
        let mut r = Refusals::default();
        r.unless(may(role, Right::Manage), Want::Is(Class::Forbidden));
        // Purge included (ADR 0002, 4).
        r.unless(!self.spaces[d.space].archived, ARCHIVED);
        if restore {
            let place = self.restore_place(d);
            r.unless(
                self.name_free(d.space, place, &d.name, Some(id.as_uuid())),
                NAME_TAKEN,
            );
        }
        r.verdict()
    }

    fn live_folder(&self, by: P, id: FolderId) -> Option<(MRole, &MFolder)> {
        let f = self.folder(id).filter(|f| f.life == Life::Live)?;
        Some((self.role(by, f.space)?, f))
    }

    fn expect_folder_edit(
        &self,
        by: P,
        id: FolderId,
        to: Option<Option<FolderId>>,
        name: &str,
    ) -> Vec<Want> {
        let Some((role, f)) = self.live_folder(by, id) else {
            return not_found();
        };
        let mut r = Refusals::default();
        r.unless(
            may(role, edit(f.created_by == by)),
            Want::Is(Class::Forbidden),
        );
        r.unless(!self.spaces[f.space].archived, ARCHIVED);
        let place = to.unwrap_or(f.parent);
        let ok = self.place_ok(place, f.space);
        r.unless(ok, Want::Is(Class::NotFound));
        let cycle = place.is_some_and(|p| self.under(p, id));
        r.unless(!cycle, Want::Is(Class::Conflict("folder_cycle")));
        r.unless(
            !ok || cycle || self.name_free(f.space, place, name, Some(id.as_uuid())),
            NAME_TAKEN,
        );
        r.verdict()
    }

    /// ADR 0002, 3: the cascade needs the right to delete every live thing
    /// in the subtree, one by one.
    fn expect_folder_delete(&self, by: P, id: FolderId) -> Vec<Want> {
        let Some((role, f)) = self.live_folder(by, id) else {
            return not_found();
        };
        let (folders, docs) = self.live_subtree(id);
        let each = folders
            .iter()
            .map(|x| x.created_by)
            .chain(docs.iter().map(|x| x.created_by))
            .all(|owner| may(role, delete(owner == by)));
        let mut r = Refusals::default();
        r.unless(each, Want::Is(Class::Forbidden));
        r.unless(!self.spaces[f.space].archived, ARCHIVED);
        r.verdict()
    }

    /// Restore and purge address the folder that went to the trash itself,
    /// not what went with it.
    fn expect_folder_trash(&self, by: P, id: FolderId, restore: bool) -> Vec<Want> {
        let Some(f) = self.folder(id).filter(|f| f.life == Life::Trashed(None)) else {
            return not_found();
        };
        let Some(role) = self.role(by, f.space) else {
            return not_found();
        };
        let mut r = Refusals::default();
        r.unless(may(role, Right::Manage), Want::Is(Class::Forbidden));
        r.unless(!self.spaces[f.space].archived, ARCHIVED);
        if restore {
            let place = f.parent.filter(|p| self.live_folder_in(*p, f.space));
            r.unless(
                self.name_free(f.space, place, &f.name, Some(id.as_uuid())),
                NAME_TAKEN,
            );
        }
        r.verdict()
    }

    /// A management action on a space; `special` answers first when the
    /// state makes the action a special case.
    fn expect_space_admin(
        &self,
        by: P,
        s: usize,
        special: impl FnOnce(&MSpace) -> Option<Vec<Want>>,
    ) -> Vec<Want> {
        let Some(role) = self.role(by, s) else {
            return not_found();
        };
        if !may(role, Right::Manage) {
            return outcome(Class::Forbidden);
        }
        special(&self.spaces[s]).unwrap_or_else(|| outcome(Class::Ok))
    }

    fn expect_set_member(&self, by: P, s: usize, who: P, role: MRole) -> Vec<Want> {
        let Some(mine) = self.role(by, s) else {
            return not_found();
        };
        let space = &self.spaces[s];
        let mut r = Refusals::default();
        r.unless(may(mine, Right::Manage), Want::Is(Class::Forbidden));
        r.unless(!space.archived, ARCHIVED);
        r.unless(self.exists(who), Want::Is(Class::NotFound));
        if self.principals[who].contractor {
            r.unless(role != MRole::Manager, Want::Code("contractor_role"));
            r.unless(
                space.share == Share::Shared,
                Want::Is(Class::Conflict("not_shared")),
            );
        }
        let demoted = space.members.get(&who) == Some(&MRole::Manager) && role != MRole::Manager;
        r.unless(
            !demoted || self.other_agent_manager(s, who),
            Want::Is(Class::Conflict("last_manager")),
        );
        r.verdict()
    }

    fn expect_remove_member(&self, by: P, s: usize, who: P) -> Vec<Want> {
        let Some(mine) = self.role(by, s) else {
            return not_found();
        };
        let space = &self.spaces[s];
        let mut r = Refusals::default();
        r.unless(may(mine, Right::Manage), Want::Is(Class::Forbidden));
        r.unless(!space.archived, ARCHIVED);
        let member = space.members.get(&who);
        r.unless(member.is_some(), Want::Is(Class::NotFound));
        r.unless(
            member != Some(&MRole::Manager) || self.other_agent_manager(s, who),
            Want::Is(Class::Conflict("last_manager")),
        );
        r.verdict()
    }

    fn expect_invite(&self, by: P, s: usize, role: MRole) -> Vec<Want> {
        let mut r = Refusals::default();
        // Says nothing of the space: may come before "not found".
        r.unless(role != MRole::Manager, Want::Code("contractor_role"));
        let Some(mine) = self.role(by, s) else {
            r.0.push(Want::Is(Class::NotFound));
            return r.0;
        };
        let space = &self.spaces[s];
        r.unless(may(mine, Right::Manage), Want::Is(Class::Forbidden));
        r.unless(!space.archived, ARCHIVED);
        r.unless(
            space.share == Share::Shared,
            Want::Is(Class::Conflict("not_shared")),
        );
        r.verdict()
    }

    /// Managers revoke a link not used yet; an invitation of a space one
    /// cannot see is absent (ADR 0002, 8); none in an archived space (4).
    fn expect_revoke(&self, by: P, id: Uuid) -> Vec<Want> {
        let Some(i) = self.invitations.iter().find(|i| i.id == id) else {
            return not_found();
        };
        let Some(role) = self.role(by, i.space) else {
            return not_found();
        };
        let mut r = Refusals::default();
        r.unless(may(role, Right::Manage), Want::Is(Class::Forbidden));
        r.unless(!self.spaces[i.space].archived, ARCHIVED);
        r.unless(i.state != InvState::Accepted, Want::Refused);
        let mut out = r.verdict();
        if i.state == InvState::Revoked && out.len() == 1 {
            // Revoked already: nothing to do, or refused.
            out.push(Want::Refused);
        }
        out
    }

    /// ADR 0002, 5 and 8: one's own token (agents only); another's: only an
    /// administrator, and never for a contractor; a non-administrator is
    /// refused alike whether the login exists or not.
    fn expect_token(&self, by: P, for_: Option<P>) -> Vec<Want> {
        let me = &self.principals[by];
        let target = for_.map(|p| &self.principals[p]);
        if for_ == Some(by) {
            return if me.contractor {
                vec![Want::Refused]
            } else {
                outcome(Class::Ok)
            };
        }
        if !me.admin {
            return outcome(Class::Forbidden);
        }
        match (for_, target) {
            (Some(p), Some(t)) if self.exists(p) => {
                if t.contractor {
                    vec![Want::Refused]
                } else {
                    outcome(Class::Ok)
                }
            }
            _ => not_found(),
        }
    }

    /// A contractor's operation from the edge, re-authorised against this
    /// state: applied, conflicted or rejected (quarantined), never an error.
    fn expect_edge(&self, by: P, s: usize, kind: &EdgeKind) -> Vec<Want> {
        let rejected = outcome(Class::Rejected);
        let space = &self.spaces[s];
        if let EdgeKind::Accept { invitation } = kind {
            return match self.invitations.iter().find(|i| i.id == *invitation) {
                Some(i) if i.space == s && i.contractor == by => match i.state {
                    // Already recorded: nothing to write, archived or not.
                    InvState::Accepted if space.archived => {
                        vec![Want::Is(Class::Applied), Want::Is(Class::Rejected)]
                    }
                    // ADR 0002, 4: no write from an edge in an archived space.
                    _ if space.archived => rejected,
                    InvState::Pending | InvState::Accepted => outcome(Class::Applied),
                    InvState::Revoked => rejected,
                },
                _ => rejected,
            };
        }
        // ADR 0002, 4: nothing from an edge lands in an archived space.
        if space.archived {
            return rejected;
        }
        let Some(role) = space.members.get(&by).copied() else {
            return rejected;
        };
        let in_space = |d: DocumentId| self.doc(d).filter(|d| d.space == s && d.life == Life::Live);
        match kind {
            EdgeKind::NewDocument { folder, name } => {
                if !may(role, Right::Create) || !self.place_ok(*folder, s) {
                    rejected
                } else if self.name_free(s, *folder, name, None) {
                    outcome(Class::Applied)
                } else {
                    // The spec names no rule for a name taken meanwhile.
                    vec![Want::Is(Class::Conflicted), Want::Is(Class::Rejected)]
                }
            }
            EdgeKind::NewVersion { doc, base } => {
                let Some(d) = in_space(*doc) else {
                    return rejected;
                };
                let editor = may(role, edit(d.created_by == by));
                if *base == d.version {
                    return outcome(if editor {
                        Class::Applied
                    } else {
                        Class::Rejected
                    });
                }
                // ADR 0003: a stale base becomes a sibling conflict copy.
                match (may(role, Right::Create), editor) {
                    (true, true) => outcome(Class::Conflicted),
                    (true, false) => vec![Want::Is(Class::Conflicted), Want::Is(Class::Rejected)],
                    _ => rejected,
                }
            }
            EdgeKind::Rename { doc, name } => match in_space(*doc) {
                Some(d)
                    if may(role, edit(d.created_by == by))
                        && self.name_free(s, d.folder, name, Some(doc.as_uuid())) =>
                {
                    outcome(Class::Applied)
                }
                _ => rejected,
            },
            EdgeKind::Move { doc, to } => match in_space(*doc) {
                Some(d)
                    if may(role, edit(d.created_by == by))
                        && self.place_ok(*to, s)
                        && self.name_free(s, *to, &d.name, Some(doc.as_uuid())) =>
                {
                    outcome(Class::Applied)
                }
                _ => rejected,
            },
            EdgeKind::Delete { doc, base } => {
                let Some(d) = in_space(*doc) else {
                    return rejected;
                };
                let allowed = may(role, delete(d.created_by == by));
                match (*base == d.version, allowed) {
                    (true, true) => outcome(Class::Applied),
                    (true, false) => rejected,
                    // Modify beats delete (ADR 0003).
                    (false, true) => outcome(Class::Conflicted),
                    (false, false) => vec![Want::Is(Class::Conflicted), Want::Is(Class::Rejected)],
                }
            }
            EdgeKind::NewFolder {
                folder,
                parent,
                name,
            } => {
                if may(role, Right::Create)
                    && self.folder(*folder).is_none()
                    && self.place_ok(*parent, s)
                    && self.name_free(s, *parent, name, None)
                {
                    outcome(Class::Applied)
                } else {
                    rejected
                }
            }
            EdgeKind::Accept { .. } => rejected,
        }
    }
}
