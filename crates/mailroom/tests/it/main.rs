//! The one integration-test binary: store contract (both backends), HTTP API (both backends),
//! CLI, crash safety and the OpenAPI contract.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod cli;
mod crash;
mod custody;
mod hardening;
mod openapi;
mod store;
mod support;
