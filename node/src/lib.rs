//! # passerelle-node
//!
//! What the two node binaries, `passerelle-internal` and `passerelle-edge`,
//! set up alike, so they cannot drift apart: the `[log]` section of their
//! configuration and the tracing subscriber built from it, and what their
//! `status` commands ask a running node.
//!
//! Its own small crate rather than a module of an adapter both nodes use:
//! logging set-up is the composition root's concern, not HTTP's or SQL's,
//! and the edge must link nothing it does not need. It depends on no
//! Passerelle crate; a node passes in what its adapters want quieted
//! (`passerelle_sql::QUIET_LOG_DIRECTIVES`).
//!
//! Modules: [`log`] ([`LogConfig`], [`LogFormat`], [`init_tracing`]),
//! [`status`] (a running node's workers, read from its `/readyz`),
//! [`runtime`] (the async runtime, its blocking pool bounded).

pub mod log;
pub mod runtime;
pub mod status;

pub use log::{LogConfig, LogFormat, init_tracing};
