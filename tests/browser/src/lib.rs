//! # passerelle-browser-tests
//!
//! Browser tests only (`tests/`): the web interface of both nodes driven
//! in Debian's headless Chromium through chromedriver, against real
//! `passerelle-internal` and `passerelle-edge` processes, with axe-core
//! (vendored in `vendor/`, MPL-2.0, never served by the nodes) injected
//! for the accessibility check. Nothing to link: this library is empty.
