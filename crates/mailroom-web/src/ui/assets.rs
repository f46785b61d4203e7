//! Static files of the console, embedded in the binary: the console works on an intranet
//! without reaching anything outside the server. URLs carry a content hash, so they are cached
//! for a year and replaced on upgrade.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::OnceLock;

struct Asset {
    name: &'static str,
    media_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "console.css",
        media_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/console.css"),
    },
    Asset {
        name: "console.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/console.js"),
    },
    Asset {
        name: "intake.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/intake.js"),
    },
    Asset {
        name: "exceptions.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/exceptions.js"),
    },
    Asset {
        name: "handover.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/handover.js"),
    },
    Asset {
        name: "label-photo.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/label-photo.js"),
    },
    Asset {
        name: "notify-template.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/notify-template.js"),
    },
    Asset {
        name: "outbound.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/outbound.js"),
    },
    Asset { name: "icon.svg", media_type: "image/svg+xml", body: include_bytes!("../../static/icon.svg") },
];

fn hashes() -> &'static HashMap<&'static str, String> {
    static H: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    H.get_or_init(|| {
        use sha2::Digest;
        ASSETS
            .iter()
            .map(|a| (a.name, mailroom_domain::custody::hex(&sha2::Sha256::digest(a.body))[..12].to_string()))
            .collect()
    })
}

/// The URL of an asset, versioned by its content.
pub(crate) fn href(name: &str) -> String {
    match hashes().get(name) {
        Some(h) => format!("/static/{name}?v={h}"),
        None => format!("/static/{name}"),
    }
}

pub(crate) async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(a) = ASSETS.iter().find(|a| a.name == name) else {
        return crate::ui::view::not_found(&headers, &axum::http::Uri::from_static("/static/"));
    };
    let etag = hashes().get(a.name).map(|h| format!("\"{h}\"")).unwrap_or_default();
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut r = (StatusCode::OK, a.body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.media_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_versioned_and_non_empty() {
        for a in ASSETS {
            assert!(!a.body.is_empty(), "{} is empty", a.name);
            assert!(href(a.name).contains("?v="));
        }
    }

    #[test]
    fn no_inline_handlers_or_remote_urls_in_assets() {
        for a in ASSETS {
            let text = String::from_utf8_lossy(a.body);
            assert!(!text.contains("http://") || a.name.ends_with(".svg"), "{} refers to a remote URL", a.name);
            assert!(!text.contains("https://"), "{} refers to a remote URL", a.name);
            assert!(!text.contains("eval("), "{} uses eval", a.name);
            assert!(!text.contains("innerHTML"), "{} writes HTML from strings", a.name);
        }
    }
}
