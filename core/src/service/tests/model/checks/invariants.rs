//! The sequence invariants of ADR 0002, checked on the real state alone so
//! that they catch what the model itself might get wrong: no contractor
//! manager, an agent manager in every space, no password or working token
//! for a contractor here, even when planted straight into the repository.

use crate::fakes::FastPasswords;
use crate::hash::ContentHash;
use crate::ids::TokenId;
use crate::model::{ApiToken, PrincipalKind, Session, TokenKind};
use crate::ports::{PasswordHasher, Repository, TxMode};
use crate::role::Role;

use super::super::World;
use super::super::ops::{CONTRACTORS, OUTSIDER};
use super::super::real::PASSWORD;
use super::super::reference::P;
use super::Problem;

impl World {
    /// ADR 0002's invariants 1, 2 and 5, on the real state alone.
    pub(in super::super) async fn check_invariants(&self) -> Vec<Problem> {
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
                    PrincipalKind::Service => out.push(Problem::soft(
                        "a service account holds manager",
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

    /// ADR 0002, 5, whatever rows are there: a password hash, a session and
    /// an API token planted for each contractor (as an old row or an
    /// operator could leave them) open nothing on this node; the same
    /// planted for an agent do, which shows the check plants what the node
    /// would accept.
    pub(in super::super) async fn planted_credentials(&self) -> Vec<Problem> {
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
            kind: TokenKind::Api,
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
