//! Pure domain model of the mailroom: identifiers, the item state machine, custody hashing,
//! reference codes, roles and validation. No I/O lives here.

pub mod auth;
pub mod custody;
pub mod error;
pub mod ids;
pub mod item;
pub mod merkle;
pub mod receipt;
pub mod reference;
pub mod text;
pub mod throttle;
pub mod token;

pub use error::{DomainError, ErrorCode};
