//! The index is derived data (ADR 0006 §2): core's indexer following a
//! node's writes one batch at a time into tantivy, and the same indexer
//! rebuilding a fresh tantivy index from cursor zero, answer every search
//! alike (hits, totals, facets), after moves, renames, trash, purges and
//! new versions.

use std::sync::Arc;

use bytes::Bytes;
use passerelle_core::fakes::{FastPasswords, MemBlobStore, MemRepository, PlainTextExtractor};
use passerelle_core::model::Visibility;
use passerelle_core::ports::SystemClock;
use passerelle_core::search::{SearchIndex, Sort};
use passerelle_core::service::{
    Indexer, NewAgent, NewDocument, NewSpace, NewVersion, Search, SearchAsk,
};
use passerelle_core::{Actor, CoreSettings, InternalApp};
use passerelle_search::TantivyIndex;

fn content(s: &str) -> passerelle_core::blob::ByteStream {
    let b = Bytes::from(s.to_owned());
    Box::pin(futures::stream::once(async move { Ok(b) }))
}

async fn catch_up(indexer: &Indexer) -> anyhow::Result<()> {
    while !indexer.run().await?.caught_up {}
    Ok(())
}

#[tokio::test]
async fn a_rebuild_from_scratch_answers_as_the_live_index() -> anyhow::Result<()> {
    let repo = Arc::new(MemRepository::new());
    let app = InternalApp::new(
        repo.clone(),
        Arc::new(MemBlobStore::new()),
        Arc::new(SystemClock),
        Arc::new(FastPasswords),
        CoreSettings::default(),
    );
    let marie = Actor::Principal(
        app.create_agent(
            &Actor::System,
            NewAgent {
                login: "marie".into(),
                display_name: "Marie Dupont".into(),
                email: String::new(),
                is_admin: false,
                password: None,
            },
        )
        .await?,
    );
    let space = app
        .create_space(
            &marie,
            NewSpace {
                slug: "piscine".into(),
                title: "Piscine olympique".into(),
                description: String::new(),
                domain: "Sports".into(),
                visibility: Visibility::Private,
                manager: None,
            },
        )
        .await?
        .space
        .id;
    let extractor = Arc::new(PlainTextExtractor::new());
    let live: Arc<dyn SearchIndex> = Arc::new(TantivyIndex::in_memory()?);
    let indexer = Indexer::new(&app, live.clone(), extractor.clone(), repo.clone());
    let folder = app
        .create_folder(&marie, space, None, "Consultation")
        .await?;
    let words = [
        "bassin",
        "vestiaires",
        "toiture",
        "chauffage",
        "délibération",
    ];
    for i in 0..40 {
        let text = format!("{} lot {i} des travaux", words[i % words.len()]);
        let d = app
            .upload(
                &marie,
                NewDocument {
                    space,
                    folder: (i % 2 == 0).then_some(folder.id),
                    name: format!("Pièce {i}.txt"),
                    ..NewDocument::default()
                },
                content(&text),
            )
            .await?
            .document
            .id;
        match i % 5 {
            1 => {
                app.new_version(
                    &marie,
                    d,
                    NewVersion::default(),
                    content("nouvelle rédaction"),
                )
                .await?;
            }
            2 => app.delete_document(&marie, d).await?,
            3 => {
                app.delete_document(&marie, d).await?;
                app.purge_document(&marie, d).await?;
            }
            _ => {}
        }
        if i % 7 == 0 {
            catch_up(&indexer).await?;
        }
    }
    app.update_folder(&marie, folder.id, Some("Offres"), None)
        .await?;
    catch_up(&indexer).await?;

    let fresh: Arc<dyn SearchIndex> = Arc::new(TantivyIndex::in_memory()?);
    catch_up(&Indexer::new(&app, fresh.clone(), extractor, repo.clone())).await?;
    let (a, b) = (
        Search::new(&app, live, repo.clone()),
        Search::new(&app, fresh, repo),
    );
    for (text, trash) in [
        ("", false),
        ("bassin", false),
        ("redaction", false),
        ("dossier:offres", false),
        ("dossier:consultation", false),
        ("travaux -toiture", false),
        ("piece*", false),
        ("", true),
    ] {
        let ask = SearchAsk {
            text: text.into(),
            sort: Sort::Name,
            limit: 100,
            trash,
            ..SearchAsk::default()
        };
        let (x, y) = (
            a.search(&marie, ask.clone()).await?,
            b.search(&marie, ask).await?,
        );
        let ids = |p: &passerelle_core::service::SearchPage| {
            p.hits.iter().map(|h| h.document.id).collect::<Vec<_>>()
        };
        assert_eq!(ids(&x), ids(&y), "{text:?} trash={trash}");
        assert_eq!((x.total, &x.facets), (y.total, &y.facets), "{text:?}");
    }
    let renamed = a
        .search(
            &marie,
            SearchAsk {
                text: "dossier:offres".into(),
                limit: 100,
                ..SearchAsk::default()
            },
        )
        .await?;
    assert!(renamed.total > 0, "the rename reached the live index");
    Ok(())
}
