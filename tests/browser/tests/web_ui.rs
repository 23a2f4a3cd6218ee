//! The scenario of issue 4 in headless Chromium, on real nodes: an agent
//! logs in, creates a space, drops two files (progress bars), types a
//! document (a missing required field is refused inline), uploads a new
//! version and restores the older one, shares the space and invites a
//! contractor; the contractor accepts on the edge, sees only that space and
//! uploads; the agent sees the file arrive. Every main page is measured
//! (< 200 KB), checked with axe-core (no serious or critical violation) and
//! photographed into `target/browser-artifacts/`.

#[path = "support/harness.rs"]
mod support;

use std::time::Instant;

use anyhow::{Context, ensure};
use thirtyfour::{By, Key};

use support::{ADMIN_PASSWORD, Browser, Nodes, browser_available, login, minimal_pdf};

const AGENT: &str = "marie.dupont";
const AGENT_PASSWORD: &str = "une phrase de passe pour Marie";
const CONTRACTOR: &str = "jean@btp-rhone.example";
const CONTRACTOR_PASSWORD: &str = "le mot de passe de Jean 2026";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_and_contractor_work_together_through_the_web_interface() -> anyhow::Result<()> {
    if !browser_available() {
        return Ok(());
    }
    let started = Instant::now();
    let nodes = Nodes::start()?;
    let b = Browser::start(nodes.tmp.path()).await?;
    let result = scenario(&nodes, &b).await;
    b.print_measures();
    println!("scenario took {:.1} s", started.elapsed().as_secs_f64());
    if result.is_err() {
        let _ = b.screenshot("failure").await;
    }
    b.driver.clone().quit().await?;
    result
}

async fn scenario(nodes: &Nodes, b: &Browser) -> anyhow::Result<()> {
    let base = &nodes.internal;

    // The administrator creates the agent's account.
    b.goto(&format!("{base}/login")).await?;
    b.check_page("internal-login").await?;
    keyboard_reaches_the_content(b).await?;
    login(b, "admin", ADMIN_PASSWORD).await?;
    b.goto(&format!("{base}/admin/users")).await?;
    b.fill("#u-login", AGENT).await?;
    b.fill("#u-name", "Marie Dupont").await?;
    b.fill("#u-email", "marie.dupont@metropole.example").await?;
    b.fill("#u-password", AGENT_PASSWORD).await?;
    b.click("#new-user + form button[type=submit]").await?;
    ensure!(b.text(".notice").await?.contains("Le compte a été créé"));
    b.check_page("admin-users").await?;
    b.goto(&format!("{base}/admin/types")).await?;
    b.check_page("admin-types").await?;
    // A new document type, refused once (no label), then saved.
    let link = b.el("#new-type").await?;
    b.loads_new_page(link.click()).await?;
    b.fill("#t-key", "ordre-de-service").await?;
    b.fill("#t-retention", "10").await?;
    b.fill("#f0-key", "numero_os").await?;
    b.fill("#f0-label", "Numéro d'OS").await?;
    b.el("#f0-required").await?.click().await?;
    b.click("#type-form button[type=submit]").await?;
    ensure!(
        b.text("#type-alert")
            .await?
            .contains("corrigez les champs signalés")
    );
    ensure!(b.text("#e-label").await?.contains("Indiquez un libellé"));
    b.check_page("admin-type-refused").await?;
    b.fill("#t-label", "Ordre de service").await?;
    b.click("#type-form button[type=submit]").await?;
    ensure!(
        b.text(".notice")
            .await?
            .contains("type de document a été enregistré")
    );
    b.goto(&format!("{base}/admin/types")).await?;
    ensure!(
        b.text("#t-ordre-de-service")
            .await?
            .contains("Ordre de service")
    );
    b.click("form[action=\"/logout\"] button").await?;

    // The agent logs in and creates a space.
    login(b, AGENT, AGENT_PASSWORD).await?;
    b.check_page("my-spaces-empty").await?;
    b.fill("#title", "Construction piscine olympique").await?;
    b.fill("#slug", "piscine-olympique").await?;
    b.fill("#domain", "Patrimoine bâti").await?;
    b.click("#new-space + form button[type=submit]").await?;
    ensure!(
        b.text("h1")
            .await?
            .contains("Construction piscine olympique")
    );
    let space_url = b.url().await?;
    let space_path = space_url
        .trim_start_matches(base.as_str())
        .split('?')
        .next()
        .context("space path")?
        .to_owned();

    // Two files by drag and drop, each with its progress bar.
    drop_two_files(b).await?;
    b.until("both documents listed", move || async move {
        let t = b.text("#documents").await?;
        Ok(t.contains("CCTP lot 1.txt") && t.contains("BPU.txt"))
    })
    .await?;
    b.check_page("space").await?;

    // A PDF, chosen with the picker: previewed by Chromium's own viewer in
    // the page's frame (served inline, same origin).
    let pdf = nodes.tmp.path().join("Plan masse.pdf");
    std::fs::write(&pdf, minimal_pdf("Plan masse, piscine olympique"))?;
    b.el("#files")
        .await?
        .send_keys(pdf.to_str().context("utf-8")?)
        .await?;
    b.until("the PDF listed", move || async move {
        Ok(b.text("#documents").await?.contains("Plan masse.pdf"))
    })
    .await?;
    let link = b.driver.find(By::LinkText("Plan masse.pdf")).await?;
    b.loads_new_page(link.click()).await?;
    // The frame holds Chromium's PDF viewer (its own process: the page
    // cannot look inside), so the check is on what is drawn: the white
    // page of the PDF fills much of the frame (0.60 of its pixels here) on
    // the viewer's dark background; a PDF it cannot read shows a small
    // white error box instead (0.13).
    b.until("the PDF drawn in its frame", move || async move {
        let kind = b
            .js("const f = document.querySelector('iframe.preview');
                 return f && f.contentDocument ? f.contentDocument.contentType : null;")
            .await?;
        if kind != "application/pdf" {
            return Ok(false);
        }
        let shot = b.el("iframe.preview").await?.screenshot_as_png().await?;
        Ok(white_share(&shot)? > 0.35)
    })
    .await?;
    b.screenshot("pdf-preview").await?;
    b.goto(&space_url).await?;

    // A typed document: a missing required field is refused inline.
    let link = b.driver.find(By::LinkText("CCTP lot 1.txt")).await?;
    b.loads_new_page(link.click()).await?;
    b.el("#type-select option[value=facture]")
        .await?
        .click()
        .await?;
    b.click("main form[method=get] button[type=submit]").await?;
    b.fill("#m-numero", "F-2026-0042").await?;
    b.fill("#m-montant_ttc", "12480.50").await?;
    b.js("document.getElementById('m-date_emission').value = '2026-10-02';")
        .await?;
    b.click("#meta-form button[type=submit]").await?;
    ensure!(
        b.text("#meta-alert")
            .await?
            .contains("corrigez les champs signalés")
    );
    ensure!(
        b.text("#e-fournisseur")
            .await?
            .contains("Ce champ est obligatoire")
    );
    ensure!(
        b.el("#m-fournisseur")
            .await?
            .attr("aria-invalid")
            .await?
            .as_deref()
            == Some("true")
    );
    let violations = b.axe().await?;
    ensure!(
        violations.is_empty(),
        "refused metadata form: {violations:#?}"
    );
    b.js("document.getElementById('meta-title').scrollIntoView();")
        .await?;
    b.screenshot("metadata-refused").await?;
    b.fill("#m-fournisseur", "BTP Rhône").await?;
    b.js("document.getElementById('m-date_emission').value = '2026-10-02';")
        .await?;
    b.click("#meta-form button[type=submit]").await?;
    ensure!(
        b.text(".notice")
            .await?
            .contains("métadonnées ont été enregistrées")
    );

    // A new version, then the older one restored.
    let v2 = nodes.tmp.path().join("CCTP lot 1 v2.txt");
    std::fs::write(&v2, "Cahier des clauses techniques, version 2\n")?;
    b.el("#version-file")
        .await?
        .send_keys(v2.to_str().context("utf-8")?)
        .await?;
    b.until("version 2 current", move || async move {
        Ok(b.text("#current-version").await? == "v2")
    })
    .await?;
    ensure!(b.text("pre.preview").await?.contains("version 2"));
    b.click("button[data-restore=\"1\"]").await?;
    ensure!(b.text("#current-version").await? == "v3");
    ensure!(
        b.text("pre.preview")
            .await?
            .starts_with("Cahier des clauses techniques particulières")
    );
    b.check_page("document").await?;

    // Sharing with the edge, then the contractor's invitation.
    b.goto(&format!("{base}{space_path}/sharing")).await?;
    b.click("form[action$=\"/share\"] button").await?;
    ensure!(b.text(".notice").await?.contains("partagé"));
    b.check_page("sharing").await?;
    b.goto(&format!("{base}{space_path}/members")).await?;
    b.fill("#c-email", CONTRACTOR).await?;
    b.fill("#c-name", "Jean Bâtisseur").await?;
    b.fill("#c-org", "BTP Rhône").await?;
    b.click("#invite-contractor + form button[type=submit]")
        .await?;
    let invitation = b.text("#invitation-url").await?;
    ensure!(
        invitation.starts_with(&format!("{}/invitation#", nodes.edge)),
        "{invitation}"
    );
    b.check_page("members").await?;
    for (page, path) in [
        ("audit", format!("{space_path}/audit")),
        ("trash", format!("{space_path}/trash")),
        ("embed", format!("/embed{space_path}")),
    ] {
        b.goto(&format!("{base}{path}")).await?;
        b.check_page(page).await?;
    }

    // The contractor, on the edge.
    accept_invitation(b, &invitation).await?;
    let secret = enrol(b).await?;
    // Logged out, back in: the password, then a code (the next one: the
    // enrolment's was used).
    b.click("form[action=\"/logout\"] button[type=submit]")
        .await?;
    second_login(b, &secret).await?;
    b.until("the shared space on the edge", move || async move {
        b.driver.refresh().await?;
        Ok(b.body().await?.contains("Construction piscine olympique"))
    })
    .await?;
    let rows = b.driver.find_all(By::Css("table.list tbody tr")).await?;
    ensure!(rows.len() == 1, "the contractor sees {} spaces", rows.len());
    b.check_page("edge-my-spaces").await?;
    let link = b
        .driver
        .find(By::LinkText("Construction piscine olympique"))
        .await?;
    b.loads_new_page(link.click()).await?;
    let report = nodes.tmp.path().join("Rapport de chantier S48.txt");
    std::fs::write(&report, "Rapport de chantier, semaine 48\n")?;
    b.el("#files")
        .await?
        .send_keys(report.to_str().context("utf-8")?)
        .await?;
    // After the upload the page reloads: the operation shows as pending
    // until the internal node has applied it (or, if that was quicker, the
    // document is already listed).
    b.until("the upload shown on the edge", move || async move {
        let pending = b
            .driver
            .find_all(By::Css("#pending .badge.pending"))
            .await?;
        let listed = b.text("#documents").await.unwrap_or_default();
        Ok(b.el("#upload-list li").await.is_err()
            && (!pending.is_empty() || listed.contains("Rapport de chantier S48.txt")))
    })
    .await?;
    b.screenshot("edge-upload-pending").await?;
    b.check_page("edge-space").await?;
    // A document on the edge: preview, versions, download, the metadata
    // form of its type (changes go through the outbox); no restore, which
    // stays on the internal node.
    let link = b.driver.find(By::LinkText("CCTP lot 1.txt")).await?;
    b.loads_new_page(link.click()).await?;
    ensure!(b.text("#current-version").await? == "v3");
    b.el("#meta-form").await?;
    ensure!(b.el("button[data-restore]").await.is_err());
    b.el("a[href$=\"/content\"][download]").await?;
    b.check_page("edge-document").await?;

    // The agent sees it arrive.
    b.goto(&format!("{base}{space_path}")).await?;
    b.until(
        "the contractor's file on the internal node",
        move || async move {
            b.driver.refresh().await?;
            Ok(b.text("#documents")
                .await?
                .contains("Rapport de chantier S48.txt"))
        },
    )
    .await?;
    b.screenshot("space-with-contractor-file").await?;
    // And on the edge the operation is no longer pending.
    b.goto(&format!("{}/spaces", nodes.edge)).await?;
    let link = b
        .driver
        .find(By::LinkText("Construction piscine olympique"))
        .await?;
    b.loads_new_page(link.click()).await?;
    b.until("the operation applied on the edge", move || async move {
        b.driver.refresh().await?;
        let body = b.body().await?;
        Ok(!body.contains("Synchronisation en attente")
            && body.contains("Rapport de chantier S48.txt"))
    })
    .await?;
    // The contractor switches to English in the footer; it sticks.
    b.el("#lang-select option[value=en]").await?.click().await?;
    b.click("form[action=\"/lang\"] button").await?;
    ensure!(b.el("html").await?.attr("lang").await?.as_deref() == Some("en"));
    ensure!(b.text("#upload-title").await? == "Upload files");
    b.check_page("edge-space-en").await?;
    Ok(())
}

/// The share of near-white pixels in a PNG screenshot.
fn white_share(png_bytes: &[u8]) -> anyhow::Result<f64> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().context("png size")?];
    let info = reader.next_frame(&mut buf)?;
    let channels = info.color_type.samples();
    ensure!(
        channels >= 3,
        "unexpected screenshot format {:?}",
        info.color_type
    );
    let pixels = buf[..info.buffer_size()].chunks_exact(channels);
    let total = pixels.len().max(1);
    let white = pixels
        .filter(|p| p[0] > 235 && p[1] > 235 && p[2] > 235)
        .count();
    Ok(white as f64 / total as f64)
}

/// The first Tab reaches the skip link, visibly; Enter moves to the content.
async fn keyboard_reaches_the_content(b: &Browser) -> anyhow::Result<()> {
    b.driver
        .action_chain()
        .send_keys(Key::Tab)
        .perform()
        .await?;
    let focus = b
        .js(
            "const e = document.activeElement; const r = e.getBoundingClientRect();
             return [e.className, r.left >= 0 && r.width > 0, getComputedStyle(e).outlineStyle];",
        )
        .await?;
    ensure!(focus[0] == "skip" && focus[1] == true, "first Tab: {focus}");
    ensure!(
        focus[2] != "none",
        "no visible focus on the skip link: {focus}"
    );
    b.driver
        .action_chain()
        .send_keys(Key::Enter)
        .perform()
        .await?;
    let target = b.js("return document.activeElement.id;").await?;
    ensure!(target == "main", "the skip link leads to {target}");
    Ok(())
}

/// Drops two files on the space's drop zone (a `DataTransfer` built in the
/// page: WebDriver cannot drag files from the desktop) and watches both
/// progress bars reach 100 %.
async fn drop_two_files(b: &Browser) -> anyhow::Result<()> {
    b.js(
        "window.__progress = [];
         const send = XMLHttpRequest.prototype.send;
         XMLHttpRequest.prototype.send = function (body) {
           this.upload.addEventListener('progress', e => window.__progress.push([body.name, e.loaded, e.total]));
           return send.call(this, body);
         };
         const big = 'Cahier des clauses techniques particulières, lot 1\\n'.repeat(40000);
         const dt = new DataTransfer();
         dt.items.add(new File([big], 'CCTP lot 1.txt', {type: 'text/plain'}));
         dt.items.add(new File(['Bordereau des prix unitaires\\n'], 'BPU.txt', {type: 'text/plain'}));
         const zone = document.getElementById('dropzone');
         zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
         zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
    )
    .await?;
    // The page reloads 0.8 s after both finish: look before it does.
    b.until("two progress bars at 100 %", move || async move {
        let v = b
            .js("return Array.from(document.querySelectorAll('#upload-list li')).map(li =>
                   [li.className, li.querySelector('progress').value, li.querySelector('.state').textContent]);")
            .await?;
        let items = v.as_array().cloned().unwrap_or_default();
        Ok(items.len() == 2
            && items.iter().all(|i| i[0] == "done" && i[1].as_f64() == Some(100.0) && i[2] == "Envoyé"))
    })
    .await?;
    b.screenshot("upload-progress").await?;
    let progress = b.js("return window.__progress || [];").await?;
    let events = progress.as_array().cloned().unwrap_or_default();
    ensure!(
        events
            .iter()
            .any(|e| e[0] == "CCTP lot 1.txt" && e[1] == e[2]),
        "no progress event for the large file: {progress}"
    );
    Ok(())
}

/// The contractor's first login on the edge, which requires a second
/// factor: the enrolment page (QR code and key), a code made from the key
/// by oathtool as a phone would, then the recovery codes, shown once.
/// Returns the key.
async fn enrol(b: &Browser) -> anyhow::Result<String> {
    b.fill("#login", CONTRACTOR).await?;
    b.fill("#password", CONTRACTOR_PASSWORD).await?;
    b.click("form[action=\"/login\"] button[type=submit]")
        .await?;
    ensure!(
        b.url().await?.contains("/login/enrol"),
        "no enrolment: {}",
        b.body().await?
    );
    ensure!(
        b.driver.find(By::Css("#qr svg")).await.is_ok(),
        "no QR code"
    );
    b.check_page("edge-enrol").await?;
    let secret = b.text("#secret").await?;
    let code = passerelle_testing::edge_login::totp_code(&secret)?;
    b.fill("#code", &code).await?;
    b.click("form[action=\"/login/enrol\"] button[type=submit]")
        .await?;
    let codes = b.driver.find_all(By::Css("#recovery-codes li")).await?;
    ensure!(codes.len() == 10, "{} recovery codes", codes.len());
    b.check_page("edge-recovery-codes").await?;
    b.click("#continue").await?;
    ensure!(
        b.url().await?.contains("/spaces"),
        "not logged in after enrolment"
    );
    Ok(secret)
}

/// A later login: the password, then the code page, given a code not used
/// yet (the next time step).
async fn second_login(b: &Browser, secret: &str) -> anyhow::Result<()> {
    let first = passerelle_testing::edge_login::totp_code(secret)?;
    // A code is accepted once: wait for the next one (at most a 30-second
    // step, polled rather than slept).
    passerelle_testing::eventually_within(
        "a fresh code",
        std::time::Duration::from_secs(40),
        std::time::Duration::from_millis(250),
        || async {
            let now = passerelle_testing::edge_login::totp_code(secret)?;
            ensure!(now != first, "still the enrolment's code");
            Ok(())
        },
    )
    .await?;
    b.fill("#login", CONTRACTOR).await?;
    b.fill("#password", CONTRACTOR_PASSWORD).await?;
    b.click("form[action=\"/login\"] button[type=submit]")
        .await?;
    ensure!(b.url().await?.contains("/login/code"), "no code asked");
    b.check_page("edge-code").await?;
    b.fill("#code", &passerelle_testing::edge_login::totp_code(secret)?)
        .await?;
    b.click("form[action=\"/login/code\"] button[type=submit]")
        .await?;
    ensure!(
        b.url().await?.contains("/spaces"),
        "login with a code failed: {}",
        b.body().await?
    );
    Ok(())
}

/// Opens the invitation link (the page takes the code from the fragment),
/// chooses the password; retried until the invitation has reached the edge.
async fn accept_invitation(b: &Browser, link: &str) -> anyhow::Result<()> {
    b.until("the invitation accepted", move || async move {
        b.goto(link).await?;
        let code = b
            .el("#secret")
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(
            !code.is_empty() && link.ends_with(&code),
            "code not taken from the link"
        );
        ensure!(
            !b.url().await?.contains('#'),
            "the fragment stays in the address bar"
        );
        b.fill("#password", CONTRACTOR_PASSWORD).await?;
        b.fill("#confirm", CONTRACTOR_PASSWORD).await?;
        b.click("form[action=\"/invitation\"] button[type=submit]")
            .await?;
        Ok(b.url().await?.contains("/login?ok=invitation_accepted"))
    })
    .await?;
    ensure!(b.text(".notice").await?.contains("Votre compte est activé"));
    b.check_page("edge-login").await?;
    b.goto(link.split('#').next().context("invitation page")?)
        .await?;
    b.check_page("edge-invitation").await?;
    b.goto(link.split("/invitation").next().context("edge origin")?)
        .await?;
    Ok(())
}
