//! Administration commands. They act as the node operator
//! ([`Actor::System`]), through the same use cases as the API, so they are
//! validated and audited the same way.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use passerelle_core::Actor;
use passerelle_core::doctype::parse_catalogue;
use passerelle_core::model::{Page, Visibility};
use passerelle_core::replication::NodeId;
use passerelle_core::service::{NewAgent, NewSpace};

use super::password::read_password;
use crate::Node;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Login of the first administrator.
    #[arg(long, default_value = "admin")]
    pub admin: String,
    /// Display name of the first administrator.
    #[arg(long, default_value = "Administrateur Passerelle")]
    pub name: String,
    #[arg(long, default_value = "")]
    pub email: String,
    /// File whose first line is the password (else $PASSERELLE_ADMIN_PASSWORD, else a prompt).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an agent account.
    Add {
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        email: String,
        /// Make the account a node administrator.
        #[arg(long)]
        admin: bool,
        /// File whose first line is the password (else $PASSERELLE_PASSWORD, else a prompt).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// List accounts.
    List,
    /// Disable an account (its sessions end at once).
    Disable { login: String },
    /// Enable a disabled account.
    Enable { login: String },
    /// Set an account's password.
    Password {
        login: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SpaceCommand {
    /// Create a space managed by an existing agent.
    Create {
        /// Short URL name: a-z, 0-9 and '-'.
        slug: String,
        #[arg(long)]
        title: String,
        /// Login of the space's first manager.
        #[arg(long)]
        manager: String,
        /// Business domain ("Finances", "Urbanisme"…).
        #[arg(long, default_value = "")]
        domain: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Every agent may read it.
        #[arg(long)]
        public: bool,
    },
    /// List every space.
    List,
    /// Share a space with an edge node (its content replicates there).
    Share {
        slug: String,
        #[arg(long)]
        edge: NodeId,
    },
    /// Stop sharing a space: the edge drains its pending operations, then
    /// purges the space and sends a receipt (recorded in the audit log).
    Unshare { slug: String },
}

#[derive(Debug, Subcommand)]
pub enum ReplicationCommand {
    /// State of every edge link and of every shared space.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue an API token acting as LOGIN; the secret is printed once.
    Create {
        #[arg(long)]
        login: String,
        /// What the token is for ("GF Finances", "parapheur"…).
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their secret).
    List,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain of the whole audit log.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum BlobsCommand {
    /// Check that every referenced blob exists and re-hash it.
    Verify {
        /// Only check presence, do not re-read content.
        #[arg(long)]
        quick: bool,
    },
    /// Delete blobs no version references. Safe beside a running node: blobs
    /// stored within --min-age-minutes are spared (an upload in flight has a
    /// blob no version references yet).
    Gc {
        #[arg(long, default_value_t = 60)]
        min_age_minutes: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum TypesCommand {
    /// List document types.
    List,
    /// Create or replace document types from a TOML catalogue ([[type]] tables).
    Import { file: PathBuf },
}

pub async fn init(node: Node, args: InitArgs) -> anyhow::Result<()> {
    if node.app.count_principals().await? > 0 {
        bail!(
            "this node is already initialised ({}): add accounts with `passerelle-internal user add`",
            node.config.data_dir.display()
        );
    }
    let password = read_password(
        args.password_file.as_deref(),
        "PASSERELLE_ADMIN_PASSWORD",
        &args.admin,
    )?;
    let p = node
        .app
        .create_agent(
            &Actor::System,
            NewAgent {
                login: args.admin,
                display_name: args.name,
                email: args.email,
                is_admin: true,
                password: Some(password),
            },
        )
        .await?;
    println!(
        "initialised {} with administrator {}",
        node.config.data_dir.display(),
        p.login
    );
    println!("start the node with: passerelle-internal serve");
    Ok(())
}

pub async fn user(node: Node, cmd: UserCommand) -> anyhow::Result<()> {
    let app = &node.app;
    match cmd {
        UserCommand::Add {
            login,
            name,
            email,
            admin,
            password_file,
        } => {
            let password = read_password(password_file.as_deref(), "PASSERELLE_PASSWORD", &login)?;
            let p = app
                .create_agent(
                    &Actor::System,
                    NewAgent {
                        login,
                        display_name: name,
                        email,
                        is_admin: admin,
                        password: Some(password),
                    },
                )
                .await?;
            println!("created {} ({})", p.login, p.id);
        }
        UserCommand::List => {
            let all = app.list_principals(&Actor::System, Page::all()).await?;
            println!(
                "{:<24} {:<32} {:<11} {:<6} STATE",
                "LOGIN", "NAME", "KIND", "ADMIN"
            );
            for p in all.items {
                println!(
                    "{:<24} {:<32} {:<11} {:<6} {}",
                    p.login,
                    p.display_name,
                    format!("{:?}", p.kind).to_lowercase(),
                    if p.is_admin { "yes" } else { "no" },
                    if p.disabled { "disabled" } else { "active" }
                );
            }
        }
        UserCommand::Disable { login } => {
            app.set_disabled(&Actor::System, &login, true).await?;
            println!("disabled {login}");
        }
        UserCommand::Enable { login } => {
            app.set_disabled(&Actor::System, &login, false).await?;
            println!("enabled {login}");
        }
        UserCommand::Password {
            login,
            password_file,
        } => {
            let password = read_password(password_file.as_deref(), "PASSERELLE_PASSWORD", &login)?;
            app.set_password(&Actor::System, &login, &password).await?;
            println!("password of {login} changed; its sessions were ended");
        }
    }
    Ok(())
}

pub async fn space(node: Node, cmd: SpaceCommand) -> anyhow::Result<()> {
    match cmd {
        SpaceCommand::Create {
            slug,
            title,
            manager,
            domain,
            description,
            public,
        } => {
            let v = node
                .app
                .create_space(
                    &Actor::System,
                    NewSpace {
                        slug,
                        title,
                        description,
                        domain,
                        visibility: if public {
                            Visibility::Public
                        } else {
                            Visibility::Private
                        },
                        manager: Some(manager),
                    },
                )
                .await?;
            println!("created space {} ({})", v.space.slug, v.space.id);
        }
        SpaceCommand::Share { slug, edge } => {
            let v = node.app.space_by_slug(&Actor::System, &slug).await?;
            node.app
                .share_space(&Actor::System, v.space.id, edge.as_str())
                .await?;
            println!("{slug} is now shared with {edge}");
        }
        SpaceCommand::Unshare { slug } => {
            let v = node.app.space_by_slug(&Actor::System, &slug).await?;
            node.app.unshare_space(&Actor::System, v.space.id).await?;
            println!("{slug} is no longer shared; the edge purges it at the next replication pass");
        }
        SpaceCommand::List => {
            let all = node.app.my_spaces(&Actor::System, Page::all()).await?;
            println!("{:<32} {:<40} {:<20} STATE", "SLUG", "TITLE", "DOMAIN");
            for s in all.items {
                let state = if s.space.archived {
                    "archived"
                } else {
                    "active"
                };
                println!(
                    "{:<32} {:<40} {:<20} {}",
                    s.space.slug, s.space.title, s.space.domain, state
                );
            }
        }
    }
    Ok(())
}

pub async fn token(node: Node, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create { login, name } => {
            let t = node
                .app
                .create_token(&Actor::System, &login, &name, None)
                .await?;
            println!("token {} for {login} ({name}):", t.token.id);
            println!("{}", t.secret);
            println!("keep it now: it is not stored and cannot be shown again");
        }
        TokenCommand::List => {
            for t in node.app.list_tokens(&Actor::System).await? {
                let state = if t.revoked { "revoked" } else { "active" };
                println!("{} {:<30} {} {}", t.id, t.name, t.principal, state);
            }
        }
    }
    Ok(())
}

pub async fn audit(node: Node, cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify => {
            let report = node.app.verify_audit().await?;
            match report.broken {
                None => println!("audit log intact: {} entries verified", report.verified),
                Some(e) => bail!(
                    "audit log broken after {} intact entries: {e}",
                    report.verified
                ),
            }
        }
    }
    Ok(())
}

pub async fn blobs(node: Node, cmd: BlobsCommand) -> anyhow::Result<()> {
    match cmd {
        BlobsCommand::Verify { quick } => {
            let spinner = ProgressBar::new_spinner();
            spinner.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            spinner.set_message(if quick {
                "checking blob presence"
            } else {
                "re-hashing every referenced blob"
            });
            spinner.enable_steady_tick(std::time::Duration::from_millis(200));
            let report = node.app.check_blobs(&Actor::System, !quick).await;
            spinner.finish_and_clear();
            let report = report?;
            println!(
                "{} referenced, {} stored, {} unreferenced (collectable with `blobs gc`)",
                report.referenced, report.stored, report.unreferenced
            );
            for h in &report.missing {
                println!("MISSING {h}");
            }
            for h in &report.corrupt {
                println!("CORRUPT {h}");
            }
            if !report.is_clean() {
                bail!(
                    "{} missing and {} corrupt blobs: restore them from backup",
                    report.missing.len(),
                    report.corrupt.len()
                );
            }
            println!("blobs ok");
        }
        BlobsCommand::Gc { min_age_minutes } => {
            let referenced = node.app.referenced_hashes(&Actor::System).await?;
            let min_age = std::time::Duration::from_secs(min_age_minutes * 60);
            let r = passerelle_blobs::gc(node.blobs.as_ref(), &referenced, min_age).await?;
            println!(
                "{} blobs scanned, {} deleted ({} bytes freed), {} recent ones spared",
                r.scanned, r.deleted, r.bytes_freed, r.recent
            );
        }
    }
    Ok(())
}

pub async fn types(node: Node, cmd: TypesCommand) -> anyhow::Result<()> {
    match cmd {
        TypesCommand::List => {
            for t in node.app.list_document_types().await? {
                println!(
                    "{:<22} {:<40} {:<20} {} ans, {} champs",
                    t.key,
                    t.label,
                    t.domain,
                    t.retention_years,
                    t.fields.len()
                );
            }
        }
        TypesCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let types = parse_catalogue(&text)
                .with_context(|| format!("{} is not a valid catalogue", file.display()))?;
            for t in types {
                let key = t.key.clone();
                node.app.save_document_type(&Actor::System, t).await?;
                println!("saved {key}");
            }
        }
    }
    Ok(())
}

pub async fn replication(node: Node, cmd: ReplicationCommand) -> anyhow::Result<()> {
    match cmd {
        ReplicationCommand::Status => {
            let statuses = node.app.edges_status(&Actor::System).await?;
            if node.config.replication.edges.is_empty() {
                println!("no edge configured ([[replication.edges]] in the configuration)");
            }
            for e in &node.config.replication.edges {
                let st = statuses.iter().find(|s| e.id == s.edge.as_str());
                let contact = st
                    .and_then(|s| s.last_contact)
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "never".into());
                println!("edge {} ({}): last contact {contact}", e.id, e.endpoint);
                if let Some(err) = st.and_then(|s| s.last_error.as_ref()) {
                    println!("  last error: {err}");
                }
                for space in node.app.spaces_shared_with(&e.id).await? {
                    let r = node.app.space_replication(&Actor::System, space.id).await?;
                    let lag = r
                        .lag_revisions
                        .map(|l| l.to_string())
                        .unwrap_or_else(|| "unknown".into());
                    println!(
                        "  {:<32} lag {lag} revision(s), {} quarantined operation(s)",
                        space.slug,
                        r.quarantine.len()
                    );
                    if let Some(err) = st.and_then(|s| s.space_error(space.id)) {
                        println!("    failing: {err}");
                    }
                }
            }
        }
    }
    Ok(())
}
