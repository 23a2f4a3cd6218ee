//! Agents log in with the directory on a real node (ADR 0009): a
//! `passerelle-internal` whose `[ldap]` names a real OpenLDAP over LDAPS
//! (`passerelle_testing::slapd`). An agent's first login makes their
//! account; WebDAV takes the same password; a wrong one is refused; with
//! the directory stopped, directory logins answer 503 while the local
//! administrator still logs in. The directory's groups make her an
//! administrator and a member of the space mapped to her group. Her
//! account enrols no second factor of the node's (the directory's to
//! manage).

mod common;

use common::{ADMIN_PASSWORD, NodeProcess, cli, ok};
use passerelle_testing::slapd::{self, BASE};
use reqwest::StatusCode;
use serde_json::json;

const SEED: &str = "\
dn: dc=metropole,dc=example
objectClass: dcObject
objectClass: organization
o: Metropole
dc: metropole

dn: cn=passerelle,dc=metropole,dc=example
objectClass: person
objectClass: simpleSecurityObject
cn: passerelle
sn: passerelle
userPassword: service secret

dn: uid=c.durand,dc=metropole,dc=example
objectClass: inetOrgPerson
uid: c.durand
cn: Claire Durand
sn: Durand
mail: c.durand@metropole.example
userPassword: Claire 2026 !

dn: cn=ged-admins,dc=metropole,dc=example
objectClass: groupOfNames
cn: ged-admins
member: uid=c.durand,dc=metropole,dc=example

dn: cn=finances,dc=metropole,dc=example
objectClass: groupOfNames
cn: finances
member: uid=c.durand,dc=metropole,dc=example
";

const CLAIRE_PW: &str = "Claire 2026 !";

#[tokio::test]
async fn an_agent_logs_in_with_the_directory_and_the_local_administrator_survives_its_loss()
-> anyhow::Result<()> {
    let Some(directory) = slapd::start(SEED)? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    ok(&cli(d, &["init"])?);
    ok(&cli(
        d,
        &[
            "space",
            "create",
            "finances",
            "--title",
            "Finances",
            "--manager",
            "admin",
        ],
    )?);
    let admin_token = ok(&cli(
        d,
        &["token", "create", "--login", "admin", "--name", "tests"],
    )?)
    .lines()
    .find(|l| l.starts_with("psr_"))
    .unwrap_or_default()
    .to_owned();
    let password_file = d.join("ldap-password");
    std::fs::write(&password_file, "service secret\n")?;
    let config = d.join("passerelle.toml");
    std::fs::write(
        &config,
        format!(
            "[ldap]\nurls = [\"{}\"]\nca_file = \"{}\"\n\
             bind_dn = \"cn=passerelle,{BASE}\"\nbind_password_file = \"{}\"\n\
             user_base = \"{BASE}\"\n\
             admin_group = \"cn=GED-Admins,{BASE}\"\n\
             [[ldap.group_roles]]\ngroup = \"cn=finances,{BASE}\"\n\
             space = \"finances\"\nrole = \"contributor\"\n",
            directory.ldaps,
            directory.ca.display(),
            password_file.display()
        ),
    )?;
    let config_arg = config.to_string_lossy().into_owned();
    let mut node = NodeProcess::start(d, &["--config", &config_arg])?;
    let http = reqwest::Client::new();
    let login = |login: &'static str, password: &'static str| {
        http.post(node.url("/api/v1/auth/login"))
            .json(&json!({ "login": login, "password": password }))
            .send()
    };
    let first = login("c.durand", CLAIRE_PW).await?;
    assert_eq!(first.status(), StatusCode::OK);
    let cookie = first
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let me: serde_json::Value = first.json().await?;
    // The directory is her account's authority: no second factor of the
    // node's own (ADR 0012 §7).
    let enrol = http
        .post(node.url("/api/v1/account/second-factor"))
        .header(reqwest::header::COOKIE, &cookie)
        .header(
            "x-csrf-token",
            me["csrf_token"].as_str().unwrap_or_default(),
        )
        .send()
        .await?;
    assert_eq!(enrol.status(), StatusCode::CONFLICT);
    let problem: serde_json::Value = enrol.json().await?;
    assert_eq!(problem["code"], "directory_account", "{problem}");
    assert_eq!(me["user"]["display_name"], "Claire Durand", "{me}");
    assert_eq!(me["user"]["source"], "directory", "{me}");
    // Her groups: the administrators' one, and finances as a contributor.
    assert_eq!(me["user"]["is_admin"], true, "{me}");
    let spaces: serde_json::Value = http
        .get(node.url("/api/v1/spaces"))
        .bearer_auth(&admin_token)
        .send()
        .await?
        .json()
        .await?;
    let finances = spaces["items"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["slug"] == "finances"))
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let members: serde_json::Value = http
        .get(node.url(&format!("/api/v1/spaces/{finances}/members")))
        .bearer_auth(&admin_token)
        .send()
        .await?
        .json()
        .await?;
    let claire = members
        .as_array()
        .and_then(|m| m.iter().find(|m| m["login"] == "c.durand"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(claire["role"], "contributor", "{members}");
    assert_eq!(claire["granted_by"], "directory", "{members}");
    assert_eq!(
        login("c.durand", "pas le bon").await?.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login("c.durand", "").await?.status(),
        StatusCode::UNAUTHORIZED
    );
    // WebDAV takes the directory's password too (from loopback).
    let dav = http
        .request(reqwest::Method::from_bytes(b"PROPFIND")?, node.url("/dav/"))
        .basic_auth("c.durand", Some(CLAIRE_PW))
        .header("Depth", "0")
        .send()
        .await?;
    assert_eq!(dav.status(), StatusCode::MULTI_STATUS);
    // The directory sync is one of the node's workers.
    let ready = http.get(node.url("/readyz")).send().await?.text().await?;
    assert!(ready.contains("directory"), "{ready}");

    // The directory stops: its agents wait, the local administrator does not.
    drop(directory);
    let down = login("c.durand", CLAIRE_PW).await?;
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: serde_json::Value = down.json().await?;
    assert_eq!(problem["code"], "unavailable", "{problem}");
    assert_eq!(
        login("admin", ADMIN_PASSWORD).await?.status(),
        StatusCode::OK
    );
    assert!(node.terminate()?.success());
    Ok(())
}
