//! The hot folder's file-system half against a real temporary directory:
//! when files are complete, where they go, recovery after a crash, name
//! collisions, limits, bundles, hostile entries, volume, and the spawned
//! worker end to end in both watch modes.

mod filing;
mod hostile;
mod outcomes;
mod support;
mod taking;
mod volume;
mod worker;
