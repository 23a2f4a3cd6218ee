//! Text extraction (ADR 0006 §3): the driven adapter behind core's
//! [`TextExtractor`](passerelle_core::search::TextExtractor) port, from a
//! version's bytes to the text the search index holds, with a status. It
//! depends on core only; nothing here knows of the index or the database.
//!
//! Modules:
//! - [`extractor`]: [`Extractor`], format detection (media type, extension,
//!   magic bytes), spooling to a temp file, the overall timeout.
//! - [`limits`]: [`Limits`], their `[extract]` section of the nodes'
//!   configuration and its bounds, and the text cap.
//! - `child`: the parsers run as confined child processes; [`Sandbox`]
//!   (from [`Extractor::sandbox`]) says how they run on this machine, for
//!   the node's startup report.
//! - `pdf`: PDF through `pdftotext` (poppler-utils).
//! - `doc`: Word 97–2003 through `catdoc`.
//! - `office`: ODF (odt, odp, ods) and OOXML (docx, pptx, xlsx) in zip,
//!   sheets through calamine, Excel 97–2003 (xls) too.
//! - `text`: plain text and CSV, UTF-8 or else Windows-1252.
//! - `markup`: HTML and XML text (PES/ACTES `V="…"` values included).
//! - `mail`: `.eml` headers and text parts.
//!
//! Default limits (the nodes' `[extract]` section changes them): 256 MiB read per document (plain text: only what the
//! text cap needs), 64 MiB held in memory (HTML, e-mail), 1 MiB of text
//! kept, 10,000 zip entries, 512 MiB unzipped, a 100:1 compression ratio,
//! no nested archives, 30 s per extraction; pdftotext and catdoc get 512
//! MiB of address space, 30 CPU seconds, no file writes and no network.

mod child;
mod doc;
pub mod extractor;
pub mod limits;
mod mail;
mod markup;
mod office;
mod pdf;
mod text;

pub use child::Sandbox;
pub use extractor::Extractor;
pub use limits::{Limits, LimitsConfig, LimitsError};
