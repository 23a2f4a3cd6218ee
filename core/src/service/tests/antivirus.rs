//! Agents' own uploads scanned when the node is set to
//! (`CoreSettings::scan_agent_uploads`, ADR 0010), through the same port as
//! contractors' uploads: infected refused and audited, clean stored, no
//! verdict refused with `Unavailable`; off by default.

use super::*;
use crate::fakes::MemAntivirus;

const VIRUS: &str = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR";

/// An internal node with an antivirus; `agents` whether it scans agents'
/// uploads too.
fn scanning(agents: bool) -> (InternalApp, Arc<MemAntivirus>) {
    let antivirus = Arc::new(MemAntivirus::new());
    antivirus.add_signature(VIRUS.as_bytes(), "Passerelle.Test.Sample");
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        Arc::new(MemBlobStore::new()),
        Arc::new(crate::ports::SystemClock),
        Arc::new(FastPasswords),
        CoreSettings {
            scan_agent_uploads: agents,
            ..CoreSettings::default()
        },
    )
    .with_antivirus(antivirus.clone());
    (app, antivirus)
}

fn new_doc(space: SpaceId, name: &str) -> NewDocument {
    NewDocument {
        space,
        name: name.into(),
        ..NewDocument::default()
    }
}

#[test]
fn an_infected_agent_upload_is_refused_and_audited_when_agents_are_scanned() {
    block_on(async {
        let (app, antivirus) = scanning(true);
        let marie = agent(&app, "marie", false).await;
        let s = space(&app, &marie, "marches").await;

        let refused = app
            .upload(&marie, new_doc(s, "piece.exe"), content(VIRUS))
            .await;

        match refused {
            Err(CoreError::Invalid { code, message, .. }) => {
                assert_eq!(code, "infected");
                assert_eq!(message, "refusé : fichier infecté (Passerelle.Test.Sample)");
            }
            other => panic!("refused as infected: {other:?}"),
        }
        let listed = app
            .list_folder(&marie, s, None, Page::default())
            .await
            .expect("list");
        assert_eq!(listed.documents.total, 0, "nothing stored under a name");
        let audit = app
            .global_audit(&Actor::System, Page::new(0, 100))
            .await
            .expect("audit");
        let infected: Vec<_> = audit
            .items
            .iter()
            .filter(|e| e.action == "antivirus.infected")
            .collect();
        assert_eq!(infected.len(), 1);
        assert_eq!(infected[0].actor, marie.id());
        assert_eq!(infected[0].detail["signature"], "Passerelle.Test.Sample");

        // A clean one is stored; a new version is scanned too.
        let doc = app
            .upload(&marie, new_doc(s, "note.txt"), content("une note"))
            .await
            .expect("clean upload");
        let again = app
            .new_version(
                &marie,
                doc.document.id,
                NewVersion::default(),
                content(VIRUS),
            )
            .await;
        assert!(
            matches!(
                &again,
                Err(CoreError::Invalid {
                    code: "infected",
                    ..
                })
            ),
            "{again:?}"
        );
        assert_eq!(antivirus.scans(), 3);
    });
}

#[test]
fn agents_uploads_wait_for_no_one_unless_asked_and_are_refused_while_the_scanner_is_down() {
    block_on(async {
        // Off by default: not scanned at all.
        let (app, antivirus) = scanning(false);
        let marie = agent(&app, "marie", false).await;
        let s = space(&app, &marie, "marches").await;
        app.upload(&marie, new_doc(s, "piece.exe"), content(VIRUS))
            .await
            .expect("not scanned");
        assert_eq!(antivirus.scans(), 0);

        let (app, antivirus) = scanning(true);
        let marie = agent(&app, "marie", false).await;
        let s = space(&app, &marie, "marches").await;
        antivirus.set_down(true);
        let r = app
            .upload(&marie, new_doc(s, "note.txt"), content("une note"))
            .await;
        assert!(matches!(r, Err(CoreError::Unavailable(_))), "{r:?}");
        assert!(!app.antivirus_status().expect("scanning").reachable);
        antivirus.set_down(false);
        app.upload(&marie, new_doc(s, "note.txt"), content("une note"))
            .await
            .expect("stored once the scanner is back");
    });
}
