//! Pure domain model of the mailroom: identifiers, the item state machine, custody hashing,
//! reference codes, roles, validation and carrier recognition. No I/O lives here.

pub mod address;
pub mod auth;
pub mod calendar;
pub mod carrier;
pub mod custody;
pub mod customs;
pub mod error;
pub mod exception;
pub mod followup;
pub mod ids;
pub mod item;
pub mod matcher;
pub mod merkle;
pub mod notify;
pub mod outbound;
pub mod placement;
pub mod postage;
pub mod receipt;
pub mod reference;
pub mod rules;
pub mod text;
pub mod throttle;
pub mod token;
pub mod vault;

pub use error::{DomainError, ErrorCode};
