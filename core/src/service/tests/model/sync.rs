//! After the real state and the model's parted, the model takes the real
//! state as it is, so that the run goes on and finds the next kind of
//! failure instead of repeating the first one.

use crate::ids::PrincipalId;
use crate::model::Visibility;
use crate::names::Login;
use crate::ports::{Repository, TxMode};
use crate::role::Role;

use super::World;
use super::checks::{inv_state, life};
use super::real::EDGE;
use super::reference::{MDoc, MFolder, MInvitation, MRole, P, Share};

fn model_role(r: Role) -> MRole {
    match r {
        Role::Manager => MRole::Manager,
        Role::Collaborator => MRole::Collaborator,
        Role::Contributor => MRole::Contributor,
        Role::Reader => MRole::Reader,
    }
}

impl World {
    fn principal_index(&self, id: PrincipalId) -> Option<P> {
        self.model.principals.iter().position(|p| p.id == Some(id))
    }

    /// Copies every space's real rows into the model. Things the model did
    /// not know are added in id order (time-ordered ids: creation order).
    pub(super) async fn resync(&mut self) {
        // Contractors the real node created while the model refused.
        let mut tx = self.repo().begin(TxMode::Read).await.expect("read");
        for p in &mut self.model.principals {
            if p.id.is_none() {
                let login = Login::parse(&p.login).expect("a valid login");
                p.id = tx
                    .principal_by_login(&login)
                    .await
                    .expect("read")
                    .map(|x| x.id);
            }
        }
        drop(tx);
        for s in 0..self.model.spaces.len() {
            let rows = self.rows(self.model.spaces[s].id).await;
            if let Some(space) = &rows.space {
                let sp = &mut self.model.spaces[s];
                sp.archived = space.archived;
                sp.public = space.visibility == Visibility::Public;
                sp.share = match (&space.edge, sp.share) {
                    (Some(e), _) if e == EDGE => Share::Shared,
                    (_, Share::Unsharing) => Share::Unsharing,
                    _ => Share::Internal,
                };
            }
            let members = rows
                .members
                .iter()
                .filter_map(|(id, r)| Some((self.principal_index(*id)?, model_role(*r))))
                .collect();
            self.model.spaces[s].members = members;
            let mut folders: Vec<_> = rows.folders.values().collect();
            folders.sort_by_key(|f| f.id);
            for f in folders {
                let Some(created_by) = self.principal_index(f.created_by) else {
                    continue;
                };
                let synced = MFolder {
                    id: f.id,
                    space: s,
                    parent: f.parent,
                    name: f.name.as_str().to_owned(),
                    created_by,
                    life: life(&f.trashed, f.purged),
                };
                if self.model.folder(f.id).is_some() {
                    *self.model.folder_mut(f.id) = synced;
                } else {
                    self.model.add_folder(synced);
                }
            }
            let mut docs: Vec<_> = rows.docs.values().collect();
            docs.sort_by_key(|d| d.id);
            for d in docs {
                let Some(created_by) = self.principal_index(d.created_by) else {
                    continue;
                };
                let synced = MDoc {
                    id: d.id,
                    space: s,
                    folder: d.folder,
                    name: d.name.as_str().to_owned(),
                    created_by,
                    version: d.current_version,
                    life: life(&d.trashed, d.purged),
                };
                if self.model.doc(d.id).is_some() {
                    *self.model.doc_mut(d.id) = synced;
                } else {
                    self.model.add_doc(synced);
                }
            }
            let mut invitations: Vec<_> = rows.invitations.values().collect();
            invitations.sort_by_key(|i| i.id);
            for i in invitations {
                let state = inv_state(i);
                if let Some(known) = self.model.invitations.iter_mut().find(|k| k.id == i.id) {
                    known.state = state;
                } else if let Some(contractor) = self.principal_index(i.principal) {
                    self.model.invitations.push(MInvitation {
                        id: i.id,
                        space: s,
                        contractor,
                        state,
                    });
                }
            }
        }
    }
}
