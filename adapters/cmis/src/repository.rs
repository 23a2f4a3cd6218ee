//! The repository's info (CMIS 1.1 §2.1.1): who we are, what the binding
//! supports (capabilities as this repository honours them), and the URLs
//! every later call starts from.

use serde_json::{Value, json};

use crate::REPOSITORY_ID;
use crate::ctx::Urls;
use crate::ids::ROOT;

/// `GET /cmis/browser`: every repository by id (there is one).
pub(crate) fn service_document(urls: &Urls) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(REPOSITORY_ID.to_owned(), info(urls));
    Value::Object(out)
}

/// The repository's info.
pub(crate) fn info(urls: &Urls) -> Value {
    json!({
        "repositoryId": REPOSITORY_ID,
        "repositoryName": "Passerelle",
        "repositoryDescription": "Espaces collaboratifs et documents de la collectivité",
        "vendorName": "Passerelle",
        "productName": "Passerelle",
        "productVersion": env!("CARGO_PKG_VERSION"),
        "rootFolderId": ROOT,
        "repositoryUrl": urls.repository,
        "rootFolderUrl": urls.root,
        "thinClientURI": format!("{}/", urls.origin),
        "capabilities": capabilities(),
        // No change log: `capabilityChanges` is none, the token empty.
        "latestChangeLogToken": "",
        "cmisVersionSupported": "1.1",
        "changesIncomplete": true,
        "changesOnType": [],
        "principalIdAnonymous": "anonymous",
        "principalIdAnyone": "anyone",
        "extendedFeatures": [],
    })
}

fn capabilities() -> Value {
    json!({
        "capabilityContentStreamUpdatability": "anytime",
        "capabilityChanges": "none",
        "capabilityRenditions": "none",
        "capabilityGetDescendants": false,
        "capabilityGetFolderTree": false,
        "capabilityOrderBy": "common",
        "capabilityMultifiling": false,
        "capabilityUnfiling": false,
        "capabilityVersionSpecificFiling": false,
        // A working copy is the document held by its check-out: it takes
        // its new content and properties at check-in.
        "capabilityPWCSearchable": false,
        "capabilityPWCUpdatable": false,
        "capabilityAllVersionsSearchable": false,
        "capabilityQuery": "bothcombined",
        "capabilityJoin": "none",
        "capabilityACL": "none",
        "capabilityCreatablePropertyTypes": { "canCreate": [] },
        "capabilityNewTypeSettableAttributes": {
            "id": false, "localName": false, "localNamespace": false,
            "displayName": false, "queryName": false, "description": false,
            "creatable": false, "fileable": false, "queryable": false,
            "fulltextIndexed": false, "includedInSupertypeQuery": false,
            "controllablePolicy": false, "controllableACL": false,
        },
    })
}
