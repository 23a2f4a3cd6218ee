//! The LDAP adapter against a real OpenLDAP (Debian's `slapd`, started
//! here on loopback ports in a temp directory, seeded with LDIF; LDAPS
//! with a CA made by the test): right and wrong passwords, an empty one
//! (never sent), filter injection, several entries for one login, the
//! node's own settings refused, failover between servers, TLS checked
//! against the CA given; an agent's groups read from `memberOf` or from the
//! groups naming them. `slapd` missing is a failure under CI (`.ci/run`
//! installs it) and a skip elsewhere.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use passerelle_core::directory::{Directory, DirectoryError, DirectoryStatus, GroupDn};
use passerelle_ldap::{LdapDirectory, LdapSettings};
use passerelle_testing::slapd::{BASE, certificates, free_port};

const SERVICE_DN: &str = "cn=passerelle,ou=services,dc=metropole,dc=example";
const SERVICE_PW: &str = "service secret";
const CLAIRE_PW: &str = "Claire 2026 !";

const SEED: &str = "\
dn: dc=metropole,dc=example
objectClass: dcObject
objectClass: organization
o: Metropole
dc: metropole

dn: ou=people,dc=metropole,dc=example
objectClass: organizationalUnit
ou: people

dn: ou=services,dc=metropole,dc=example
objectClass: organizationalUnit
ou: services

dn: cn=passerelle,ou=services,dc=metropole,dc=example
objectClass: person
objectClass: simpleSecurityObject
cn: passerelle
sn: passerelle
userPassword: service secret

dn: uid=c.durand,ou=people,dc=metropole,dc=example
objectClass: inetOrgPerson
uid: c.durand
cn: Claire Durand
sn: Durand
mail: c.durand@metropole.example
userPassword: Claire 2026 !

dn: uid=p.martin,ou=people,dc=metropole,dc=example
objectClass: inetOrgPerson
uid: p.martin
cn: Paul Martin
sn: Martin
userPassword: Paul 2026 !

dn: uid=twin,ou=people,dc=metropole,dc=example
objectClass: inetOrgPerson
uid: twin
cn: Twin One
sn: One
userPassword: twin

dn: cn=twin two,ou=people,dc=metropole,dc=example
objectClass: inetOrgPerson
uid: twin
cn: twin two
sn: Two
userPassword: twin

dn: ou=groups,dc=metropole,dc=example
objectClass: organizationalUnit
ou: groups

dn: cn=GED-Admins,ou=groups,dc=metropole,dc=example
objectClass: groupOfNames
cn: GED-Admins
member: uid=c.durand,ou=people,dc=metropole,dc=example
member: cn=passerelle,ou=services,dc=metropole,dc=example

dn: cn=finances,ou=groups,dc=metropole,dc=example
objectClass: groupOfNames
cn: finances
member: uid=c.durand,ou=people,dc=metropole,dc=example
member: uid=p.martin,ou=people,dc=metropole,dc=example
";

const ADMINS: &str = "cn=ged-admins,ou=groups,dc=metropole,dc=example";
const FINANCES: &str = "cn=finances,ou=groups,dc=metropole,dc=example";

fn start() -> anyhow::Result<Option<passerelle_testing::slapd::Slapd>> {
    passerelle_testing::slapd::start(SEED)
}

fn settings(urls: Vec<String>, ca: Option<PathBuf>, starttls: bool) -> LdapSettings {
    LdapSettings {
        urls,
        starttls,
        ca_file: ca,
        bind_dn: SERVICE_DN.into(),
        bind_password: SERVICE_PW.into(),
        user_base: format!("ou=people,{BASE}"),
        user_filter: "(&(objectClass=inetOrgPerson)(uid={login}))".into(),
        login_attribute: "uid".into(),
        name_attribute: "cn".into(),
        mail_attribute: "mail".into(),
        group_attribute: "memberOf".into(),
        group_base: None,
        group_filter: "(|(member={dn})(uniqueMember={dn}))".into(),
        timeout: Duration::from_secs(3),
    }
}

/// An address nothing listens on.
fn dead() -> anyhow::Result<String> {
    Ok(format!("ldaps://127.0.0.1:{}", free_port()?))
}

#[tokio::test]
async fn passwords_are_checked_by_binding_as_the_agent_over_ldaps() -> anyhow::Result<()> {
    let Some(s) = start()? else { return Ok(()) };
    let dir = LdapDirectory::new(settings(vec![s.ldaps.clone()], Some(s.ca.clone()), false))?;
    let claire = dir.verify("c.durand", CLAIRE_PW).await?.context("claire")?;
    assert_eq!(claire.login, "c.durand");
    assert_eq!(claire.display_name, "Claire Durand");
    assert_eq!(claire.email, "c.durand@metropole.example");
    let paul = dir
        .verify("p.martin", "Paul 2026 !")
        .await?
        .context("paul")?;
    assert_eq!(paul.email, "");
    for (login, password) in [
        ("c.durand", "pas le bon"),
        ("inconnu", CLAIRE_PW),
        // Filter injection: the login is escaped, never a pattern.
        ("*", CLAIRE_PW),
        ("c.durand)(uid=*", CLAIRE_PW),
        ("*)(|(uid=*", CLAIRE_PW),
        // Two entries answer to this login: nobody to bind as.
        ("twin", "twin"),
        // Never sent: an empty simple bind is an anonymous success.
        ("c.durand", ""),
    ] {
        assert_eq!(dir.verify(login, password).await?, None, "{login:?}");
    }
    // StartTLS on the plain port, against the same CA.
    let starttls = LdapDirectory::new(settings(vec![s.ldap.clone()], Some(s.ca.clone()), true))?;
    assert!(starttls.verify("c.durand", CLAIRE_PW).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn servers_are_tried_in_order_and_their_silence_is_not_a_wrong_password() -> anyhow::Result<()>
{
    let Some(s) = start()? else { return Ok(()) };
    let failover = LdapDirectory::new(settings(
        vec![dead()?, s.ldaps.clone()],
        Some(s.ca.clone()),
        false,
    ))?;
    assert!(failover.verify("c.durand", CLAIRE_PW).await?.is_some());
    let down = LdapDirectory::new(settings(vec![dead()?, dead()?], Some(s.ca.clone()), false))?;
    assert!(matches!(
        down.verify("c.durand", CLAIRE_PW).await,
        Err(DirectoryError::Unavailable(_))
    ));
    // An empty password is refused without asking, even with no server.
    assert_eq!(down.verify("c.durand", "").await?, None);
    Ok(())
}

#[tokio::test]
async fn a_certificate_of_another_ca_or_the_nodes_bad_settings_are_refused() -> anyhow::Result<()> {
    let Some(s) = start()? else { return Ok(()) };
    let other = tempfile::tempdir()?;
    let (other_ca, _, _) = certificates(other.path())?;
    let wrong_ca = LdapDirectory::new(settings(vec![s.ldaps.clone()], Some(other_ca), false))?;
    assert!(matches!(
        wrong_ca.verify("c.durand", CLAIRE_PW).await,
        Err(DirectoryError::Unavailable(_))
    ));
    let mut bad = settings(vec![s.ldaps.clone()], Some(s.ca.clone()), false);
    bad.bind_password = "pas le bon".into();
    assert!(matches!(
        LdapDirectory::new(bad)?.verify("c.durand", CLAIRE_PW).await,
        Err(DirectoryError::Misconfigured(_))
    ));
    // Settings that cannot work are refused before any connection.
    let plain = LdapDirectory::new(settings(vec![s.ldap.clone()], None, false));
    assert!(
        plain.is_err(),
        "ldap:// without StartTLS sends passwords in clear"
    );
    let mut no_placeholder = settings(vec![s.ldaps.clone()], None, false);
    no_placeholder.user_filter = "(uid=c.durand)".into();
    assert!(LdapDirectory::new(no_placeholder).is_err());
    Ok(())
}

#[tokio::test]
async fn the_sync_reads_who_is_there_who_left_and_who_is_ambiguous() -> anyhow::Result<()> {
    let Some(s) = start()? else { return Ok(()) };
    let dir = LdapDirectory::new(settings(vec![s.ldaps.clone()], Some(s.ca.clone()), false))?;
    let logins: Vec<String> = ["c.durand", "p.martin", "parti", "twin", "*"]
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
    let statuses = dir.statuses(&logins).await?;
    assert!(
        matches!(&statuses[0], DirectoryStatus::Active(e) if e.display_name == "Claire Durand")
    );
    assert!(matches!(&statuses[1], DirectoryStatus::Active(_)));
    assert_eq!(statuses[2], DirectoryStatus::Absent);
    assert_eq!(statuses[3], DirectoryStatus::Ambiguous);
    // Escaped: `*` is a login nobody has, not everyone.
    assert_eq!(statuses[4], DirectoryStatus::Absent);
    // Paul leaves the directory.
    let out = std::process::Command::new("ldapdelete")
        .args([
            "-x",
            "-H",
            &s.ldap,
            "-D",
            passerelle_testing::slapd::ROOT_DN,
            "-w",
        ])
        .arg(passerelle_testing::slapd::ROOT_PASSWORD)
        .arg(format!("uid=p.martin,ou=people,{BASE}"))
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "ldapdelete: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = dir.statuses(&logins[..2]).await?;
    assert!(matches!(&after[0], DirectoryStatus::Active(_)));
    assert_eq!(after[1], DirectoryStatus::Absent);
    let down = LdapDirectory::new(settings(vec![dead()?], Some(s.ca.clone()), false))?;
    assert!(matches!(
        down.statuses(&logins).await,
        Err(DirectoryError::Unavailable(_))
    ));
    Ok(())
}

fn groups(names: &[&str]) -> Vec<GroupDn> {
    let mut v: Vec<GroupDn> = names
        .iter()
        .map(|g| GroupDn::parse(g).expect("dn"))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn an_agent_s_groups_are_read_from_member_of_or_from_the_groups_themselves()
-> anyhow::Result<()> {
    let Some(s) = start()? else { return Ok(()) };
    // `memberOf` on the entry (Active Directory, OpenLDAP's overlay).
    let by_attribute =
        LdapDirectory::new(settings(vec![s.ldaps.clone()], Some(s.ca.clone()), false))?;
    // The groups listing the agent, searched (the attribute not read).
    let mut searched = settings(vec![s.ldaps.clone()], Some(s.ca.clone()), false);
    searched.group_attribute = String::new();
    searched.group_base = Some(format!("ou=groups,{BASE}"));
    let by_search = LdapDirectory::new(searched)?;
    // Neither: no groups at all.
    let mut blind = settings(vec![s.ldaps.clone()], Some(s.ca.clone()), false);
    blind.group_attribute = String::new();
    let blind = LdapDirectory::new(blind)?;
    for dir in [&by_attribute, &by_search] {
        let claire = dir.verify("c.durand", CLAIRE_PW).await?.context("claire")?;
        let mut got = claire.groups.clone();
        got.sort();
        assert_eq!(got, groups(&[ADMINS, FINANCES]), "{dir:?}");
        let paul = dir
            .verify("p.martin", "Paul 2026 !")
            .await?
            .context("paul")?;
        assert_eq!(paul.groups, groups(&[FINANCES]));
    }
    let claire = blind
        .verify("c.durand", CLAIRE_PW)
        .await?
        .context("claire")?;
    assert!(claire.groups.is_empty());
    // Claire leaves the administrators' group: the sync's answer follows.
    s.modify(&format!(
        "dn: cn=GED-Admins,ou=groups,{BASE}\nchangetype: modify\ndelete: member\nmember: uid=c.durand,ou=people,{BASE}\n"
    ))?;
    for dir in [&by_attribute, &by_search] {
        let now = dir.statuses(&["c.durand".to_owned()]).await?;
        let DirectoryStatus::Active(entry) = &now[0] else {
            anyhow::bail!("claire is still there: {now:?}");
        };
        assert_eq!(entry.groups, groups(&[FINANCES]), "{dir:?}");
    }
    // A group filter without its placeholder is refused at start.
    let mut bad = settings(vec![s.ldaps.clone()], Some(s.ca.clone()), false);
    bad.group_base = Some(format!("ou=groups,{BASE}"));
    bad.group_filter = "(member=*)".into();
    assert!(LdapDirectory::new(bad).is_err());
    Ok(())
}
