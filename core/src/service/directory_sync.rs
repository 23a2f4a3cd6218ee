//! The directory sync (ADR 0009): what the directory says now of each
//! directory account. An agent who left it, or is disabled there, is
//! disabled on the node (their sessions end at once; their API tokens,
//! app passwords and remembered WebDAV checks stop working with the
//! account); one still there keeps their name and e-mail in step. Nothing
//! is re-enabled here: an administrator does it, after checking why.
//! Local accounts are never asked about. The groups mapped to the
//! node's administration and to spaces are followed in the same pass
//! (`directory_groups`).

use serde_json::json;

use crate::directory::DirectoryStatus;
use crate::error::CoreError;
use crate::model::{AccountSource, Page, Principal};

use super::{Actor, InternalApp};

/// How many logins one question to the directory carries.
const CHUNK: usize = 200;

/// What a sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectorySync {
    /// Directory accounts asked about.
    pub checked: u64,
    /// Disabled because they left the directory or are disabled there.
    pub disabled: u64,
    /// Whose name or e-mail followed the directory.
    pub updated: u64,
    /// Whose administrator flag followed the mapped group.
    pub admins: u64,
    /// Memberships added, changed or removed by mapped groups.
    pub memberships: u64,
}

impl InternalApp {
    /// Asks the directory about every directory account enabled on the
    /// node, and disables or updates them. Without a directory, nothing.
    /// The directory not answering is an error and changes nothing.
    pub async fn sync_directory(&self) -> Result<DirectorySync, CoreError> {
        let Some(directory) = self.directory.clone() else {
            return Ok(DirectorySync::default());
        };
        let accounts = self.directory_accounts().await?;
        let mut report = DirectorySync::default();
        for chunk in accounts.chunks(CHUNK) {
            let logins: Vec<String> = chunk.iter().map(|p| p.login.to_string()).collect();
            let statuses = directory.statuses(&logins).await.map_err(|e| {
                tracing::warn!(error = %e, "directory sync: no answer");
                CoreError::Unavailable("the directory")
            })?;
            for (p, status) in chunk.iter().zip(statuses) {
                report.checked += 1;
                match status {
                    DirectoryStatus::Active(entry) => {
                        let name = entry.display_name.trim();
                        let email = entry.email.trim();
                        if (!name.is_empty() && name != p.display_name) || email != p.email {
                            self.follow(p, name, email).await?;
                            report.updated += 1;
                        }
                        let groups = self.follow_groups(p.id, &entry.groups).await?;
                        report.admins += u64::from(groups.admin);
                        report.memberships += groups.memberships;
                    }
                    DirectoryStatus::Disabled => {
                        self.disable_from_directory(p, "disabled").await?;
                        report.disabled += 1;
                    }
                    DirectoryStatus::Absent => {
                        self.disable_from_directory(p, "left").await?;
                        report.disabled += 1;
                    }
                    DirectoryStatus::Ambiguous => {
                        tracing::warn!(login = %p.login, "directory sync: several entries, left as it is");
                    }
                }
            }
        }
        Ok(report)
    }

    /// The enabled directory accounts, by login.
    async fn directory_accounts(&self) -> Result<Vec<Principal>, CoreError> {
        let mut tx = self.read().await?;
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page = tx
                .list_principals(Page::new(offset, Page::MAX_LIMIT))
                .await?;
            let seen = page.items.len() as u64;
            out.extend(
                page.items
                    .into_iter()
                    .filter(|p| p.source == AccountSource::Directory && !p.disabled),
            );
            offset += seen;
            if seen == 0 || offset >= page.total {
                return Ok(out);
            }
        }
    }

    /// Disables `p` (read again inside the unit of work: it may have
    /// changed since) and ends its sessions, audited with `why`.
    async fn disable_from_directory(&self, p: &Principal, why: &str) -> Result<(), CoreError> {
        let mut tx = self.write().await?;
        let Some(mut now) = tx.principal(p.id).await? else {
            return Ok(());
        };
        if now.disabled || now.source != AccountSource::Directory {
            return Ok(());
        }
        now.disabled = true;
        now.revision = tx.next_revision().await?;
        tx.save_principal(&now).await?;
        tx.delete_sessions_of(now.id).await?;
        self.audit(
            &mut tx,
            &Actor::System,
            "principal.directory_disable",
            None,
            Some(now.login.to_string()),
            json!({ "reason": why }),
        )
        .await?;
        self.commit(tx).await
    }

    /// Brings `p`'s name and e-mail in step with the directory.
    async fn follow(&self, p: &Principal, name: &str, email: &str) -> Result<(), CoreError> {
        let mut tx = self.write().await?;
        let Some(mut now) = tx.principal(p.id).await? else {
            return Ok(());
        };
        if !name.is_empty() {
            now.display_name = name.to_owned();
        }
        now.email = email.to_owned();
        now.revision = tx.next_revision().await?;
        tx.save_principal(&now).await?;
        self.audit(
            &mut tx,
            &Actor::System,
            "principal.directory_update",
            None,
            Some(now.login.to_string()),
            json!({ "name": now.display_name, "email": now.email }),
        )
        .await?;
        self.commit(tx).await
    }
}
