//! WebDAV on a real node (SQLite file, filesystem blobs, the real HTTP
//! server on a loopback port) with real clients: Debian's `litmus` (the
//! reference conformance suite) and `rclone` (a sync tool). Both must be
//! installed (`.ci/run` installs them); a missing one fails the test. What
//! rclone wrote is then read back through the REST API and the pages.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use anyhow::{Context, bail, ensure};
use passerelle_core::Actor;
use passerelle_core::model::{Page, Visibility};
use passerelle_core::service::NewSpace;
use passerelle_tests::{Api, Backend, PASSWORD, TestNode};
use serde_json::Value;

/// The litmus suites that must pass in full; `locks` runs against core's
/// lock model (ADR 0007 §1), the one the API and the pages use.
const LITMUS_SUITES: [&str; 5] = ["basic", "copymove", "props", "locks", "http"];

/// A node with the space `slug`, managed by `alice`.
pub(super) async fn node_with_space(slug: &str, max_upload: u64) -> anyhow::Result<TestNode> {
    let n = TestNode::start(Backend::Sqlite, max_upload)
        .await?
        .context("SQLite always runs")?;
    n.node
        .app
        .create_space(
            &Actor::System,
            NewSpace {
                slug: slug.into(),
                title: slug.into(),
                description: String::new(),
                domain: "Urbanisme".into(),
                visibility: Visibility::Private,
                manager: Some("alice".into()),
            },
        )
        .await?;
    Ok(n)
}

pub(super) async fn run(cmd: &mut tokio::process::Command, what: &str) -> anyhow::Result<Output> {
    cmd.kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("cannot run {what}: is it installed (apt-get install {what})?"))
}

/// Each suite's "of N tests run: P passed, F failed" line, by name.
fn litmus_summaries(out: &str) -> Vec<(String, u32, u32)> {
    out.lines()
        .filter_map(|line| {
            let rest = line.split("<- summary for `").nth(1)?;
            let (suite, tail) = rest.split_once('\'')?;
            let number = |after: &str| -> Option<u32> {
                let (before, _) = tail.split_once(after)?;
                before.split_whitespace().last()?.parse().ok()
            };
            Some((suite.to_owned(), number(" passed")?, number(" failed")?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litmus_passes_the_basic_copymove_props_locks_and_http_suites() -> anyhow::Result<()> {
    let n = node_with_space("litmus", 64 * 1024 * 1024).await?;
    let work = tempfile::tempdir()?;
    let url = format!("{}/dav/litmus/", n.base);
    let out = run(
        tokio::process::Command::new("litmus")
            .current_dir(work.path())
            .env("TESTS", LITMUS_SUITES.join(" "))
            .args([url.as_str(), "alice", PASSWORD]),
        "litmus",
    )
    .await?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let summaries = litmus_summaries(&text);
    for suite in LITMUS_SUITES {
        let found = summaries.iter().find(|(s, _, _)| s == suite);
        match found {
            Some((_, passed, 0)) if *passed > 0 => {}
            _ => bail!("litmus suite {suite} did not pass: {summaries:?}\n{text}"),
        }
    }
    n.stop().await
}

/// `count` small files in nested folders, and one of `large` bytes.
fn tree(root: &Path, count: usize, large: usize) -> anyhow::Result<()> {
    for i in 0..count {
        let dir = root.join(format!("lot-{}", i % 10));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join(format!("pièce {i:04}.txt")),
            format!("pièce {i}\n").repeat(1 + i % 7),
        )?;
    }
    // Written in chunks, so that the test's own memory stays small and the
    // process's peak RSS measures the node.
    let mut out = std::io::BufWriter::new(std::fs::File::create(root.join("plans.bin"))?);
    let mut x: u32 = 2_463_534_242;
    let mut left = large;
    while left > 0 {
        // xorshift: incompressible, reproducible.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let bytes = x.to_le_bytes();
        let n = left.min(bytes.len());
        std::io::Write::write_all(&mut out, &bytes[..n])?;
        left -= n;
    }
    std::io::Write::flush(&mut out)?;
    Ok(())
}

/// `rclone` with the node as an on-the-fly remote for `alice`.
async fn rclone(n: &TestNode, args: &[&str]) -> anyhow::Result<String> {
    let obscured = run(
        tokio::process::Command::new("rclone").args(["obscure", PASSWORD]),
        "rclone",
    )
    .await?;
    let pass = String::from_utf8(obscured.stdout)?.trim().to_owned();
    let remote = format!(
        ":webdav,url='{}/dav',vendor=other,user=alice,pass='{pass}':",
        n.base
    );
    let args: Vec<String> = args.iter().map(|a| a.replace("REMOTE:", &remote)).collect();
    let out = run(
        tokio::process::Command::new("rclone")
            .args(&args)
            .args(["--config", "/dev/null", "-v"]),
        "rclone",
    )
    .await?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    ensure!(out.status.success(), "rclone {args:?} failed:\n{text}");
    Ok(text)
}

/// The size of the large file: `PASSERELLE_DAV_LARGE_BYTES` (1 GiB in the
/// bench), 8 MiB by default.
fn large_bytes() -> usize {
    std::env::var("PASSERELLE_DAV_LARGE_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8 * 1024 * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rclone_copies_a_tree_checks_it_equal_and_sends_only_changes() -> anyhow::Result<()> {
    let large = large_bytes();
    let n = node_with_space("sync", large as u64 + 1024).await?;
    let src = tempfile::tempdir()?;
    tree(src.path(), 1_000, large)?;
    let local = src.path().to_string_lossy().into_owned();
    rclone(&n, &["copy", &local, "REMOTE:sync", "--transfers", "4"]).await?;
    rclone(&n, &["check", &local, "REMOTE:sync", "--download"]).await?;
    let again = rclone(&n, &["copy", &local, "REMOTE:sync"]).await?;
    ensure!(
        again.contains("There was nothing to transfer")
            || again.contains("Transferred:   \t          0 / 0"),
        "a second copy sent something:\n{again}"
    );
    std::fs::write(src.path().join("lot-3").join("pièce 0003.txt"), "changée\n")?;
    rclone(&n, &["copy", &local, "REMOTE:sync"]).await?;
    // The changed file is version 2 of the same document.
    let alice = n
        .node
        .app
        .authenticate_basic("alice", PASSWORD, None)
        .await?;
    let space = n.node.app.space_by_slug(&alice, "sync").await?.space.id;
    let lot = n
        .node
        .app
        .folder_tree(&alice, space)
        .await?
        .into_iter()
        .find(|f| f.name.as_str() == "lot-3")
        .context("lot-3 copied")?;
    let docs = n
        .node
        .app
        .list_folder(&alice, space, Some(lot.id), Page::all())
        .await?
        .documents
        .items;
    let changed = docs
        .iter()
        .find(|d| d.name.as_str() == "pièce 0003.txt")
        .context("the changed file")?;
    assert_eq!(changed.current_version, 2);
    assert!(
        docs.iter()
            .filter(|d| d.id != changed.id)
            .all(|d| d.current_version == 1),
        "unchanged files stay at version 1"
    );
    same_tree_through_api_and_pages(&n, &space.to_string(), src.path()).await?;
    n.stop().await
}

/// The local files of `dir` (not below), by name, with their content's
/// hash.
fn local_files(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_file() {
            let name = e.file_name().to_string_lossy().into_owned();
            let hash = blake3::hash(&std::fs::read(e.path())?).to_hex().to_string();
            out.insert(name, hash);
        }
    }
    Ok(out)
}

/// The tree rclone wrote, as the REST API and the web pages show it: the
/// same folders, the same names, each current version's hash that of the
/// local file.
async fn same_tree_through_api_and_pages(
    n: &TestNode,
    space: &str,
    local: &Path,
) -> anyhow::Result<()> {
    let api = Api::for_user(n, "alice").await?;
    let web = WebSession::login(n, "alice").await?;
    let children = |folder: Option<String>| {
        let mut req = api
            .get(&format!("/spaces/{space}/children"))
            .query(&[("limit", "1000")]);
        if let Some(f) = folder {
            req = req.query(&[("folder", f)]);
        }
        async move {
            let r = req.send().await?;
            ensure!(r.status() == 200, "children: {}", r.status());
            Ok::<Value, anyhow::Error>(r.json().await?)
        }
    };
    let root = children(None).await?;
    let mut folders: Vec<(String, String)> = root["folders"]
        .as_array()
        .context("folders")?
        .iter()
        .filter_map(|f| Some((f["name"].as_str()?.to_owned(), f["id"].as_str()?.to_owned())))
        .collect();
    folders.sort();
    let expected: Vec<String> = (0..10).map(|i| format!("lot-{i}")).collect();
    let names: Vec<String> = folders.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, expected, "the folders through the API");
    let mut dirs = vec![(None, local.to_path_buf())];
    dirs.extend(
        folders
            .iter()
            .map(|(name, id)| (Some(id.clone()), local.join(name))),
    );
    for (folder, dir) in dirs {
        let want = local_files(&dir)?;
        let listing = children(folder.clone()).await?;
        let mut got = BTreeMap::new();
        for d in listing["documents"]["items"]
            .as_array()
            .context("documents")?
        {
            let id = d["id"].as_str().context("id")?;
            let v: Value = api
                .get(&format!("/documents/{id}"))
                .send()
                .await?
                .json()
                .await?;
            let name = d["name"].as_str().context("name")?.to_owned();
            let hash = v["version"]["hash"].as_str().context("hash")?.to_owned();
            got.insert(name, hash);
        }
        assert_eq!(got, want, "{} through the API", dir.display());
        // The folder's page lists every name (one page: at most 100 here).
        let page = match &folder {
            Some(f) => web.get(&format!("/spaces/{space}?folder={f}")).await?,
            None => web.get(&format!("/spaces/{space}")).await?,
        };
        for name in want.keys() {
            ensure!(
                page.contains(name.as_str()),
                "{name} is not on the page of {}",
                dir.display()
            );
        }
    }
    Ok(())
}

/// A browser-like session on the node's pages: the login form's token,
/// then the session cookie.
struct WebSession {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl WebSession {
    async fn login(n: &TestNode, login: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let form = http.get(format!("{}/login", n.base)).send().await?;
        let form_cookie = set_cookie(&form, "passerelle_form_csrf")?;
        let html = form.text().await?;
        let token = html
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .context("the login form's token")?
            .to_owned();
        let r = http
            .post(format!("{}/login", n.base))
            .header("Cookie", form_cookie)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!(
                "login={}&password={}&_csrf={}",
                form_value(login),
                form_value(PASSWORD),
                form_value(&token)
            ))
            .send()
            .await?;
        ensure!(r.status() == 303, "login: {}", r.status());
        Ok(Self {
            cookie: set_cookie(&r, "passerelle_session")?,
            http,
            base: n.base.clone(),
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<String> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .send()
            .await?;
        ensure!(r.status() == 200, "GET {path}: {}", r.status());
        Ok(r.text().await?)
    }
}

/// `v` encoded for an `application/x-www-form-urlencoded` body.
fn form_value(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `name=value` of the cookie `name` a response sets.
fn set_cookie(r: &reqwest::Response, name: &str) -> anyhow::Result<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
        .with_context(|| format!("no {name} cookie"))
}

#[test]
fn litmus_summaries_are_read_per_suite() {
    let out = "<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%\n\
               <- summary for `props': of 30 tests run: 29 passed, 1 failed. 96.7%\n";
    assert_eq!(
        litmus_summaries(out),
        vec![("basic".into(), 16, 0), ("props".into(), 29, 1)]
    );
}
