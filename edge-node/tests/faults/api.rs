//! The API calls the fault tests make on both nodes (spaces, sharing,
//! invitations, listings, operations, audit log) and a contractor's session
//! on the edge, so that each scenario reads as its steps.

use anyhow::{Context, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use passerelle_testing::edge_login::{Factor, edge_login};

use super::cluster::{Cluster, eventually};

const CONTRACTOR_PASSWORD: &str = "mot de passe du prestataire";

/// A contractor's session on the edge.
#[derive(Clone)]
pub(crate) struct EdgeUser {
    http: reqwest::Client,
    ebase: String,
    login: String,
    cookie: String,
    csrf: String,
    pub(crate) id: String,
    /// Their second factor (the edge requires one), for the next login.
    factor: Factor,
}

impl EdgeUser {
    pub(crate) fn req(&self, m: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(m, format!("{}{path}", self.ebase))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", &self.csrf)
    }

    async fn login(
        c: &Cluster,
        http: &reqwest::Client,
        login: &str,
        factor: Factor,
    ) -> anyhow::Result<Self> {
        let s = edge_login(http, &c.ebase, login, CONTRACTOR_PASSWORD, &factor).await?;
        let mut user = Self {
            http: http.clone(),
            ebase: c.ebase.clone(),
            login: login.to_owned(),
            cookie: s.cookie,
            csrf: s.csrf,
            id: String::new(),
            factor,
        };
        let me: Value = user
            .req(Method::GET, "/auth/me")
            .send()
            .await?
            .json()
            .await?;
        user.id = me["user"]["id"]
            .as_str()
            .context("contractor id")?
            .to_owned();
        Ok(user)
    }

    /// A new session (sessions may not survive a restart of the edge).
    pub(crate) async fn login_again(&self, c: &Cluster) -> anyhow::Result<Self> {
        Self::login(c, &self.http, &self.login, self.factor.clone()).await
    }
}

pub(crate) async fn new_space(
    c: &Cluster,
    http: &reqwest::Client,
    slug: &str,
) -> anyhow::Result<String> {
    let v: Value = c
        .api(http, Method::POST, "/spaces")
        .json(&json!({"slug": slug, "title": slug, "domain": "Travaux"}))
        .send()
        .await?
        .json()
        .await?;
    Ok(v["id"]
        .as_str()
        .or(v["space"]["id"].as_str())
        .with_context(|| format!("space id in {v}"))?
        .to_owned())
}

pub(crate) async fn share(c: &Cluster, http: &reqwest::Client, space: &str) -> anyhow::Result<()> {
    let r = c
        .api(http, Method::POST, &format!("/spaces/{space}/share"))
        .json(&json!({"edge": "edge-1"}))
        .send()
        .await?;
    ensure!(r.status().is_success(), "share: {}", r.status());
    Ok(())
}

/// Invites a contractor; returns the invitation's secret.
pub(crate) async fn invite(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
    email: &str,
    role: &str,
) -> anyhow::Result<String> {
    let inv: Value = c
        .api(http, Method::POST, &format!("/spaces/{space}/contractors"))
        .json(&json!({"email": email, "display_name": email, "organisation": "Entreprise", "role": role}))
        .send()
        .await?
        .json()
        .await?;
    let url = inv["invitation_url"].as_str().context("invitation url")?;
    Ok(url.split('#').nth(1).context("secret")?.to_owned())
}

/// Accepts the invitation on the edge once it got there, and logs in.
/// (Failed acceptances are throttled after 5: wait for the edge to catch up
/// with the space rather than polling the acceptance.)
pub(crate) async fn accept_and_login(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
    secret: &str,
    login: &str,
) -> anyhow::Result<EdgeUser> {
    eventually("the edge to catch up with the space", || async {
        let s = replication(c, http, space).await?;
        ensure!(s["lag_revisions"] == 0, "{s}");
        Ok(())
    })
    .await?;
    eventually("the invitation on the edge", || async {
        let r = http
            .post(format!("{}/invitations/accept", c.ebase))
            .json(&json!({"secret": secret, "password": CONTRACTOR_PASSWORD}))
            .send()
            .await?;
        ensure!(r.status() == 200, "accept: {}", r.status());
        Ok(())
    })
    .await?;
    EdgeUser::login(c, http, login, Factor::default()).await
}

pub(crate) async fn upload_internal(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
    name: &str,
    body: reqwest::Body,
) -> anyhow::Result<Value> {
    let r = c
        .api(
            http,
            Method::POST,
            &format!("/spaces/{space}/documents?name={name}"),
        )
        .body(body)
        .send()
        .await?;
    ensure!(r.status() == 201, "upload {name}: {}", r.status());
    Ok(r.json().await?)
}

fn documents_of(listing: &Value) -> anyhow::Result<Vec<Value>> {
    let items = listing["documents"]["items"]
        .as_array()
        .with_context(|| format!("listing: {listing}"))?;
    ensure!(
        listing["documents"]["total"] == items.len(),
        "listing paged: {listing}"
    );
    Ok(items.clone())
}

pub(crate) async fn internal_documents(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<Vec<Value>> {
    let v: Value = c
        .api(
            http,
            Method::GET,
            &format!("/spaces/{space}/children?limit=500"),
        )
        .send()
        .await?
        .json()
        .await?;
    documents_of(&v)
}

pub(crate) async fn edge_documents(user: &EdgeUser, space: &str) -> anyhow::Result<Vec<Value>> {
    let v: Value = user
        .req(Method::GET, &format!("/spaces/{space}/children?limit=500"))
        .send()
        .await?
        .json()
        .await?;
    documents_of(&v)
}

/// The contractor's operations in a space, as the edge reports them.
pub(crate) async fn operations(user: &EdgeUser, space: &str) -> anyhow::Result<Vec<Value>> {
    let r = user
        .req(Method::GET, &format!("/spaces/{space}/operations"))
        .send()
        .await?;
    ensure!(r.status() == 200, "operations: {}", r.status());
    let v: Value = r.json().await?;
    Ok(v.as_array()
        .or(v["items"].as_array())
        .cloned()
        .unwrap_or_default())
}

pub(crate) async fn replication(
    c: &Cluster,
    http: &reqwest::Client,
    space: &str,
) -> anyhow::Result<Value> {
    let r = c
        .api(http, Method::GET, &format!("/spaces/{space}/replication"))
        .send()
        .await?;
    ensure!(r.status() == 200, "replication status: {}", r.status());
    Ok(r.json().await?)
}

pub(crate) async fn audit_log(c: &Cluster, http: &reqwest::Client) -> anyhow::Result<Vec<Value>> {
    let mut all = Vec::new();
    loop {
        let v: Value = c
            .api(
                http,
                Method::GET,
                &format!("/audit?limit=500&offset={}", all.len()),
            )
            .send()
            .await?
            .json()
            .await?;
        let items = v["items"]
            .as_array()
            .with_context(|| format!("audit: {v}"))?;
        if items.is_empty() {
            return Ok(all);
        }
        all.extend(items.iter().cloned());
        if all.len() as u64 >= v["total"].as_u64().unwrap_or(0) {
            return Ok(all);
        }
    }
}
