//! Page handlers, one module per area.

pub mod activity;
pub mod admin;
pub mod app_passwords;
pub mod auth;
pub mod documents;
pub mod extractions;
pub mod links;
pub mod locks;
pub mod manage;
pub mod members;
pub mod own_second_factor;
pub mod search;
pub mod second_factor;
pub mod settings;
pub mod spaces;
pub mod types;
pub mod uploads;
pub mod view;
pub mod webdav;
