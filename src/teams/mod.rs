pub mod auth;
pub mod connector;
