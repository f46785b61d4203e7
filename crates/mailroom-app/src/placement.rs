//! Suggesting where to store an item at intake (see `mailroom_domain::placement`).

use crate::{App, AppResult, Principal};
use mailroom_domain::DomainError;
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::ids::{LocationId, SiteId};
use mailroom_domain::item::{Category, Confidentiality, ItemKind, security_level};
use mailroom_domain::placement::{self, Slot};
use mailroom_store::Location;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// What is known about an item when asking where to store it; fields left out take the
/// defaults of registration (parcel, general, internal).
#[derive(Debug, Default, Clone)]
pub struct PlacementQuery {
    pub kind: Option<String>,
    pub category: Option<String>,
    pub confidentiality: Option<String>,
    pub site_id: Option<SiteId>,
}

/// A suggested storage location.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlacementSuggestion {
    /// The location, or null when none at the site is secure enough.
    pub location: Option<Location>,
    /// `suited_kind` (secure enough and of a kind suited to the item) or `secure_enough`.
    pub reason: Option<&'static str>,
    /// The security level the item needs (0 open … 3 strictly confidential).
    pub required_level: i64,
    /// Items kept at the suggested location now.
    pub occupancy: i64,
}

fn field<T>(
    name: &str,
    v: Option<&str>,
    parse: fn(&str, &str) -> Result<T, DomainError>,
    default: T,
) -> Result<T, DomainError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse(name, s),
        None => Ok(default),
    }
}

impl App {
    /// The location to store an item in: secure enough for it, wasting as little security as
    /// possible, of a kind that suits it, the emptiest first. Only locations of the caller's site
    /// (or the site asked for) are considered.
    pub async fn suggest_location(&self, p: &Principal, q: &PlacementQuery) -> AppResult<PlacementSuggestion> {
        require(p.role, Permission::RegisterItems)?;
        let kind = field("kind", q.kind.as_deref(), ItemKind::parse_field, ItemKind::Parcel)?;
        let category = field("category", q.category.as_deref(), Category::parse_field, Category::General)?;
        let conf = field(
            "confidentiality",
            q.confidentiality.as_deref(),
            Confidentiality::parse_field,
            Confidentiality::Internal,
        )?;
        let site = self.intake_site(p, q.site_id)?;
        let required_level = security_level(kind, conf);
        let occupancy: HashMap<LocationId, i64> =
            self.store.location_occupancy(p.tenant_id).await?.into_iter().collect();
        let locations: Vec<Location> = self
            .store
            .list_locations(p.tenant_id)
            .await?
            .into_iter()
            .filter(|l| site.is_none_or(|s| s == l.site_id))
            .collect();
        let slots: Vec<Slot<LocationId>> = locations
            .iter()
            .map(|l| Slot {
                id: l.id,
                code: l.code.clone(),
                kind: l.kind.clone(),
                security_level: l.security_level,
                occupancy: occupancy.get(&l.id).copied().unwrap_or(0),
            })
            .collect();
        let chosen = placement::suggest(kind, category, required_level, &slots);
        let location = chosen.and_then(|(id, _)| locations.into_iter().find(|l| l.id == id));
        Ok(PlacementSuggestion {
            occupancy: location.as_ref().and_then(|l| occupancy.get(&l.id).copied()).unwrap_or(0),
            location,
            reason: chosen.map(|(_, r)| r.as_str()),
            required_level,
        })
    }
}
