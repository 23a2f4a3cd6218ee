//! What each resource answers to one PROPFIND (`propfind` reads the
//! request and streams the answer): DAV's and Windows' live properties
//! (`live`), the lock system's, Passerelle's own and the dead ones, for
//! `allprop`, `propname` or the properties named.

use std::sync::Arc;

use dav_server::ls::{DavLock, DavLockSystem};

use crate::fs::{DavCredentials, PasserelleFs};
use crate::live::{self, DAV_LIVE, MS_LIVE};
use crate::locks::CoreLocks;
use crate::multistatus::{DAV, MS, PropName, Props, escape_into};
use crate::paths::Located;
use crate::propfind::{Item, Wanted};
use crate::props::{LIVE, NAMESPACE};

/// What answers for each resource of one PROPFIND.
pub(crate) struct Answering {
    pub(crate) fs: PasserelleFs,
    pub(crate) locks: Option<CoreLocks>,
    pub(crate) c: DavCredentials,
    pub(crate) wanted: Wanted,
    /// Windows' Mini-Redirector: its properties are in `allprop`.
    pub(crate) microsoft: bool,
}

impl Answering {
    pub(crate) async fn props(&self, item: &Item) -> Props {
        let mut out = Props::default();
        match &self.wanted {
            Wanted::All(include) => self.all(item, include, &mut out).await,
            Wanted::Names => self.names(item, &mut out).await,
            Wanted::Named(names) => {
                for name in names {
                    if !self.named(item, name, &mut out).await {
                        out.missing(name.clone());
                    }
                }
            }
        }
        out
    }

    /// The live properties of `allprop`, then `include`'s, then the dead
    /// ones (an included dead property once).
    async fn all(&self, item: &Item, include: &[PropName], out: &mut Props) {
        let r = item.live();
        for local in DAV_LIVE {
            live::write(&r, &PropName::dav(local), true, out);
        }
        self.lock_props(item, true, out).await;
        if self.microsoft {
            for local in MS_LIVE {
                live::write(&r, &PropName::new(MS, local), true, out);
            }
        }
        let dead = self.dead(item).await;
        for name in include {
            let listed = is_allprop(name, self.microsoft)
                || dead
                    .iter()
                    .any(|p| p.name.namespace() == name.ns && p.name.name() == name.local);
            if !listed && !self.named(item, name, out).await {
                out.missing(name.clone());
            }
        }
        for p in dead.iter() {
            out.element(&p.xml);
        }
    }

    /// Every property's name: the live ones this resource has, Passerelle's
    /// on a document, the dead ones.
    async fn names(&self, item: &Item, out: &mut Props) {
        let r = item.live();
        for local in DAV_LIVE {
            live::write(&r, &PropName::dav(local), false, out);
        }
        self.lock_props(item, false, out).await;
        for local in MS_LIVE {
            live::write(&r, &PropName::new(MS, local), false, out);
        }
        if matches!(item.at, Located::Document(..)) {
            for local in LIVE {
                out.empty(&PropName::new(NAMESPACE, local));
            }
        }
        for p in self.dead(item).await.iter() {
            out.empty(&PropName::new(p.name.namespace(), p.name.name()));
        }
    }

    /// Writes `name` if the resource has it; `false` if not.
    async fn named(&self, item: &Item, name: &PropName, out: &mut Props) -> bool {
        match name.ns.as_str() {
            DAV => self.dav_prop(item, name, out).await,
            NAMESPACE => self.passerelle_prop(item, name, out).await,
            _ => {
                let r = item.live();
                live::write(&r, name, true, out) || self.dead_prop(item, name, out).await
            }
        }
    }

    async fn dav_prop(&self, item: &Item, name: &PropName, out: &mut Props) -> bool {
        match name.local.as_str() {
            "supportedlock" => self.supported_lock(out),
            "lockdiscovery" => self.lock_discovery(item, out).await,
            _ => {
                let r = item.live();
                live::write(&r, name, true, out) || self.dead_prop(item, name, out).await
            }
        }
    }

    async fn passerelle_prop(&self, item: &Item, name: &PropName, out: &mut Props) -> bool {
        match self
            .fs
            .passerelle_prop(&self.c, &item.at, &name.local)
            .await
        {
            Some(value) => {
                out.text(name, &value);
                true
            }
            None => false,
        }
    }

    async fn dead_prop(&self, item: &Item, name: &PropName, out: &mut Props) -> bool {
        let dead = self.dead(item).await;
        let found = dead
            .iter()
            .find(|p| p.name.namespace() == name.ns && p.name.name() == name.local);
        if let Some(p) = found {
            out.element(&p.xml);
        }
        found.is_some()
    }

    async fn dead(&self, item: &Item) -> Arc<Vec<passerelle_core::properties::DeadProperty>> {
        let Some(resource) = item.at.resource() else {
            return Arc::default();
        };
        match self.fs.dead_props(&self.c, resource).await {
            Ok(props) => props,
            Err(e) => {
                tracing::info!(error = ?e, "dav: dead properties not read");
                Arc::default()
            }
        }
    }

    /// `supportedlock` and `lockdiscovery`, with values or by name: where
    /// the node offers locks only.
    async fn lock_props(&self, item: &Item, values: bool, out: &mut Props) {
        if self.locks.is_none() {
            return;
        }
        if values {
            self.supported_lock(out);
            self.lock_discovery(item, out).await;
        } else {
            out.empty(&PropName::dav("supportedlock"));
            out.empty(&PropName::dav("lockdiscovery"));
        }
    }

    fn supported_lock(&self, out: &mut Props) -> bool {
        if self.locks.is_none() {
            return false;
        }
        out.xml(
            &PropName::dav("supportedlock"),
            "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>\
             <D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>",
        );
        true
    }

    async fn lock_discovery(&self, item: &Item, out: &mut Props) -> bool {
        let Some(ls) = &self.locks else {
            return false;
        };
        let mut xml = String::new();
        for lock in ls.discover(&item.path).await {
            active_lock(&mut xml, &lock);
        }
        out.xml(&PropName::dav("lockdiscovery"), &xml);
        true
    }
}

/// Whether `allprop` lists `name` already.
fn is_allprop(name: &PropName, microsoft: bool) -> bool {
    (name.ns == DAV
        && (DAV_LIVE.contains(&name.local.as_str())
            || name.local == "supportedlock"
            || name.local == "lockdiscovery"))
        || (microsoft && name.ns == MS && MS_LIVE.contains(&name.local.as_str()))
}

/// One `<D:activelock>` (RFC 4918 §14.1).
fn active_lock(out: &mut String, lock: &DavLock) {
    out.push_str("<D:activelock><D:lockscope>");
    out.push_str(if lock.shared {
        "<D:shared/>"
    } else {
        "<D:exclusive/>"
    });
    out.push_str("</D:lockscope><D:locktype><D:write/></D:locktype><D:depth>");
    out.push_str(if lock.deep { "Infinity" } else { "0" });
    out.push_str("</D:depth><D:timeout>");
    match lock.timeout {
        Some(d) => out.push_str(&format!("Second-{}", d.as_secs())),
        None => out.push_str("Infinite"),
    }
    out.push_str("</D:timeout><D:locktoken><D:href>");
    escape_into(out, &lock.token);
    out.push_str("</D:href></D:locktoken><D:lockroot><D:href>");
    escape_into(out, &lock.path.with_prefix().as_url_string());
    out.push_str("</D:href></D:lockroot>");
    if let Some(owner) = lock.owner.as_deref().and_then(crate::locks::owner_text) {
        out.push_str(&owner);
    }
    out.push_str("</D:activelock>");
}
