//! What principals see: what the model says is visible answers with the
//! model's role, and anything else answers exactly as an id that does not
//! exist (ADR 0002, 8), so that a refusal never tells what is there.

use crate::ids::{DocumentId, FolderId, SpaceId};
use crate::model::Page;

use super::super::World;
use super::super::real::core_role;
use super::super::reference::{Life, P};
use super::{Problem, Target};

impl World {
    /// What `p` sees of `t`: what the model says is visible answers (with
    /// the model's role), anything else answers exactly as an id that does
    /// not exist (ADR 0002, 8). Contractors act here only through their
    /// edge: only what they must not see is probed for them.
    pub(in super::super) async fn probe(&self, p: P, t: Target) -> Option<Problem> {
        let m = &self.model;
        m.principals[p].id?;
        let contractor = m.principals[p].contractor;
        let actor = self.actor(p).await;
        let who = &m.principals[p].login;
        let app = &self.app;
        let same = |kind: &str, real: String, absent: String, what: String| {
            (real != absent).then(|| {
                Problem::soft(
                    kind,
                    format!(
                        "{who} asking for {what}: {real}, for an id that does not exist: {absent}"
                    ),
                )
            })
        };
        let dbg = |r: Result<(), crate::error::CoreError>| format!("{r:?}");
        match t {
            Target::Space(s) => {
                let id = m.spaces[s].id;
                let real = app.get_space(&actor, id).await;
                match (m.role(p, s), real) {
                    (Some(_), _) if contractor => None,
                    (Some(r), Ok(v)) if v.role == core_role(r) => {
                        self.check_listing(&actor, s, None, &format!("{who} on s{s}/root"))
                            .await
                    }
                    (Some(r), other) => Some(Problem::soft(
                        "visibility: a space",
                        format!(
                            "{who} on s{s}: {:?}, the model says {r:?}",
                            other.map(|v| v.role)
                        ),
                    )),
                    (None, real) => {
                        let absent = app.get_space(&actor, SpaceId::new()).await;
                        same(
                            "invisible != absent: space",
                            dbg(real.map(drop)),
                            dbg(absent.map(drop)),
                            format!("s{s}"),
                        )
                    }
                }
            }
            Target::Doc(d) => {
                let md = m.doc(d)?;
                let role = m.role(p, md.space);
                let name = format!("document {d} of s{}", md.space);
                match (role, md.life) {
                    (Some(_), Life::Live) if contractor => None,
                    (Some(r), Life::Live) => match app.get_document(&actor, d).await {
                        Ok(v) if v.role == core_role(r) => None,
                        other => Some(Problem::soft(
                            "visibility: a document",
                            format!(
                                "{who} on {name}: {:?}, the model says {r:?}",
                                other.map(|v| v.role)
                            ),
                        )),
                    },
                    (visible, life) => {
                        let kind = if visible.is_some() {
                            "gone != absent: document"
                        } else {
                            "invisible != absent: document"
                        };
                        let real = dbg(app.get_document(&actor, d).await.map(drop));
                        let absent =
                            dbg(app.get_document(&actor, DocumentId::new()).await.map(drop));
                        if let Some(p) = same(kind, real, absent, name.clone()) {
                            return Some(p);
                        }
                        if visible.is_some() {
                            return None;
                        }
                        let real = dbg(app.list_versions(&actor, d).await.map(drop));
                        let absent =
                            dbg(app.list_versions(&actor, DocumentId::new()).await.map(drop));
                        let kind = "invisible != absent: versions";
                        if let Some(p) = same(kind, real, absent, name.clone()) {
                            return Some(p);
                        }
                        if !matches!(life, Life::Trashed(_)) {
                            return None;
                        }
                        let real = dbg(app.restore_document(&actor, d).await.map(drop));
                        let absent = dbg(app
                            .restore_document(&actor, DocumentId::new())
                            .await
                            .map(drop));
                        same("invisible != absent: trash item", real, absent, name)
                    }
                }
            }
            Target::Folder(f) => {
                let mf = m.folder(f)?;
                let space = m.spaces[mf.space].id;
                let name = format!("folder {f} of s{}", mf.space);
                match (m.role(p, mf.space), mf.life) {
                    (Some(_), Life::Live) if contractor => None,
                    (Some(_), Life::Live) => {
                        self.check_listing(&actor, mf.space, Some(f), &format!("{who} on {name}"))
                            .await
                    }
                    (Some(_), _) => {
                        let real = app
                            .list_folder(&actor, space, Some(f), Page::default())
                            .await;
                        let absent = app
                            .list_folder(&actor, space, Some(FolderId::new()), Page::default())
                            .await;
                        same(
                            "gone != absent: folder",
                            dbg(real.map(drop)),
                            dbg(absent.map(drop)),
                            name,
                        )
                    }
                    (None, life) => {
                        // Refused, so nothing is written (when the model is right).
                        let real = app.update_folder(&actor, f, None, None).await;
                        let absent = app.update_folder(&actor, FolderId::new(), None, None).await;
                        let kind = "invisible != absent: folder";
                        if let Some(p) = same(
                            kind,
                            dbg(real.map(drop)),
                            dbg(absent.map(drop)),
                            name.clone(),
                        ) {
                            return Some(p);
                        }
                        if life != Life::Trashed(None) {
                            return None;
                        }
                        let real = app.restore_folder(&actor, f).await;
                        let absent = app.restore_folder(&actor, FolderId::new()).await;
                        same(
                            "invisible != absent: trash item",
                            dbg(real.map(drop)),
                            dbg(absent.map(drop)),
                            name,
                        )
                    }
                }
            }
        }
    }

    /// A visible live folder (or root) lists exactly the model's live
    /// folders and documents in it.
    async fn check_listing(
        &self,
        actor: &crate::service::Actor,
        s: usize,
        folder: Option<FolderId>,
        what: &str,
    ) -> Option<Problem> {
        let m = &self.model;
        let listing = match self
            .app
            .list_folder(actor, m.spaces[s].id, folder, Page::all())
            .await
        {
            Ok(l) => l,
            Err(e) => {
                return Some(Problem::soft(
                    "visibility: a folder",
                    format!("{what}: {e:?}"),
                ));
            }
        };
        let mut real: Vec<uuid::Uuid> = listing.folders.iter().map(|f| f.id.as_uuid()).collect();
        real.extend(listing.documents.items.iter().map(|d| d.id.as_uuid()));
        real.sort();
        let mut want: Vec<uuid::Uuid> = m
            .folders
            .iter()
            .filter(|f| f.space == s && f.parent == folder && f.life == Life::Live)
            .map(|f| f.id.as_uuid())
            .chain(
                m.docs
                    .iter()
                    .filter(|d| d.space == s && d.folder == folder && d.life == Life::Live)
                    .map(|d| d.id.as_uuid()),
            )
            .collect();
        want.sort();
        (real != want).then(|| {
            Problem::soft(
                "visibility: a folder's content",
                format!(
                    "{what}: lists {} things, the model {}",
                    real.len(),
                    want.len()
                ),
            )
        })
    }
}
