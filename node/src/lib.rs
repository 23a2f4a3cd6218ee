//! # passerelle-node
//!
//! What the two node binaries, `passerelle-internal` and `passerelle-edge`,
//! set up alike, so they cannot drift apart: the `[log]` section of their
//! configuration and the tracing subscriber built from it.
//!
//! Its own small crate rather than a module of an adapter both nodes use:
//! logging set-up is the composition root's concern, not HTTP's or SQL's,
//! and the edge must link nothing it does not need. It depends on no
//! Passerelle crate; a node passes in what its adapters want quieted
//! (`passerelle_sql::QUIET_LOG_DIRECTIVES`).
//!
//! Modules: [`log`] ([`LogConfig`], [`LogFormat`], [`init_tracing`]).

pub mod log;

pub use log::{LogConfig, LogFormat, init_tracing};
