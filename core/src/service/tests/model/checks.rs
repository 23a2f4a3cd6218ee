//! What is checked after every step: the real state against the model's,
//! the sequence invariants of ADR 0002 on the real state alone, and what
//! principals see (visible, or exactly as absent).

use std::collections::{BTreeMap, HashMap};

use crate::fakes::FastPasswords;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId, TokenId};
use crate::model::{ApiToken, Page, PrincipalKind, Session, Trashed};
use crate::ports::{PasswordHasher, Repository, TxMode};
use crate::replication::{ChangeRow, Invitation};
use crate::role::Role;

use super::World;
use super::ops::{CONTRACTORS, OUTSIDER};
use super::real::{EDGE, PASSWORD, core_role};
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

    /// ADR 0002's invariants 1, 2 and 5, on the real state alone.
    pub(super) async fn check_invariants(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut tx = self.repo().begin(TxMode::Read).await.expect("read");
        for (s, ms) in self.model.spaces.iter().enumerate() {
            let mut agent_manager = false;
            for m in tx.list_members(ms.id).await.expect("read") {
                if m.removed || m.role != Role::Manager {
                    continue;
                }
                let p = tx.principal(m.principal).await.expect("read").expect("fk");
                match p.kind {
                    PrincipalKind::Agent => agent_manager = true,
                    PrincipalKind::Contractor => out.push(Problem::soft(
                        "invariant 1: a contractor holds manager",
                        format!("{} manages s{s}", p.login),
                    )),
                }
            }
            if !agent_manager {
                out.push(Problem::soft(
                    "invariant 2: a space without an agent manager",
                    format!("s{s}"),
                ));
            }
        }
        for c in CONTRACTORS {
            let Some(id) = self.model.principals[c].id else {
                continue;
            };
            let p = tx.principal(id).await.expect("read").expect("exists");
            if p.password_hash.is_some() {
                out.push(Problem::soft(
                    "invariant 5: a contractor has a password on the internal node",
                    p.login.to_string(),
                ));
            }
        }
        drop(tx);
        for (p, secret) in &self.tokens {
            let contractor = self.model.principals[*p].contractor;
            match (contractor, self.app.authenticate_token(secret).await) {
                (true, Ok(_)) => out.push(Problem::soft(
                    "invariant 5: a contractor's API token opens the internal node",
                    self.model.principals[*p].login.clone(),
                )),
                (false, Err(e)) => out.push(Problem::soft(
                    "an agent's API token is refused",
                    format!("{}: {e:?}", self.model.principals[*p].login),
                )),
                _ => {}
            }
        }
        out
    }

    /// What `p` sees of `t`: what the model says is visible answers (with
    /// the model's role), anything else answers exactly as an id that does
    /// not exist (ADR 0002, 8). Contractors act here only through their
    /// edge: only what they must not see is probed for them.
    pub(super) async fn probe(&self, p: P, t: Target) -> Option<Problem> {
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

    /// ADR 0002, 5, whatever rows are there: a password hash, a session and
    /// an API token planted for each contractor (as an old row or an
    /// operator could leave them) open nothing on this node; the same
    /// planted for an agent do, which shows the check plants what the node
    /// would accept.
    pub(super) async fn planted_credentials(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut who: Vec<P> = CONTRACTORS
            .into_iter()
            .filter(|c| self.model.principals[*c].id.is_some())
            .collect();
        who.push(OUTSIDER);
        for p in who {
            let (session, token) = self.plant(p).await;
            let login = &self.model.principals[p].login;
            let opened = [
                (
                    "a login",
                    self.app.login(login, PASSWORD, None).await.is_ok(),
                ),
                (
                    "a session",
                    self.app.authenticate_session(&session).await.is_ok(),
                ),
                (
                    "an API token",
                    self.app.authenticate_token(&token).await.is_ok(),
                ),
            ];
            let contractor = self.model.principals[p].contractor;
            for (what, ok) in opened {
                if ok == contractor {
                    let kind = if contractor {
                        format!("invariant 5: {what} opens the internal node to a contractor")
                    } else {
                        format!(
                            "an agent's planted {what} is refused (the check plants the wrong thing)"
                        )
                    };
                    out.push(Problem::soft(kind, login.clone()));
                }
            }
        }
        out
    }

    /// Writes a password hash, a session and a token for `p` straight into
    /// the repository; returns the session's and the token's secrets.
    async fn plant(&self, p: P) -> (String, String) {
        let id = self.model.principals[p].id.expect("exists");
        let now = time::OffsetDateTime::now_utc();
        let session = format!("planted-session-{p}");
        let token = format!("psr_planted{p}");
        let mut tx = self.repo().begin(TxMode::Write).await.expect("write");
        let mut row = tx.principal(id).await.expect("read").expect("exists");
        row.password_hash = Some(FastPasswords.hash(PASSWORD).await.expect("hash"));
        tx.save_principal(&row).await.expect("save");
        tx.save_session(&Session {
            token_hash: ContentHash::of(session.as_bytes()),
            principal: id,
            csrf: "planted".into(),
            created_at: now,
            expires_at: now + time::Duration::hours(1),
        })
        .await
        .expect("save");
        tx.save_token(&ApiToken {
            id: TokenId::new(),
            principal: id,
            name: "planted".into(),
            token_hash: ContentHash::of(token.as_bytes()),
            created_at: now,
            expires_at: None,
            revoked: false,
        })
        .await
        .expect("save");
        tx.commit().await.expect("commit");
        (session, token)
    }
}
