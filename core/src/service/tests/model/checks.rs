//! What is checked after every step: the real state against the model's,
//! the sequence invariants of ADR 0002 on the real state alone, and what
//! principals see (visible, or exactly as absent).
//!
//! The problems, the real rows and their comparison with the model are
//! here; the invariants are in `invariants`, what principals see in
//! `visibility`.

mod invariants;
mod visibility;

use std::collections::{BTreeMap, HashMap};

use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId};
use crate::model::Trashed;
use crate::ports::{Repository, TxMode};
use crate::replication::{ChangeRow, Invitation};
use crate::role::Role;

use super::World;
use super::real::{EDGE, core_role};
use super::reference::{InvState, Life, P, Share};

/// A check that failed. `hard`: the real state and the model's parted (the
/// model then takes the real state, see `sync`).
#[derive(Debug)]
pub(super) struct Problem {
    /// What went wrong, without ids: failures are reported once per kind.
    pub kind: String,
    pub message: String,
    pub hard: bool,
}

impl Problem {
    pub(super) fn soft(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
            hard: false,
        }
    }

    fn hard(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            hard: true,
            ..Self::soft(kind, message)
        }
    }
}

/// Something a principal may look at.
#[derive(Clone, Copy, Debug)]
pub(super) enum Target {
    Space(usize),
    Doc(DocumentId),
    Folder(FolderId),
}

pub(super) fn life(trashed: &Option<Trashed>, purged: bool) -> Life {
    match (purged, trashed) {
        (true, _) => Life::Purged,
        (false, Some(t)) => Life::Trashed(t.with_folder),
        (false, None) => Life::Live,
    }
}

pub(super) fn inv_state(i: &Invitation) -> InvState {
    if i.revoked {
        InvState::Revoked
    } else if i.accepted_at.is_some() {
        InvState::Accepted
    } else {
        InvState::Pending
    }
}

/// Every row of one space, as the repository holds it.
#[derive(Default)]
pub(super) struct Rows {
    pub space: Option<crate::model::Space>,
    pub members: BTreeMap<PrincipalId, Role>,
    pub folders: HashMap<FolderId, crate::model::Folder>,
    pub docs: HashMap<DocumentId, crate::model::Document>,
    pub invitations: HashMap<uuid::Uuid, Invitation>,
}

impl World {
    async fn feed_rows(&self, s: SpaceId) -> Vec<ChangeRow> {
        let mut tx = self.repo().begin(TxMode::Read).await.expect("read");
        tx.changes(s, Revision::ZERO, u64::MAX / 2)
            .await
            .expect("feed")
            .rows
    }

    /// Whether the space is archived, as the repository says.
    pub(super) async fn archived(&self, s: SpaceId) -> bool {
        let mut tx = self.repo().begin(TxMode::Read).await.expect("read");
        tx.space(s).await.expect("read").is_some_and(|x| x.archived)
    }

    /// Everything of the space but accounts (which are not the space's),
    /// revisions included: any write shows.
    pub(super) async fn snapshot(&self, s: SpaceId) -> Vec<ChangeRow> {
        let mut rows = self.feed_rows(s).await;
        rows.retain(|r| !matches!(r, ChangeRow::Principal(_)));
        rows
    }

    pub(super) async fn rows(&self, s: SpaceId) -> Rows {
        let mut out = Rows::default();
        for r in self.feed_rows(s).await {
            match r {
                ChangeRow::Space(x) => out.space = Some(x),
                ChangeRow::Membership(m) if !m.removed => {
                    out.members.insert(m.principal, m.role);
                }
                ChangeRow::Folder(f) => {
                    out.folders.insert(f.id, f);
                }
                ChangeRow::Document(d) => {
                    out.docs.insert(d.id, d);
                }
                ChangeRow::Invitation(i) => {
                    out.invitations.insert(i.id, i);
                }
                _ => {}
            }
        }
        out
    }

    fn who(&self, id: PrincipalId) -> String {
        self.model
            .principals
            .iter()
            .find(|p| p.id == Some(id))
            .map_or_else(|| id.to_string(), |p| p.login.clone())
    }

    /// The real state of every space against the model's: flags, members,
    /// every folder and document (live, trashed with what, purged), and
    /// invitations. Nothing more, nothing less.
    pub(super) async fn compare_state(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for (s, ms) in self.model.spaces.iter().enumerate() {
            let rows = self.rows(ms.id).await;
            let Some(space) = rows.space.as_ref() else {
                out.push(Problem::hard("state: space", format!("s{s} is gone")));
                continue;
            };
            let edge = if ms.share == Share::Shared {
                Some(EDGE)
            } else {
                None
            };
            if space.archived != ms.archived || space.edge.as_ref().map(|e| e.as_str()) != edge {
                out.push(Problem::hard(
                    "state: space flags",
                    format!(
                        "s{s}: archived {} edge {:?}, the model says archived {} {:?}",
                        space.archived, space.edge, ms.archived, ms.share
                    ),
                ));
            }
            let want: BTreeMap<PrincipalId, Role> = ms
                .members
                .iter()
                .filter_map(|(p, r)| Some((self.model.principals[*p].id?, core_role(*r))))
                .collect();
            if want != rows.members {
                let show = |m: &BTreeMap<PrincipalId, Role>| {
                    m.iter()
                        .map(|(p, r)| format!("{}:{r}", self.who(*p)))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                out.push(Problem::hard(
                    "state: members",
                    format!(
                        "s{s} members are [{}], the model says [{}]",
                        show(&rows.members),
                        show(&want)
                    ),
                ));
            }
            self.compare_content(s, &rows, &mut out);
            self.compare_invitations(s, &rows, &mut out);
        }
        out
    }

    fn compare_content(&self, s: usize, rows: &Rows, out: &mut Vec<Problem>) {
        let m = &self.model;
        let pid = |p: P| m.principals[p].id;
        for (i, f) in m.folders.iter().enumerate().filter(|(_, f)| f.space == s) {
            let Some(r) = rows.folders.get(&f.id) else {
                out.push(Problem::hard("state: folder missing", format!("f{i}")));
                continue;
            };
            let real = (
                r.parent,
                r.name.as_str(),
                Some(r.created_by),
                life(&r.trashed, r.purged),
            );
            let want = (f.parent, f.name.as_str(), pid(f.created_by), f.life);
            if real != want {
                out.push(Problem::hard(
                    "state: folder",
                    format!("f{i} is {real:?}, the model says {want:?}"),
                ));
            }
        }
        for (i, d) in m.docs.iter().enumerate().filter(|(_, d)| d.space == s) {
            let Some(r) = rows.docs.get(&d.id) else {
                out.push(Problem::hard("state: document missing", format!("d{i}")));
                continue;
            };
            let real = (
                r.folder,
                r.name.as_str(),
                Some(r.created_by),
                r.current_version,
                life(&r.trashed, r.purged),
            );
            let want = (
                d.folder,
                d.name.as_str(),
                pid(d.created_by),
                d.version,
                d.life,
            );
            if real != want {
                let kind = if real.4 == want.4 {
                    "state: document"
                } else {
                    "state: document trashed/purged"
                };
                out.push(Problem::hard(
                    kind,
                    format!("d{i} is {real:?}, the model says {want:?}"),
                ));
            }
        }
        for id in rows.folders.keys() {
            if m.folder(*id).is_none() {
                out.push(Problem::hard("state: unexpected folder", id.to_string()));
            }
        }
        for (id, d) in &rows.docs {
            if m.doc(*id).is_none() {
                out.push(Problem::hard(
                    "state: unexpected document",
                    format!("{id} {:?}", d.name.as_str()),
                ));
            }
        }
    }

    fn compare_invitations(&self, s: usize, rows: &Rows, out: &mut Vec<Problem>) {
        for i in self.model.invitations.iter().filter(|i| i.space == s) {
            let real = rows.invitations.get(&i.id).map(inv_state);
            if real != Some(i.state) {
                out.push(Problem::hard(
                    "state: invitation",
                    format!(
                        "s{s} invitation of {}: {real:?}, the model says {:?}",
                        self.model.principals[i.contractor].login, i.state
                    ),
                ));
            }
        }
        let known = rows
            .invitations
            .keys()
            .filter(|id| !self.model.invitations.iter().any(|i| i.id == **id))
            .count();
        if known > 0 {
            out.push(Problem::hard(
                "state: unexpected invitation",
                format!("s{s}: {known}"),
            ));
        }
    }
}
