//! CMIS-QL through the binding: by type and metadata, by content
//! (`CONTAINS`), in a folder or a tree, sorted; rights applied by the
//! index (a document one cannot read is never found).

use serde_json::Value;

use super::*;

async fn query(w: &World, user: &str, q: &str) -> anyhow::Result<Value> {
    let r = w
        .post(
            user,
            REPO,
            &[Part::Field("cmisaction", "query"), Part::Field("q", q)],
        )
        .await?;
    Ok(r.expect(200))
}

fn names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| prop(o, "cmis:name").as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn queries_find_by_type_metadata_content_and_place_within_rights() -> anyhow::Result<()> {
    let w = world().await?;
    let space = w.space_id("boss").await?;
    let lot = id_of(
        &w.act(
            "boss",
            &space,
            "createFolder",
            &[
                Part::Field("propertyId[0]", "cmis:name"),
                Part::Field("propertyValue[0]", "Lot 1"),
            ],
        )
        .await?
        .expect(201),
    );
    let sub = id_of(
        &w.act(
            "boss",
            &lot,
            "createFolder",
            &[
                Part::Field("propertyId[0]", "cmis:name"),
                Part::Field("propertyValue[0]", "Annexes"),
            ],
        )
        .await?
        .expect(201),
    );
    let facture = |n: &'static str, amount: &'static str| {
        [
            ("cmis:objectTypeId", "passerelle:facture"),
            ("passerelle:numero", n),
            ("passerelle:fournisseur", "BTP Rhône"),
            ("passerelle:montant_ttc", amount),
            ("passerelle:date_emission", "2026-03-01"),
        ]
    };
    w.create(
        "boss",
        &lot,
        "F1.txt",
        b"bassin olympique",
        &facture("F1", "900"),
    )
    .await?
    .expect(201);
    w.create(
        "boss",
        &sub,
        "F2.txt",
        b"vestiaires",
        &facture("F2", "15000"),
    )
    .await?
    .expect(201);
    w.create("boss", &space, "CCTP.txt", b"le bassin de 50 m", &[])
        .await?
        .expect(201);
    w.indexer.run().await?;

    let typed = query(&w, "boss", "SELECT * FROM passerelle:facture").await?;
    assert_eq!(names(&typed), vec!["F1.txt", "F2.txt"]);
    assert_eq!(typed["numItems"], 2);
    typed["results"]
        .as_array()
        .into_iter()
        .flatten()
        .for_each(super::shapes::check_object);
    let big = query(
        &w,
        "boss",
        "SELECT * FROM passerelle:facture WHERE passerelle:montant_ttc >= 1000",
    )
    .await?;
    assert_eq!(names(&big), vec!["F2.txt"]);
    let by_name = query(
        &w,
        "boss",
        "SELECT * FROM cmis:document WHERE cmis:name LIKE 'cc%'",
    )
    .await?;
    assert_eq!(names(&by_name), vec!["CCTP.txt"]);
    let words = query(
        &w,
        "boss",
        "SELECT * FROM cmis:document WHERE CONTAINS('bassin')",
    )
    .await?;
    assert_eq!(names(&words), vec!["CCTP.txt", "F1.txt"]);
    let both = query(&w, "boss", "SELECT * FROM passerelle:facture WHERE CONTAINS('bassin') AND passerelle:fournisseur = 'BTP Rhône'").await?;
    assert_eq!(names(&both), vec!["F1.txt"]);
    let direct = query(
        &w,
        "boss",
        &format!("SELECT * FROM cmis:document WHERE IN_FOLDER('{lot}')"),
    )
    .await?;
    assert_eq!(names(&direct), vec!["F1.txt"]);
    let tree = query(
        &w,
        "boss",
        &format!("SELECT * FROM cmis:document WHERE IN_TREE('{lot}')"),
    )
    .await?;
    assert_eq!(names(&tree), vec!["F1.txt", "F2.txt"]);
    let root_only = query(
        &w,
        "boss",
        &format!("SELECT * FROM cmis:document WHERE IN_FOLDER('{space}')"),
    )
    .await?;
    assert_eq!(names(&root_only), vec!["CCTP.txt"]);
    let sorted = query(
        &w,
        "boss",
        "SELECT cmis:name, cmis:objectId FROM cmis:document ORDER BY cmis:name",
    )
    .await?;
    let order: Vec<&Value> = sorted["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| prop(o, "cmis:name"))
        .collect();
    assert_eq!(order, vec!["CCTP.txt", "F1.txt", "F2.txt"]);
    assert_eq!(
        sorted["results"][0]["properties"]
            .as_object()
            .map(|p| p.len()),
        Some(2)
    );
    let paged = w
        .post(
            "boss",
            REPO,
            &[
                Part::Field("cmisaction", "query"),
                Part::Field("q", "SELECT * FROM cmis:document ORDER BY cmis:name"),
                Part::Field("maxItems", "2"),
                Part::Field("skipCount", "1"),
            ],
        )
        .await?
        .expect(200);
    assert_eq!(names(&paged), vec!["F1.txt", "F2.txt"]);
    let get = w
        .send(
            "GET",
            &format!("{REPO}?cmisselector=query&q=SELECT%20*%20FROM%20passerelle%3Afacture"),
            Some("boss"),
            &[],
            Body::empty(),
        )
        .await?
        .expect(200);
    assert_eq!(names(&get), vec!["F1.txt", "F2.txt"]);

    // The index applies the caller's rights.
    assert_eq!(
        names(&query(&w, "reader", "SELECT * FROM passerelle:facture").await?).len(),
        2
    );
    let none = query(
        &w,
        "outsider",
        "SELECT * FROM cmis:document WHERE CONTAINS('bassin')",
    )
    .await?;
    assert_eq!(none["numItems"], 0);
    assert!(names(&none).is_empty());
    let scoped = query(
        &w,
        "outsider",
        &format!("SELECT * FROM cmis:document WHERE IN_TREE('{lot}')"),
    )
    .await?;
    assert!(names(&scoped).is_empty());
    Ok(())
}
