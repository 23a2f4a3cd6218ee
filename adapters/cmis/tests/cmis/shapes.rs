//! Every answer has the shape cmislib 0.7's Browser binding reads
//! (`cmislib/browser/binding.py`): the keys it indexes without checking
//! are present, with the types it converts them from.

use serde_json::Value;

use super::*;

const OBJECT_PROPS: &[&str] = &[
    "cmis:objectId",
    "cmis:baseTypeId",
    "cmis:objectTypeId",
    "cmis:name",
    "cmis:createdBy",
    "cmis:creationDate",
    "cmis:lastModificationDate",
];

const DOCUMENT_PROPS: &[&str] = &[
    "cmis:isLatestVersion",
    "cmis:versionLabel",
    "cmis:versionSeriesId",
    "cmis:isVersionSeriesCheckedOut",
    "cmis:versionSeriesCheckedOutId",
    "cmis:contentStreamLength",
    "cmis:contentStreamMimeType",
    "cmis:isPrivateWorkingCopy",
];

const PROPERTY_TYPES: &[&str] = &["id", "string", "integer", "decimal", "datetime", "boolean"];

/// An object as `BrowserCmisObject` reads it: `properties` whose entries
/// carry `id`, `type` and `value` (typed as `parsePropValueByType`
/// expects), and `allowableActions` of booleans.
pub fn check_object(o: &Value) {
    let props = o["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no properties: {o}"));
    for (key, p) in props {
        assert_eq!(p["id"].as_str(), Some(key.as_str()), "{key}: {p}");
        for k in ["localName", "displayName", "queryName"] {
            assert!(p[k].is_string(), "{key}.{k}: {p}");
        }
        let t = p["type"].as_str().unwrap_or_default();
        assert!(PROPERTY_TYPES.contains(&t), "{key}: type {t}");
        let multi = p["cardinality"] == "multi";
        assert!(multi || p["cardinality"] == "single", "{key}: {p}");
        let v = &p["value"];
        let one = |v: &Value| match t {
            "id" | "string" => v.is_string() || v.is_null(),
            "integer" | "datetime" => v.is_i64() || v.is_u64() || v.is_null(),
            "decimal" => v.is_number() || v.is_null(),
            _ => v.is_boolean() || v.is_null(),
        };
        if multi {
            assert!(
                v.is_null() || v.as_array().is_some_and(|a| a.iter().all(one)),
                "{key}: {v}"
            );
        } else {
            assert!(one(v), "{key} ({t}): {v}");
        }
    }
    for k in OBJECT_PROPS {
        assert!(props.contains_key(*k), "missing {k}: {o}");
    }
    if o["properties"]["cmis:baseTypeId"]["value"] == "cmis:document" {
        for k in DOCUMENT_PROPS {
            assert!(props.contains_key(*k), "missing {k}: {o}");
        }
    } else {
        assert!(
            props.contains_key("cmis:path"),
            "folder without cmis:path: {o}"
        );
    }
    let actions = o["allowableActions"].as_object().expect("allowableActions");
    assert!(actions.len() >= 25, "{actions:?}");
    assert!(actions.values().all(Value::is_boolean));
    for k in [
        "canGetProperties",
        "canGetObjectParents",
        "canGetContentStream",
        "canCheckIn",
    ] {
        assert!(actions.contains_key(k), "{k}");
    }
}

/// A type as `BrowserObjectType` and `BrowserProperty` read it.
pub fn check_type(t: &Value) {
    for k in [
        "id",
        "localName",
        "localNamespace",
        "displayName",
        "queryName",
        "description",
        "baseId",
    ] {
        assert!(t[k].is_string(), "{k}: {t}");
    }
    for k in [
        "creatable",
        "fileable",
        "queryable",
        "fulltextIndexed",
        "includedInSupertypeQuery",
        "controllablePolicy",
        "controllableACL",
    ] {
        assert!(t[k].is_boolean(), "{k}: {t}");
    }
    let defs = t["propertyDefinitions"]
        .as_object()
        .expect("propertyDefinitions");
    assert!(defs.contains_key("cmis:name"));
    for (key, d) in defs {
        assert_eq!(d["id"].as_str(), Some(key.as_str()));
        for k in [
            "localName",
            "localNamespace",
            "displayName",
            "queryName",
            "description",
            "propertyType",
            "cardinality",
            "updatability",
        ] {
            assert!(d[k].is_string(), "{key}.{k}: {d}");
        }
        for k in [
            "inherited",
            "required",
            "queryable",
            "orderable",
            "openChoice",
        ] {
            assert!(d[k].is_boolean(), "{key}.{k}: {d}");
        }
    }
}

fn check_repository_info(info: &Value) {
    for k in [
        "repositoryId",
        "repositoryName",
        "repositoryDescription",
        "vendorName",
        "productName",
        "productVersion",
        "rootFolderId",
        "latestChangeLogToken",
        "cmisVersionSupported",
        "principalIdAnonymous",
        "principalIdAnyone",
        "rootFolderUrl",
        "repositoryUrl",
    ] {
        assert!(info[k].is_string(), "{k}: {info}");
    }
    assert!(info["changesIncomplete"].is_boolean());
    assert!(info["changesOnType"].is_array());
    assert!(info["capabilities"].is_object());
    assert_eq!(info["cmisVersionSupported"], "1.1");
    assert_eq!(
        info["rootFolderUrl"],
        "http://ged.example/cmis/browser/passerelle/root"
    );
}

/// `{objects: [{object}], hasMoreItems, numItems}`, each object checked.
fn check_children(v: &Value) -> Vec<Value> {
    assert!(v["hasMoreItems"].is_boolean(), "{v}");
    assert!(v["numItems"].is_u64(), "{v}");
    let objects: Vec<Value> = v["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["object"].clone())
        .collect();
    objects.iter().for_each(check_object);
    objects
}

#[tokio::test]
async fn every_answer_has_the_shapes_cmislib_reads() -> anyhow::Result<()> {
    let w = world().await?;
    // The service document and the repository's info.
    let service = w
        .send("GET", "/cmis/browser", Some("boss"), &[], Body::empty())
        .await?
        .expect(200);
    check_repository_info(&service["passerelle"]);
    let info = w
        .send("GET", REPO, Some("boss"), &[], Body::empty())
        .await?
        .expect(200);
    check_repository_info(&info["passerelle"]);
    // Types.
    let base = w
        .send(
            "GET",
            &format!("{REPO}?cmisselector=typeChildren"),
            Some("boss"),
            &[],
            Body::empty(),
        )
        .await?
        .expect(200);
    let base = base["types"].as_array().expect("types").clone();
    assert_eq!(base.len(), 2);
    base.iter().for_each(check_type);
    let subs = w
        .send(
            "GET",
            &format!("{REPO}?cmisselector=typeChildren&typeId=cmis:document"),
            Some("boss"),
            &[],
            Body::empty(),
        )
        .await?
        .expect(200);
    let subs = subs["types"].as_array().expect("types").clone();
    assert!(subs.iter().any(|t| t["id"] == "passerelle:facture"));
    subs.iter().for_each(check_type);
    let facture = w
        .send(
            "GET",
            &format!("{REPO}?cmisselector=typeDefinition&typeId=passerelle:facture"),
            Some("boss"),
            &[],
            Body::empty(),
        )
        .await?
        .expect(200);
    check_type(&facture);
    assert_eq!(
        facture["propertyDefinitions"]["passerelle:montant_ttc"]["propertyType"],
        "decimal"
    );
    let tree = w
        .send(
            "GET",
            &format!("{REPO}?cmisselector=typeDescendants"),
            Some("boss"),
            &[],
            Body::empty(),
        )
        .await?
        .expect(200);
    assert!(
        tree.as_array()
            .is_some_and(|t| t.iter().all(|n| n["type"].is_object()))
    );
    // The root, its children, a space.
    let root = w
        .get("boss", "objectId=root&cmisselector=object")
        .await?
        .expect(200);
    check_object(&root);
    assert_eq!(prop(&root, "cmis:path"), "/");
    let space = w.space_id("boss").await?;
    let spaces = check_children(
        &w.get("boss", "objectId=root&cmisselector=children")
            .await?
            .expect(200),
    );
    assert_eq!(spaces.len(), 1);
    // A folder, a typed document in it, its properties and parents.
    let folder = w
        .act(
            "boss",
            &space,
            "createFolder",
            &[
                Part::Field("propertyId[0]", "cmis:name"),
                Part::Field("propertyValue[0]", "Lot 1"),
                Part::Field("propertyId[1]", "cmis:objectTypeId"),
                Part::Field("propertyValue[1]", "cmis:folder"),
            ],
        )
        .await?
        .expect(201);
    check_object(&folder);
    assert_eq!(prop(&folder, "cmis:path"), "/plans/Lot 1");
    assert_eq!(
        prop(&folder, "cmis:parentId").as_str(),
        Some(space.as_str())
    );
    let folder_id = id_of(&folder);
    let doc = w
        .create(
            "boss",
            &folder_id,
            "Facture 12.txt",
            b"Bassin olympique, lot 1",
            &[
                ("cmis:objectTypeId", "passerelle:facture"),
                ("passerelle:numero", "F-12"),
                ("passerelle:fournisseur", "BTP Rhône"),
                ("passerelle:montant_ttc", "12500.50"),
                ("passerelle:date_emission", "1772323200000"),
            ],
        )
        .await?
        .expect(201);
    check_object(&doc);
    assert_eq!(prop(&doc, "cmis:objectTypeId"), "passerelle:facture");
    assert_eq!(prop(&doc, "passerelle:fournisseur"), "BTP Rhône");
    assert_eq!(prop(&doc, "passerelle:montant_ttc"), 12500.5);
    assert_eq!(
        prop(&doc, "passerelle:date_emission"),
        1_772_323_200_000_i64
    );
    assert_eq!(prop(&doc, "cmis:contentStreamLength"), 23);
    let doc_id = id_of(&doc);
    let by_path = w
        .send(
            "GET",
            &format!("{ROOT}/plans/Lot%201/Facture%2012.txt?cmisselector=object"),
            Some("boss"),
            &[],
            Body::empty(),
        )
        .await?
        .expect(200);
    assert_eq!(id_of(&by_path), doc_id);
    let children = check_children(
        &w.get(
            "boss",
            &format!("objectId={folder_id}&cmisselector=children"),
        )
        .await?
        .expect(200),
    );
    assert_eq!(children.len(), 1);
    let parents = w
        .get("boss", &format!("objectId={doc_id}&cmisselector=parents"))
        .await?
        .expect(200);
    assert_eq!(parents[0]["relativePathSegment"], "Facture 12.txt");
    check_object(&parents[0]["object"]);
    let parent = w
        .get(
            "boss",
            &format!("objectId={folder_id}&cmisselector=folderParent"),
        )
        .await?
        .expect(200);
    assert_eq!(id_of(&parent), space);
    let succinct = w
        .get(
            "boss",
            &format!("objectId={doc_id}&cmisselector=object&succinct=true"),
        )
        .await?
        .expect(200);
    assert_eq!(
        succinct["succinctProperties"]["cmis:name"],
        "Facture 12.txt"
    );
    let filtered = w
        .get(
            "boss",
            &format!("objectId={doc_id}&cmisselector=object&filter=cmis:name,cmis:objectId"),
        )
        .await?
        .expect(200);
    assert_eq!(filtered["properties"].as_object().map(|o| o.len()), Some(2));
    // Content.
    let content = w
        .get("boss", &format!("objectId={doc_id}&cmisselector=content"))
        .await?;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(&content.body[..], b"Bassin olympique, lot 1");
    assert!(
        content.headers["content-disposition"]
            .to_str()?
            .starts_with("attachment")
    );
    // Check-out, the working copy, check-in with new content.
    let pwc = w.act("boss", &doc_id, "checkOut", &[]).await?.expect(201);
    check_object(&pwc);
    assert_eq!(prop(&pwc, "cmis:isPrivateWorkingCopy"), true);
    let pwc_id = id_of(&pwc);
    let out = w
        .get("boss", &format!("objectId={doc_id}&cmisselector=object"))
        .await?
        .expect(200);
    assert_eq!(prop(&out, "cmis:isVersionSeriesCheckedOut"), true);
    assert_eq!(
        prop(&out, "cmis:versionSeriesCheckedOutId").as_str(),
        Some(pwc_id.as_str())
    );
    let listed = w
        .send(
            "GET",
            &format!("{REPO}?cmisselector=checkedOut"),
            Some("boss"),
            &[],
            Body::empty(),
        )
        .await?
        .expect(200);
    assert_eq!(check_children_flat(&listed), vec![pwc_id.clone()]);
    let v2 = w
        .act(
            "boss",
            &pwc_id,
            "checkIn",
            &[
                Part::Field("checkinComment", "tarif révisé"),
                Part::Content {
                    name: "Facture 12.txt",
                    media_type: "text/plain",
                    bytes: b"Bassin olympique, lot 1, v2",
                },
            ],
        )
        .await?
        .expect(201);
    check_object(&v2);
    assert_eq!(prop(&v2, "cmis:versionLabel"), "2");
    assert_eq!(prop(&v2, "cmis:checkinComment"), "tarif révisé");
    assert_eq!(prop(&v2, "cmis:isVersionSeriesCheckedOut"), false);
    let versions = w
        .get("boss", &format!("objectId={doc_id}&cmisselector=versions"))
        .await?
        .expect(200);
    let versions = versions.as_array().expect("versions").clone();
    versions.iter().for_each(check_object);
    let labels: Vec<&Value> = versions
        .iter()
        .map(|v| prop(v, "cmis:versionLabel"))
        .collect();
    assert_eq!(labels, vec!["2", "1"]);
    let old = id_of(&versions[1]);
    assert!(old.ends_with(";1"), "{old}");
    let first = w
        .get("boss", &format!("objectId={old}&cmisselector=content"))
        .await?;
    assert_eq!(&first.body[..], b"Bassin olympique, lot 1");
    // Update, move, delete.
    let updated = w
        .act(
            "boss",
            &doc_id,
            "update",
            &[
                Part::Field("propertyId[0]", "passerelle:fournisseur"),
                Part::Field("propertyValue[0]", "BTP Rhône-Alpes"),
            ],
        )
        .await?
        .expect(200);
    check_object(&updated);
    assert_eq!(prop(&updated, "passerelle:fournisseur"), "BTP Rhône-Alpes");
    assert_eq!(prop(&updated, "passerelle:numero"), "F-12");
    let moved = w
        .act(
            "boss",
            &doc_id,
            "move",
            &[
                Part::Field("sourceFolderId", &folder_id),
                Part::Field("targetFolderId", &space),
            ],
        )
        .await?
        .expect(201);
    assert_eq!(prop(&moved, "cmis:name"), "Facture 12.txt");
    w.act("boss", &doc_id, "delete", &[]).await?.expect(200);
    let gone = w
        .get("boss", &format!("objectId={doc_id}&cmisselector=object"))
        .await?;
    assert_eq!(
        (gone.status.as_u16(), gone.exception().as_str()),
        (404, "objectNotFound")
    );
    Ok(())
}

fn check_children_flat(v: &Value) -> Vec<String> {
    v["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .inspect(|o| check_object(o))
        .map(id_of)
        .collect()
}
