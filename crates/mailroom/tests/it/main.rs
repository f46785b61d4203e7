//! The one integration-test binary: store contract (both backends), HTTP API (both backends),
//! CLI, crash safety, carrier recognition and the OpenAPI contract.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod addresses;
mod api;
mod carrier;
mod cli;
mod confidential;
mod crash;
mod custody;
mod exceptions;
mod hardening;
mod isolation;
mod jobs;
mod notify;
mod notify_settings;
mod openapi;
mod outbound;
mod outbound_ui;
mod pdf;
mod postage;
mod recipients;
mod roles;
mod routes;
mod rules;
mod scan;
mod service_levels;
mod store;
mod support;
mod tenancy;
mod vault;
