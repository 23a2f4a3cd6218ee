//! The CMIS Browser binding over core's in-memory fakes, through its real
//! router: `shapes` checks every answer against the shapes cmislib reads;
//! `rights` the authorization matrix over sequences of legal steps;
//! `hostile` bad input and transports; `queries` CMIS-QL over the index.
//! The real client (cmislib) against a real node is
//! `internal-node/tests/cmis.rs`.

/// The directory down: a CMIS client is told `runtime` with 503 (come
/// back later), never `permissionDenied`; a local account still works.
#[tokio::test]
async fn a_directory_that_does_not_answer_is_a_runtime_503() -> anyhow::Result<()> {
    let directory = std::sync::Arc::new(passerelle_core::fakes::MemDirectory::new());
    directory.add("c.durand", PASSWORD, "Claire Durand", "");
    directory.set_down(true);
    let (app, repo) = mem_internal(CoreSettings::default());
    let app = app.with_directory(directory);
    agent(&app, "boss").await?;
    let (search, indexer, _) = mem_search(app.shared(), repo);
    let w = World {
        router: router(Cmis::new(app.clone(), search, Vec::new())),
        app,
        indexer,
    };
    let down = w.get("c.durand", "cmisselector=object").await?;
    assert_eq!(
        down.status.as_u16(),
        503,
        "{}",
        String::from_utf8_lossy(&down.body)
    );
    assert_eq!(down.exception(), "runtime");
    assert!(down.headers.get("retry-after").is_some());
    w.get("boss", "cmisselector=object").await?.expect(200);
    Ok(())
}

mod hostile;
mod queries;
mod rights;
mod shapes;

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use passerelle_cmis::{Cmis, router};
use passerelle_core::fakes::{mem_agent, mem_internal, mem_search};
use passerelle_core::model::Visibility;
use passerelle_core::role::Role;
use passerelle_core::service::{Indexer, NewSpace};
use passerelle_core::{Actor, CoreSettings, InternalApp};
use serde_json::Value;

pub const PASSWORD: &str = "un mot de passe de test";
pub const ROOT: &str = "/cmis/browser/passerelle/root";
pub const REPO: &str = "/cmis/browser/passerelle";

struct World {
    pub app: InternalApp,
    pub router: Router,
    pub indexer: Indexer,
}

async fn agent(app: &InternalApp, login: &str) -> anyhow::Result<Actor> {
    Ok(mem_agent(app, login, PASSWORD).await?)
}

/// A space `plans` managed by `boss`, where `reader` and `contrib` have
/// those roles; `outsider` is in no space.
async fn world() -> anyhow::Result<World> {
    let (app, repo) = mem_internal(CoreSettings {
        max_upload_bytes: 1024 * 1024,
        ..CoreSettings::default()
    });
    // The node seeds the catalogue at start; the fakes start empty.
    for t in passerelle_core::doctype::default_catalogue() {
        app.save_document_type(&Actor::System, t).await?;
    }
    let boss = agent(&app, "boss").await?;
    for login in ["reader", "contrib", "outsider"] {
        agent(&app, login).await?;
    }
    let s = app
        .create_space(
            &boss,
            NewSpace {
                slug: "plans".into(),
                title: "Plans".into(),
                description: String::new(),
                domain: "Urbanisme".into(),
                visibility: Visibility::Private,
                manager: None,
            },
        )
        .await?
        .space
        .id;
    app.set_member(&boss, s, "reader", Role::Reader).await?;
    app.set_member(&boss, s, "contrib", Role::Contributor)
        .await?;
    let (search, indexer, _) = mem_search(app.shared(), repo);
    let router = router(Cmis::new(app.clone(), search, Vec::new()));
    Ok(World {
        app,
        router,
        indexer,
    })
}

pub use passerelle_testing::http::Answer;

/// What the suites read of an answer.
pub trait Read {
    fn json(&self) -> Value;
    /// The answer's JSON, after checking its status.
    fn expect(&self, status: u16) -> Value;
    /// The CMIS exception's name.
    fn exception(&self) -> String;
}

impl Read for Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }

    fn exception(&self) -> String {
        self.json()["exception"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// A part of a form: a control field, or the content.
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    Field(&'a str, &'a str),
    Content {
        name: &'a str,
        media_type: &'a str,
        bytes: &'a [u8],
    },
}

const BOUNDARY: &str = "----passerelle-test-boundary";

pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p {
            Part::Field(k, v) => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                        .as_bytes(),
                );
            }
            Part::Content {
                name,
                media_type,
                bytes,
            } => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"content\"; filename=\"{name}\"\r\n\
                         Content-Type: {media_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(bytes);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

impl World {
    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        user: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> anyhow::Result<Answer> {
        let mut all = vec![("host", "ged.example")];
        all.extend_from_slice(headers);
        passerelle_testing::http::send(
            &self.router,
            method,
            uri,
            user.map(|u| (u, PASSWORD)),
            &all,
            body,
        )
        .await
    }

    /// `GET` on the root folder's URL with these parameters.
    pub async fn get(&self, user: &str, query: &str) -> anyhow::Result<Answer> {
        self.send(
            "GET",
            &format!("{ROOT}?{query}"),
            Some(user),
            &[],
            Body::empty(),
        )
        .await
    }

    /// `POST` of a multipart form on `uri`.
    pub async fn post(&self, user: &str, uri: &str, parts: &[Part<'_>]) -> anyhow::Result<Answer> {
        let ct = format!("multipart/form-data; boundary={BOUNDARY}");
        self.send(
            "POST",
            uri,
            Some(user),
            &[("content-type", ct.as_str())],
            multipart(parts),
        )
        .await
    }

    /// An action on the object `id`.
    pub async fn act(
        &self,
        user: &str,
        id: &str,
        action: &str,
        more: &[Part<'_>],
    ) -> anyhow::Result<Answer> {
        let mut parts = vec![
            Part::Field("cmisaction", action),
            Part::Field("objectId", id),
        ];
        parts.extend(more.iter().copied());
        self.post(user, ROOT, &parts).await
    }

    /// The id of the space `plans`, as the root lists it.
    pub async fn space_id(&self, user: &str) -> anyhow::Result<String> {
        let v = self
            .get(user, "objectId=root&cmisselector=children")
            .await?
            .expect(200);
        let found = v["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["object"]["properties"]["cmis:name"]["value"] == "plans")
            .map(|o| o["object"]["properties"]["cmis:objectId"]["value"].clone());
        found
            .and_then(|v| v.as_str().map(str::to_owned))
            .ok_or_else(|| anyhow::anyhow!("no space plans in {v}"))
    }

    /// A document created by `user` in `parent`, its id.
    pub async fn create(
        &self,
        user: &str,
        parent: &str,
        name: &str,
        body: &[u8],
        props: &[(&str, &str)],
    ) -> anyhow::Result<Answer> {
        let mut parts = Vec::new();
        let ids: Vec<String> = (0..=props.len())
            .map(|i| format!("propertyId[{i}]"))
            .collect();
        let vals: Vec<String> = (0..=props.len())
            .map(|i| format!("propertyValue[{i}]"))
            .collect();
        parts.push(Part::Field(&ids[0], "cmis:name"));
        parts.push(Part::Field(&vals[0], name));
        for (i, (k, v)) in props.iter().enumerate() {
            parts.push(Part::Field(&ids[i + 1], k));
            parts.push(Part::Field(&vals[i + 1], v));
        }
        parts.push(Part::Content {
            name,
            media_type: "text/plain",
            bytes: body,
        });
        self.act(user, parent, "createDocument", &parts).await
    }
}

/// A property's value in a full-form object.
pub fn prop<'a>(object: &'a Value, id: &str) -> &'a Value {
    &object["properties"][id]["value"]
}

/// An object's id.
pub fn id_of(object: &Value) -> String {
    prop(object, "cmis:objectId")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
