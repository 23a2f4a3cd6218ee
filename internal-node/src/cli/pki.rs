//! `passerelle-internal pki …`: the private CA of the mutual-TLS link to the
//! edge nodes (DESIGN.md §4). The CA and its key stay on this node; each
//! `issue-edge` prepares a directory that ops copy to the DMZ.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use passerelle_pki::{Expiry, IssuedBundle, IssuedCert, NodeId, Pki, Role};
use time::{Duration, OffsetDateTime};

use crate::config::Config;

/// Where the CA lives; every subcommand takes it.
#[derive(Debug, Args)]
pub struct PkiDir {
    /// Directory of the CA [default: <data_dir>/pki].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create the private CA, once: ca.pem (public) and ca.key (0600, never leaves this node).
    Init {
        #[command(flatten)]
        dir: PkiDir,
        /// Name of the CA [default: "Passerelle CA <host name>"].
        #[arg(long)]
        name: Option<String>,
        /// Lifetime of the CA certificate, in days.
        #[arg(long, default_value_t = 3650, value_parser = clap::value_parser!(u32).range(1..))]
        days: u32,
    },
    /// Issue the server certificate of an edge node, in <dir>/issued/<id>/.
    IssueEdge {
        #[command(flatten)]
        dir: PkiDir,
        /// Node id: 1 to 63 characters among a-z, 0-9 and '-'.
        #[arg(long)]
        id: NodeId,
        /// DNS name the internal node dials the edge by (repeat for several).
        #[arg(long = "dns", value_name = "NAME")]
        dns: Vec<String>,
        /// IP address the internal node dials the edge at (repeat for several).
        #[arg(long = "ip", value_name = "ADDRESS")]
        ips: Vec<IpAddr>,
        /// Lifetime, in days.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..))]
        days: u32,
    },
    /// Issue the client certificate of this internal node, in <dir>/issued/<id>/.
    IssueInternal {
        #[command(flatten)]
        dir: PkiDir,
        /// Node id: 1 to 63 characters among a-z, 0-9 and '-'.
        #[arg(long, default_value = "internal")]
        id: NodeId,
        /// Lifetime, in days.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..))]
        days: u32,
    },
    /// List issued certificates with their expiry; marks those to renew.
    List {
        #[command(flatten)]
        dir: PkiDir,
        /// JSON for monitoring scripts instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Re-issue a certificate with a new key and the same names; the old files stay as *.pem.previous.
    Renew {
        #[command(flatten)]
        dir: PkiDir,
        #[arg(long)]
        id: NodeId,
        /// Lifetime, in days.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..))]
        days: u32,
    },
}

/// Runs a `pki` subcommand. File and key work happens off the async runtime.
pub async fn pki(config: &Config, cmd: PkiCommand) -> anyhow::Result<()> {
    let default_dir = config.data_dir.join("pki");
    tokio::task::spawn_blocking(move || run(&default_dir, cmd))
        .await
        .context("the pki command did not finish")?
}

fn run(default_dir: &Path, cmd: PkiCommand) -> anyhow::Result<()> {
    match cmd {
        PkiCommand::Init { dir, name, days } => init(&Target::new(dir, default_dir), name, days),
        PkiCommand::IssueEdge {
            dir,
            id,
            dns,
            ips,
            days,
        } => issue_edge(&Target::new(dir, default_dir), &id, &dns, &ips, days),
        PkiCommand::IssueInternal { dir, id, days } => {
            issue_internal(&Target::new(dir, default_dir), &id, days)
        }
        PkiCommand::List { dir, json } => list(&Target::new(dir, default_dir), json),
        PkiCommand::Renew { dir, id, days } => renew(&Target::new(dir, default_dir), &id, days),
    }
}

/// The CA directory, and how to repeat `--dir` in the commands we suggest.
struct Target {
    dir: PathBuf,
    flag: String,
}

impl Target {
    fn new(arg: PkiDir, default_dir: &Path) -> Self {
        match arg.dir {
            Some(dir) => Self {
                flag: format!(" --dir {}", dir.display()),
                dir,
            },
            None => Self {
                dir: default_dir.to_owned(),
                flag: String::new(),
            },
        }
    }

    fn open(&self) -> anyhow::Result<Pki> {
        Ok(Pki::open(&self.dir)?)
    }
}

fn init(target: &Target, name: Option<String>, days: u32) -> anyhow::Result<()> {
    let name = name.unwrap_or_else(default_ca_name);
    let pki = Pki::init(&target.dir, &name, days_(days))?;
    let dir = pki.dir();
    println!("CA \"{name}\" created in {}", dir.display());
    println!(
        "  {}  certificate: both sides trust it",
        dir.join("ca.pem").display()
    );
    println!(
        "  {}  private key (0600): never copy it off this node; back it up offline",
        dir.join("ca.key").display()
    );
    println!("  valid until {}", date(pki.ca_info().not_after));
    println!("next:");
    println!(
        "  passerelle-internal pki issue-edge{} --id edge-1 --dns <name the edge is dialled by> [--ip <its address>]",
        target.flag
    );
    println!(
        "  passerelle-internal pki issue-internal{} --id internal",
        target.flag
    );
    Ok(())
}

fn issue_edge(
    target: &Target,
    id: &NodeId,
    dns: &[String],
    ips: &[IpAddr],
    days: u32,
) -> anyhow::Result<()> {
    let bundle = target.open()?.issue_edge(id, dns, ips, days_(days))?;
    print_issued("edge", &bundle);
    let host = dns
        .first()
        .cloned()
        .or_else(|| ips.first().map(IpAddr::to_string))
        .unwrap_or_else(|| "<edge>".into());
    print!("{}", copy_to_edge(id, bundle_dir(&bundle), &host));
    println!(
        "the edge serves cert.pem with key.pem, and accepts only clients whose certificate chains to ca.pem;"
    );
    println!(
        "on each side, allow the peer's id: {id} on this node, the internal node's id (e.g. internal) on the edge."
    );
    println!("never copy ca.key.");
    Ok(())
}

fn issue_internal(target: &Target, id: &NodeId, days: u32) -> anyhow::Result<()> {
    let bundle = target.open()?.issue_internal(id, days_(days))?;
    print_issued("internal", &bundle);
    println!(
        "it stays on this node: configure replication with cert.pem, key.pem and ca.pem from {}",
        bundle_dir(&bundle).display()
    );
    Ok(())
}

fn renew(target: &Target, id: &NodeId, days: u32) -> anyhow::Result<()> {
    let bundle = target.open()?.renew(id, days_(days))?;
    print_issued("renewed", &bundle);
    println!("the replaced files stay beside them as cert.pem.previous and key.pem.previous.");
    match bundle.role {
        Role::Edge => {
            print!("{}", copy_to_edge(id, bundle_dir(&bundle), "<edge>"));
            println!(
                "the edge picks them up without a restart. The old certificate stays valid until its expiry date (there is no revocation)."
            );
        }
        Role::Internal => println!(
            "the running node picks the new certificate up for its next connection, without a restart."
        ),
    }
    Ok(())
}

/// How to copy an edge's bundle to its host: the three current files by
/// name (a renewal leaves `*.previous` beside them, which must not follow),
/// staged through the admin's account since `key.pem` is readable by the
/// service user only, and installed with `key.pem` owned by the edge's
/// service user, mode 0600, key first (the edge reloads on each change).
fn copy_to_edge(id: &NodeId, dir: &Path, host: &str) -> String {
    let dir = dir.display();
    let stage = format!("~/{id}-bundle");
    format!(
        "copy only cert.pem, key.pem and ca.pem to the edge (DMZ); never ca.key, never *.previous. On this host:
  umask 077; mkdir {stage}
  sudo install -m 0600 -o \"$USER\" {dir}/cert.pem {dir}/key.pem {dir}/ca.pem {stage}/
  scp -p {stage}/cert.pem {stage}/key.pem {stage}/ca.pem <admin>@{host}:
  rm -r {stage}
then on the edge host, key.pem owned by the edge's service user with mode 0600:
  sudo install -m 0600 -o passerelle-edge -g passerelle-edge key.pem /etc/passerelle-edge/tls/
  sudo install -m 0640 -o root -g passerelle-edge cert.pem ca.pem /etc/passerelle-edge/tls/
  rm cert.pem key.pem ca.pem
"
    )
}

fn print_issued(what: &str, bundle: &IssuedBundle) {
    println!(
        "{what} certificate for {} ({}, {}), valid until {}",
        bundle.id,
        bundle.role,
        bundle.id.uri(),
        date(bundle.not_after)
    );
    println!("bundle: {}", bundle_dir(bundle).display());
    println!("  cert.pem  certificate");
    println!("  key.pem   private key (0600)");
    println!("  ca.pem    CA certificate");
}

fn bundle_dir(bundle: &IssuedBundle) -> &Path {
    bundle.dir.as_deref().unwrap_or(Path::new("?"))
}

fn list(target: &Target, json: bool) -> anyhow::Result<()> {
    let pki = target.open()?;
    let certs = pki.list()?;
    if json {
        let out = serde_json::json!({ "ca": pki.ca_info(), "certificates": certs });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let ca = pki.ca_info();
    let now = OffsetDateTime::now_utc();
    println!(
        "CA \"{}\" in {}, valid until {}{}",
        ca.name,
        pki.dir().display(),
        date(ca.not_after),
        if ca.not_after <= now {
            " — EXPIRED"
        } else {
            ""
        }
    );
    if certs.is_empty() {
        println!(
            "no certificate issued yet: passerelle-internal pki issue-edge{} --id <id> --dns <name>",
            target.flag
        );
        return Ok(());
    }
    print!("{}", table(&certs, now));
    let due: Vec<&IssuedCert> = certs.iter().filter(|c| c.expiry != Expiry::Valid).collect();
    for cert in &due {
        println!(
            "renew {}: passerelle-internal pki renew{} --id {}",
            cert.id, target.flag, cert.id
        );
    }
    if certs.iter().any(|c| !c.signed_by_ca) {
        println!(
            "certificates marked \"other CA\" were not signed by this CA: peers trusting ca.pem refuse them; renew them."
        );
    }
    Ok(())
}

fn table(certs: &[IssuedCert], now: OffsetDateTime) -> String {
    let rows: Vec<[String; 5]> = certs
        .iter()
        .map(|c| {
            let names: Vec<String> = c
                .dns
                .iter()
                .cloned()
                .chain(c.ips.iter().map(IpAddr::to_string))
                .collect();
            [
                c.id.to_string(),
                c.role.to_string(),
                date(c.not_after),
                status(c, now),
                names.join(", "),
            ]
        })
        .collect();
    let header = ["ID", "ROLE", "NOT AFTER", "STATUS", "NAMES"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn status(cert: &IssuedCert, now: OffsetDateTime) -> String {
    let mut s = match cert.expiry {
        Expiry::Valid => "ok".to_owned(),
        Expiry::RenewSoon => format!(
            "RENEW (in {} days)",
            (cert.not_after - now).whole_days().max(0)
        ),
        Expiry::Expired => "EXPIRED".to_owned(),
    };
    if !cert.signed_by_ca {
        s.push_str(", other CA");
    }
    s
}

fn date(t: OffsetDateTime) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn days_(days: u32) -> Duration {
    Duration::days(i64::from(days))
}

/// "Passerelle CA <host name>": tells CAs of several sites apart.
fn default_ca_name() -> String {
    let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("Passerelle CA {host}"),
        None => "Passerelle CA".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_marks_expiry() {
        let now = OffsetDateTime::now_utc();
        let cert = |id: &str, role, not_after, expiry, signed_by_ca| IssuedCert {
            id: NodeId::parse(id).expect("id"),
            role,
            serial: "01".into(),
            not_before: now - Duration::days(1),
            not_after,
            dns: vec!["edge.example.fr".into()],
            ips: vec!["203.0.113.10".parse().expect("ip")],
            uris: vec![],
            signed_by_ca,
            has_previous: false,
            expiry,
            dir: PathBuf::new(),
        };
        let out = table(
            &[
                cert(
                    "edge-1",
                    Role::Edge,
                    now + Duration::days(300),
                    Expiry::Valid,
                    true,
                ),
                cert(
                    "old",
                    Role::Edge,
                    now - Duration::days(1),
                    Expiry::Expired,
                    true,
                ),
                cert(
                    "internal",
                    Role::Internal,
                    now + Duration::days(10) + Duration::hours(1),
                    Expiry::RenewSoon,
                    false,
                ),
            ],
            now,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("ID        ROLE      NOT AFTER   STATUS"),
            "{out}"
        );
        assert!(lines[1].contains(" ok ") && lines[1].ends_with("edge.example.fr, 203.0.113.10"));
        assert!(lines[2].contains("EXPIRED"));
        assert!(lines[3].contains("RENEW (in 10 days), other CA"), "{out}");
        let name_column = lines[0].find("NAMES").expect("header");
        assert!(
            lines
                .iter()
                .skip(1)
                .all(|l| l[name_column..].starts_with("edge.example.fr"))
        );
    }

    #[test]
    fn the_copy_hint_names_the_current_files_and_installs_the_key_for_the_edge_user_only() {
        let id = NodeId::parse("edge-1").expect("id");
        let hint = copy_to_edge(
            &id,
            Path::new("/var/lib/passerelle/internal/pki/issued/edge-1"),
            "edge-1.dmz.example.fr",
        );
        assert!(
            !hint.contains("/*"),
            "no glob: it would take *.previous\n{hint}"
        );
        assert!(
            hint.contains("scp -p ~/edge-1-bundle/cert.pem ~/edge-1-bundle/key.pem ~/edge-1-bundle/ca.pem <admin>@edge-1.dmz.example.fr:"),
            "{hint}"
        );
        let key = hint
            .lines()
            .find(|l| l.contains("key.pem /etc/passerelle-edge/tls/"))
            .expect("a line installs the key");
        assert!(
            key.contains("install -m 0600 -o passerelle-edge -g passerelle-edge"),
            "{key}"
        );
    }

    #[test]
    fn dates_are_iso() {
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        assert_eq!(date(t), "2027-01-15");
    }
}
