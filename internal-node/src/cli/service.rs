//! `service …`: the accounts business applications act as (ADR 0008 §3),
//! and their roles in spaces. A drop folder files as one; an API token
//! (`token issue LOGIN`) lets an application call the API as one.

use anyhow::Context;
use clap::Subcommand;
use passerelle_core::Actor;
use passerelle_core::model::{Page, PrincipalKind};
use passerelle_core::role::Role;

use crate::Node;

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Create a service account: no password, no web login; give it a role
    /// in the spaces it files into (`service grant`).
    Add {
        /// Its login (`finances-helios`).
        login: String,
        /// What the audit log and the pages show ("Helios (finances)").
        #[arg(long)]
        name: String,
    },
    /// List the service accounts.
    List,
    /// Give a service account a role in a space (`contributor` to file
    /// documents there).
    Grant {
        login: String,
        /// The space's slug.
        #[arg(long)]
        space: String,
        /// reader, contributor, collaborator or manager.
        #[arg(long, default_value = "contributor")]
        role: String,
    },
}

pub async fn service(node: Node, cmd: ServiceCommand) -> anyhow::Result<()> {
    let app = &node.app;
    match cmd {
        ServiceCommand::Add { login, name } => {
            let p = app.create_service(&Actor::System, &login, &name).await?;
            println!(
                "created the service account {} ({}); give it a role: \
                 `passerelle-internal service grant {} --space SLUG`",
                p.login, p.id, p.login
            );
        }
        ServiceCommand::List => {
            let all = app.list_principals(&Actor::System, Page::all()).await?;
            println!("{:<32} {:<40} STATE", "LOGIN", "NAME");
            for p in all
                .items
                .iter()
                .filter(|p| p.kind == PrincipalKind::Service)
            {
                let state = if p.disabled { "disabled" } else { "active" };
                println!("{:<32} {:<40} {state}", p.login, p.display_name);
            }
        }
        ServiceCommand::Grant { login, space, role } => {
            let role: Role = role.parse().map_err(|_| {
                anyhow::anyhow!(
                    "unknown role {role:?}: reader, contributor, collaborator or manager"
                )
            })?;
            let v = app
                .space_by_slug(&Actor::System, &space)
                .await
                .with_context(|| format!("no space {space:?}: `space list` shows them"))?;
            // Agents join spaces through their managers, in the pages:
            // this command grants service accounts only.
            app.service_actor(&login)
                .await
                .with_context(|| format!("{login} is not an enabled service account"))?;
            app.set_member(&Actor::System, v.space.id, &login, role)
                .await?;
            println!("{login} is {} of {space}", role.as_str());
        }
    }
    Ok(())
}
