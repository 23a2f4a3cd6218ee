//! Harness of the browser tests: real node processes (an internal node and
//! an edge replicating to each other, with a PKI made by the CLI, as in
//! `edge-node/tests/support/cluster.rs`), chromedriver on a free loopback
//! port, headless Chromium, page measures, screenshots and axe-core.
//!
//! The node processes are started by the edge crate's `nodes.rs`, shared
//! with its two-node tests; the binaries are found beside this test
//! executable (`env!("CARGO_BIN_EXE_…")` exists only in the crate that
//! builds them).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use thirtyfour::prelude::*;

#[path = "../../../../edge-node/tests/support/nodes.rs"]
mod nodes;
#[allow(unused_imports)]
pub use nodes::{ADMIN_PASSWORD, Proc};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `target/<profile>`, where cargo put the node binaries.
fn bin_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test>-<hash>
    Ok(exe
        .parent()
        .and_then(Path::parent)
        .context("test executable outside target/")?
        .to_path_buf())
}

/// Whether the browser tests can run here. Under CI (`CI=true`) or with
/// `PASSERELLE_REQUIRE_BROWSER=1`, a missing Chromium is a failure, not a
/// skip (as PostgreSQL with `PASSERELLE_REQUIRE_PG`).
pub fn browser_available() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    let required = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("PASSERELLE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    if !present && required {
        panic!(
            "Chromium is required ({CHROMIUM}, {CHROMEDRIVER}): apt-get install -y --no-install-recommends chromium chromium-driver"
        );
    }
    if !present {
        eprintln!(
            "skipped: {CHROMIUM} or {CHROMEDRIVER} missing (set CI=true to make this a failure)"
        );
    }
    present
}

/// An internal node (`http://127.0.0.1:<port>`) and an edge
/// (`http://localhost:<port>`: another host name, so the browser keeps the
/// two nodes' session cookies apart, as on two real hosts).
pub struct Nodes {
    pub internal: String,
    pub edge: String,
    // Field order: processes stop before the directory goes.
    node: Proc,
    edge_proc: Proc,
    pub tmp: tempfile::TempDir,
}

impl Nodes {
    pub fn start() -> anyhow::Result<Self> {
        let bins = bin_dir()?;
        let internal = bins.join("passerelle-internal");
        let edge_bin = bins.join("passerelle-edge");
        ensure!(
            internal.exists() && edge_bin.exists(),
            "build the nodes first: cargo build -p passerelle-internal -p passerelle-edge (looked in {})",
            bins.display()
        );
        let tmp = tempfile::tempdir()?;
        let (idir, edir) = (tmp.path().join("internal"), tmp.path().join("edge"));
        nodes::init_with_pki(&internal, &idir, &edir)?;
        let edge_proc =
            nodes::start_edge(&edge_bin, &edir, tmp.path(), "127.0.0.1:0", "127.0.0.1:0")?;
        let edge = edge_proc.lines[0].replace("127.0.0.1", "localhost");
        let config = nodes::write_internal_config(&idir, &edge_proc.lines[1], &edge)?;
        let node = nodes::start_internal(&internal, &idir, &config, tmp.path())?;
        Ok(Self {
            internal: node.lines[0].clone(),
            edge,
            node,
            edge_proc,
            tmp,
        })
    }
}

/// chromedriver on a free loopback port, and one headless Chromium session.
pub struct Browser {
    pub driver: WebDriver,
    _chromedriver: Proc,
    _profile: tempfile::TempDir,
    pub artifacts: PathBuf,
    pub measures: std::sync::Mutex<Vec<Measure>>,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    pub async fn start(dir: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let chromedriver = Proc::start(
            Path::new(CHROMEDRIVER),
            &[&format!("--port={port}"), "--allowed-ips=127.0.0.1"],
            dir,
            "chromedriver",
            &["ChromeDriver was started successfully"],
        )?;
        let profile = tempfile::tempdir()?;
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM)?;
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--window-size=1280,900",
            // A French agent's browser (the interface follows Accept-Language).
            "--lang=fr-FR",
            "--accept-lang=fr-FR,fr",
        ] {
            caps.add_arg(arg)?;
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))?;
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps).await?;
        let artifacts =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts");
        std::fs::create_dir_all(&artifacts)?;
        Ok(Self {
            driver,
            _chromedriver: chromedriver,
            _profile: profile,
            artifacts,
            measures: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.driver.goto(url).await?;
        Ok(())
    }

    pub async fn el(&self, css: &str) -> anyhow::Result<WebElement> {
        match self.driver.find(By::Css(css)).await {
            Ok(e) => Ok(e),
            Err(e) => {
                let url = self.url().await.unwrap_or_default();
                Err(anyhow::Error::from(e).context(format!("no element {css} on {url}")))
            }
        }
    }

    pub async fn url(&self) -> anyhow::Result<String> {
        Ok(self.driver.current_url().await?.to_string())
    }

    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let e = self.el(css).await?;
        e.clear().await?;
        e.send_keys(text).await?;
        Ok(())
    }

    /// Clicks something that loads a new page, and waits for that page.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let e = self.el(css).await?;
        self.loads_new_page(e.click()).await
    }

    /// Runs `action` and waits until the page it leads to has loaded (a
    /// marker set on the old page's `window` is gone).
    pub async fn loads_new_page<F, T>(&self, action: F) -> anyhow::Result<()>
    where
        F: std::future::Future<Output = WebDriverResult<T>>,
    {
        self.js("window.__old_page = true;").await?;
        action.await?;
        self.until("the next page", move || async move {
            let v = self
                .js("return typeof window.__old_page === 'undefined' && document.readyState === 'complete';")
                .await?;
            Ok(v == serde_json::Value::Bool(true))
        })
        .await
    }

    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.el(css).await?.text().await?)
    }

    pub async fn body(&self) -> anyhow::Result<String> {
        self.text("body").await
    }

    pub async fn js(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self
            .driver
            .execute(script, Vec::new())
            .await?
            .json()
            .clone())
    }

    /// Waits (up to 30 s) until `check` holds.
    pub async fn until<F, Fut>(&self, what: &str, mut check: F) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<bool>>,
    {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            match check().await {
                Ok(true) => return Ok(()),
                Ok(false) | Err(_) if Instant::now() < end => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Ok(false) => bail!(
                    "waited 30 s for {what} on {}",
                    self.url().await.unwrap_or_default()
                ),
                Err(e) => return Err(e.context(format!("waited 30 s for {what}"))),
            }
        }
    }

    pub async fn screenshot(&self, name: &str) -> anyhow::Result<()> {
        self.driver
            .screenshot(&self.artifacts.join(format!("{name}.png")))
            .await?;
        Ok(())
    }

    /// Records the transfer size and timings of the current page (from the
    /// Navigation and Resource Timing APIs), checks its budget and runs
    /// axe-core on it.
    pub async fn check_page(&self, name: &str) -> anyhow::Result<()> {
        let m = self
            .js("const n = performance.getEntriesByType('navigation')[0];
                 const r = performance.getEntriesByType('resource');
                 return {
                   html: n.transferSize || n.encodedBodySize,
                   assets: r.reduce((s, e) => s + (e.transferSize || 0), 0),
                   resources: r.length,
                   ttfb: n.responseStart - n.requestStart,
                   dcl: n.domContentLoadedEventEnd - n.startTime,
                   load: n.loadEventEnd - n.startTime
                 };")
            .await?;
        let num = |k: &str| m[k].as_f64().unwrap_or(0.0);
        let measure = Measure {
            page: name.to_owned(),
            bytes: (num("html") + num("assets")) as u64,
            ttfb_ms: num("ttfb"),
            dom_ready_ms: num("dcl"),
            load_ms: num("load"),
        };
        ensure!(
            measure.bytes < 200 * 1024,
            "{name} transferred {} bytes",
            measure.bytes
        );
        self.measures
            .lock()
            .map_err(|_| anyhow::anyhow!("measures poisoned"))?
            .push(measure);
        let violations = self.axe().await?;
        ensure!(
            violations.is_empty(),
            "{name}: serious or critical accessibility violations: {violations:#?}"
        );
        self.screenshot(name).await
    }

    /// axe-core's serious and critical violations on the current page.
    pub async fn axe(&self) -> anyhow::Result<Vec<String>> {
        const AXE: &str = include_str!("../../vendor/axe.min.js");
        self.driver.execute(AXE, Vec::new()).await?;
        let v = self
            .js(
                "return axe.run(document, {resultTypes: ['violations']}).then(r =>
                   r.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')));",
            )
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn print_measures(&self) {
        println!(
            "{:<28} {:>10} {:>9} {:>12} {:>9}",
            "page", "bytes", "ttfb ms", "dom ready ms", "load ms"
        );
        let Ok(measures) = self.measures.lock() else {
            return;
        };
        for m in measures.iter() {
            println!(
                "{:<28} {:>10} {:>9.1} {:>12.1} {:>9.1}",
                m.page, m.bytes, m.ttfb_ms, m.dom_ready_ms, m.load_ms
            );
        }
    }
}

/// One page's weight and timings on loopback.
#[derive(Debug)]
pub struct Measure {
    pub page: String,
    pub bytes: u64,
    pub ttfb_ms: f64,
    pub dom_ready_ms: f64,
    pub load_ms: f64,
}

pub async fn login(b: &Browser, login: &str, password: &str) -> anyhow::Result<()> {
    if !b.url().await?.contains("/login") {
        let origin = b.js("return location.origin;").await?;
        b.goto(&format!("{}/login", origin.as_str().context("origin")?))
            .await?;
    }
    b.fill("#login", login).await?;
    b.fill("#password", password).await?;
    b.click("form[action=\"/login\"] button[type=submit]")
        .await?;
    ensure!(
        b.url().await?.contains("/spaces"),
        "login of {login} failed: {}",
        b.body().await?
    );
    Ok(())
}

/// A one-page PDF showing `text` (Latin-1: French accents included), with
/// a correct cross-reference table.
pub fn minimal_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 14 Tf 40 720 Td ({}) Tj ET", pdf_string(text));
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
         /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// `text` as a PDF string's body: WinAnsi (Latin-1 for French) bytes, the
/// delimiters and anything not ASCII as octal escapes.
fn pdf_string(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '(' | ')' | '\\' => format!("\\{c}"),
            c if c.is_ascii() && !c.is_ascii_control() => c.to_string(),
            c => format!("\\{:03o}", u32::from(c).min(0xFF)),
        })
        .collect()
}
