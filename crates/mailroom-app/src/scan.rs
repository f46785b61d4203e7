//! Label photos: reading every barcode in an uploaded photo (with carrier recognition of each),
//! and keeping photos with an item as encrypted attachments.
//!
//! Decoding is CPU-heavy: it runs on tokio's blocking threads, at most [`MAX_CONCURRENT_SCANS`]
//! at a time, never on the async workers.

use crate::{App, AppError, AppResult, Principal, RequestCtx};
use chrono::Utc;
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::carrier::{Detection, detect};
use mailroom_domain::custody::{EventDraft, storage_time};
use mailroom_domain::ids::{AttachmentId, ItemId};
use mailroom_domain::item::security_level;
use mailroom_domain::{DomainError, ErrorCode};
use mailroom_scan::{Barcode, Limits, ScanError};
use mailroom_store::{Attachment, ItemPhoto, StoreError};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// Largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 15 * 1024 * 1024;
/// Largest photo accepted, in pixels (checked from the file's header before decoding).
pub const MAX_PHOTO_PIXELS: u64 = 40_000_000;
/// Photos decoded at once by one server; further requests wait their turn.
pub const MAX_CONCURRENT_SCANS: usize = 2;

static SCANS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_CONCURRENT_SCANS);

/// The limits uploads are held to.
pub fn limits() -> Limits {
    Limits { max_bytes: MAX_PHOTO_BYTES, max_pixels: MAX_PHOTO_PIXELS, max_side: 12_000 }
}

/// One barcode read from a photo.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScannedBarcode {
    /// `code128`, `qrcode`, `datamatrix`, `pdf417`, `code39`, `code93`, `codabar` or `itf`.
    pub symbology: String,
    /// The decoded text.
    pub text: String,
    /// Carrier recognition of `text`: the same answer as `GET /api/v1/carriers/detect`.
    pub carrier: Detection,
}

/// The tracking number the photo most likely carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    pub tracking_number: String,
    /// The carrier id, when one reading is clearly best.
    pub carrier: Option<String>,
    /// True when the number fits its carrier's format and check digit.
    pub valid: bool,
    /// The index in `barcodes` it was read from.
    pub barcode: usize,
}

/// What a label photo shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanReport {
    /// Every barcode found, each (symbology, text) once.
    pub barcodes: Vec<ScannedBarcode>,
    /// The best tracking number among them: a valid one of a named carrier first, then one of a
    /// named carrier, then any tracking-number shape; null when none is one.
    pub suggested: Option<Suggestion>,
}

/// Carrier recognition for each decoded barcode.
pub fn recognise(barcodes: Vec<Barcode>) -> Vec<ScannedBarcode> {
    barcodes
        .into_iter()
        .map(|b| {
            let carrier = detect(&b.text);
            ScannedBarcode { symbology: b.symbology.to_string(), text: b.text, carrier }
        })
        .collect()
}

/// The barcode whose text is most likely the item's tracking number.
pub fn suggest(barcodes: &[ScannedBarcode]) -> Option<Suggestion> {
    let rank = |d: &Detection| match (d.carrier.is_some(), d.valid) {
        (true, true) => 3,
        (true, false) => 2,
        (false, _) => 1,
    };
    barcodes
        .iter()
        .enumerate()
        .filter(|(_, b)| b.carrier.tracking_number.is_some())
        .max_by_key(|(i, b)| (rank(&b.carrier), std::cmp::Reverse(*i)))
        .and_then(|(i, b)| {
            Some(Suggestion {
                tracking_number: b.carrier.tracking_number.clone()?,
                carrier: b.carrier.carrier.clone(),
                valid: b.carrier.valid,
                barcode: i,
            })
        })
}

/// Reads a photo synchronously (the CLI): every barcode with its carrier recognition.
pub fn scan_file_bytes(bytes: &[u8]) -> Result<Vec<ScannedBarcode>, ScanError> {
    mailroom_scan::scan(bytes, &limits()).map(recognise)
}

fn scan_error(e: ScanError) -> AppError {
    match e {
        ScanError::TooLarge(m) => AppError::new(ErrorCode::PayloadTooLarge, m),
        ScanError::Unsupported(m) => AppError::new(ErrorCode::UnsupportedMediaType, m),
        ScanError::Corrupt(m) => AppError::Domain(DomainError::invalid("image", m)),
    }
}

/// Runs CPU-heavy image work on a blocking thread, a bounded number at a time.
async fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let _permit = SCANS.acquire().await.map_err(|_| AppError::Internal("the scan queue is closed".into()))?;
    tokio::task::spawn_blocking(f).await.map_err(|e| AppError::Internal(format!("image decoding failed: {e}")))
}

impl App {
    /// Reads every barcode in a label photo, with carrier recognition and the suggested tracking
    /// number. For intake: needs `register_items`. Reads and stores no organisation data.
    pub async fn scan_label(&self, p: &Principal, bytes: Vec<u8>) -> AppResult<ScanReport> {
        require(p.role, Permission::RegisterItems)?;
        let barcodes = off_runtime(move || mailroom_scan::scan(&bytes, &limits())).await?.map_err(scan_error)?;
        let barcodes = recognise(barcodes);
        let suggested = suggest(&barcodes);
        Ok(ScanReport { barcodes, suggested })
    }

    /// Keeps a photo (PNG or JPEG) with an item, encrypted, and records `photo_added` in the
    /// custody log with its SHA-256, in one transaction. Needs `handle_items` and the clearance
    /// the item's security level asks for.
    pub async fn add_item_photo(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        bytes: Vec<u8>,
    ) -> AppResult<ItemPhoto> {
        require(p.role, Permission::HandleItems)?;
        let item = self.store.item(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("item"))?;
        let level = security_level(item.kind, item.confidentiality);
        if p.clearance < level {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!("adding a photo to this item needs clearance for security level {level}; ask a supervisor"),
            ));
        }
        let media_type = mailroom_scan::sniff(&bytes)
            .ok_or_else(|| AppError::new(ErrorCode::UnsupportedMediaType, "send the photo as a PNG or JPEG image"))?;
        // The whole image must decode, within the limits: no corrupt or oversized files kept.
        let (bytes, (w, h)) = off_runtime(move || {
            let dims = mailroom_scan::load(&bytes, &limits()).map(|g| g.dimensions());
            (bytes, dims)
        })
        .await
        .and_then(|(b, d)| Ok((b, d.map_err(scan_error)?)))?;
        let now = storage_time(Utc::now());
        let att = self.seal_new_attachment(p.tenant_id, item.category, media_type, bytes, now).await?;
        let draft = EventDraft {
            item_id: Some(id),
            kind: "photo_added".into(),
            location_id: None,
            details: json!({
                "photo_id": att.id,
                "sha256": att.sha256,
                "media_type": media_type,
                "size": att.size,
                "width": w,
                "height": h,
            }),
        };
        match self.store.add_item_photo(p.tenant_id, id, att, Some(p.user_id), &p.actor(ctx), draft).await {
            Ok((photo, _)) => Ok(photo),
            Err(StoreError::NotFound) => Err(AppError::not_found("item")),
            Err(e) => Err(e.into()),
        }
    }

    /// The photos kept with an item the caller may see.
    pub async fn item_photos(&self, p: &Principal, id: ItemId) -> AppResult<Vec<ItemPhoto>> {
        self.item(p, id).await?;
        Ok(self.store.item_photos(p.tenant_id, id).await?)
    }

    /// One photo, decrypted. Photos show the label (sender, contents): for a confidential item
    /// only callers with a need to know may open them, and each look is recorded in the custody
    /// log. A photo destroyed under a retention policy answers [`ErrorCode::Shredded`].
    pub async fn item_photo(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        photo: AttachmentId,
    ) -> AppResult<(ItemPhoto, Attachment)> {
        let item = self.view_item(p, ctx, id, "photo").await?;
        if item.redacted {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "the photos of this confidential item are shown only to its recipient and to staff cleared for it",
            ));
        }
        let meta = self.store.item_photo(p.tenant_id, id, photo).await?.ok_or_else(|| AppError::not_found("photo"))?;
        let a = self.store.attachment(p.tenant_id, photo).await?.ok_or_else(|| AppError::not_found("photo"))?;
        Ok((meta, self.open_attachment(a).await?))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn scanned(text: &str) -> ScannedBarcode {
        ScannedBarcode { symbology: "code128".into(), text: text.into(), carrier: detect(text) }
    }

    #[test]
    fn the_suggestion_prefers_a_valid_carrier_number() {
        let codes = vec![scanned("4006381333931"), scanned("HELLO WORLD"), scanned("1Z999AA10123456784")];
        let s = suggest(&codes).unwrap();
        assert_eq!(s.tracking_number, "1Z999AA10123456784");
        assert_eq!(s.carrier.as_deref(), Some("ups"));
        assert!(s.valid);
        assert_eq!(s.barcode, 2);
    }

    #[test]
    fn no_suggestion_without_a_tracking_number() {
        assert!(suggest(&[scanned("4006381333931"), scanned("https://example.com")]).is_none());
        assert!(suggest(&[]).is_none());
    }
}
