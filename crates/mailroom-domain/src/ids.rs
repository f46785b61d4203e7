//! Typed identifiers. All are UUIDv7 (time-ordered) underneath.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self { $name(Uuid::now_v7()) }
            pub fn as_uuid(&self) -> Uuid { self.0 }
        }
        impl Default for $name {
            fn default() -> Self { Self::new() }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }
        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Uuid::parse_str(s).map($name) }
        }
        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self { $name(u) }
        }
    )*};
}

id_type!(
    TenantId,
    SiteId,
    LocationId,
    DepartmentId,
    PersonId,
    ItemId,
    UserId,
    EventId,
    AttachmentId,
    TokenId,
    DelegationId
);
id_type!(DataKeyId, ExceptionId);
id_type!(JobId);
id_type!(EndpointId);
