//! Node state, the audit log, principals, sessions and API tokens.

use time::OffsetDateTime;

use super::{State, missing, paged};
use crate::hash::ContentHash;
use crate::ids::{PrincipalId, Revision};
use crate::model::{ApiToken, AuditEntry, Language, Page, Paged, Principal, Session};
use crate::names::Login;
use crate::ports::{AuditFilter, RepoError};

impl State {
    pub(super) fn next_revision(&mut self) -> Revision {
        self.revision += 1;
        Revision(self.revision)
    }

    pub(super) fn audit_head(&self) -> Option<(i64, ContentHash)> {
        self.audit.values().next_back().map(|e| (e.seq, e.hash))
    }

    pub(super) fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), RepoError> {
        if self.audit.contains_key(&entry.seq) {
            return Err(RepoError::Conflict(format!(
                "audit entry {} exists",
                entry.seq
            )));
        }
        self.audit.insert(entry.seq, entry.clone());
        Ok(())
    }

    pub(super) fn list_audit(&self, filter: AuditFilter, page: Page) -> Paged<AuditEntry> {
        let items = self
            .audit
            .range(filter.after_seq.saturating_add(1)..)
            .map(|(_, e)| e)
            .filter(|e| filter.space.is_none() || e.space == filter.space)
            .cloned()
            .collect();
        paged(items, page)
    }

    pub(super) fn principal_by_login(&self, login: &Login) -> Option<Principal> {
        self.principals
            .values()
            .find(|p| &p.login == login)
            .cloned()
    }

    pub(super) fn list_principals(&self, page: Page) -> Paged<Principal> {
        let mut v: Vec<Principal> = self.principals.values().cloned().collect();
        v.sort_by(|a, b| a.login.as_str().cmp(b.login.as_str()));
        paged(v, page)
    }

    pub(super) fn save_principal(&mut self, p: &Principal) -> Result<(), RepoError> {
        if self
            .principals
            .values()
            .any(|o| o.id != p.id && o.login == p.login)
        {
            return Err(RepoError::Conflict(format!("login {} is taken", p.login)));
        }
        self.principals.insert(p.id, p.clone());
        Ok(())
    }

    /// A purged principal's setting may linger in the map (the purge does
    /// not know it); like SQL's `ON DELETE CASCADE`, it is not seen.
    pub(super) fn preferred_language(&self, principal: PrincipalId) -> Option<Language> {
        self.principals
            .contains_key(&principal)
            .then(|| self.languages.get(&principal).copied())
            .flatten()
    }

    pub(super) fn set_preferred_language(
        &mut self,
        principal: PrincipalId,
        language: Option<Language>,
    ) -> Result<(), RepoError> {
        if !self.principals.contains_key(&principal) {
            return Err(missing("principal", principal));
        }
        match language {
            Some(l) => self.languages.insert(principal, l),
            None => self.languages.remove(&principal),
        };
        Ok(())
    }

    pub(super) fn save_second_factor(
        &mut self,
        f: &crate::second_factor::SecondFactor,
    ) -> Result<(), RepoError> {
        if !self.principals.contains_key(&f.principal) {
            return Err(missing("principal", f.principal));
        }
        self.second_factors.insert(f.principal, f.clone());
        Ok(())
    }

    pub(super) fn record_active(
        &mut self,
        principal: PrincipalId,
        day: time::Date,
    ) -> Result<(), RepoError> {
        if !self.principals.contains_key(&principal) {
            return Err(missing("principal", principal));
        }
        let last = self.activity.entry(principal).or_insert(day);
        *last = (*last).max(day);
        Ok(())
    }

    pub(super) fn save_session(&mut self, session: &Session) -> Result<(), RepoError> {
        if !self.principals.contains_key(&session.principal) {
            return Err(missing("principal", session.principal));
        }
        self.sessions.insert(session.token_hash, session.clone());
        Ok(())
    }

    pub(super) fn delete_sessions_of(&mut self, principal: PrincipalId) {
        self.sessions.retain(|_, s| s.principal != principal);
    }

    pub(super) fn delete_expired_sessions(&mut self, now: OffsetDateTime) -> u64 {
        let before = self.sessions.len();
        self.sessions.retain(|_, s| s.expires_at > now);
        (before - self.sessions.len()) as u64
    }

    pub(super) fn save_token(&mut self, t: &ApiToken) -> Result<(), RepoError> {
        if !self.principals.contains_key(&t.principal) {
            return Err(missing("principal", t.principal));
        }
        if self
            .tokens
            .values()
            .any(|o| o.id != t.id && o.token_hash == t.token_hash)
        {
            return Err(RepoError::Conflict("token hash is taken".into()));
        }
        self.tokens.insert(t.id, t.clone());
        Ok(())
    }

    pub(super) fn token_by_hash(&self, token_hash: &ContentHash) -> Option<ApiToken> {
        self.tokens
            .values()
            .find(|t| &t.token_hash == token_hash)
            .cloned()
    }

    pub(super) fn list_tokens(&self, principal: Option<PrincipalId>) -> Vec<ApiToken> {
        let mut v: Vec<ApiToken> = self
            .tokens
            .values()
            .filter(|t| principal.is_none_or(|p| t.principal == p))
            .cloned()
            .collect();
        v.sort_by_key(|t| (t.created_at, t.id));
        v
    }
}
