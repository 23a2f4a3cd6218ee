//! Page handlers, one module per area.

pub mod admin;
pub mod auth;
pub mod documents;
pub mod manage;
pub mod settings;
pub mod spaces;
pub mod types;
pub mod uploads;
pub mod view;
