//! Label photos: every barcode in a PNG or JPEG image, with its symbology and text.
//!
//! Pure CPU work, no I/O and no async runtime: callers on a server run [`scan`] on a blocking
//! thread. Decoding is done by `rxing` (a port of ZXing) with only the symbologies labels carry;
//! this crate adds what makes phone and webcam photos readable — a working resolution, several
//! binarisations, a downscaled pass for blurred or noisy photos, and rotated passes for linear
//! codes photographed at an angle — and the limits that keep a hostile upload harmless.
//!
//! [`synth`] draws labelled images and degrades them, for tests and benchmarks.

mod passes;
pub mod synth;

use image::{GrayImage, ImageFormat};
use serde::Serialize;
use std::io::Cursor;

pub use passes::decode_gray;

/// One decoded barcode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Barcode {
    /// `code128`, `qrcode`, `datamatrix`, `pdf417`, `code39`, `code93`, `codabar` or `itf`.
    pub symbology: &'static str,
    /// The decoded text, as encoded.
    pub text: String,
}

/// What an upload may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, in bytes.
    pub max_bytes: usize,
    /// Largest image, in pixels (width × height), checked from the header before decoding.
    pub max_pixels: u64,
    /// Longest side, in pixels, checked from the header before decoding.
    pub max_side: u32,
}

impl Default for Limits {
    /// 15 MiB and 40 megapixels, at most 12,000 pixels a side: any phone's or webcam's photo.
    fn default() -> Limits {
        Limits { max_bytes: 15 * 1024 * 1024, max_pixels: 40_000_000, max_side: 12_000 }
    }
}

/// Why an image could not be scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// Over [`Limits`]: the file or the image it declares is too large.
    TooLarge(String),
    /// Not a PNG or JPEG file.
    Unsupported(String),
    /// A PNG or JPEG that cannot be decoded (truncated, corrupt).
    Corrupt(String),
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::TooLarge(m) | ScanError::Unsupported(m) | ScanError::Corrupt(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ScanError {}

/// The media type of a PNG or JPEG file, from its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Decodes a PNG or JPEG file to grey levels, within `limits`. Never panics on corrupt input.
pub fn load(bytes: &[u8], limits: &Limits) -> Result<GrayImage, ScanError> {
    if bytes.len() > limits.max_bytes {
        return Err(ScanError::TooLarge(format!("the image is larger than {} bytes", limits.max_bytes)));
    }
    let format = match sniff(bytes) {
        Some("image/png") => ImageFormat::Png,
        Some(_) => ImageFormat::Jpeg,
        None => return Err(ScanError::Unsupported("the file is not a PNG or JPEG image".into())),
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    // Room for the decoded image in its widest form (16-bit RGBA) plus the grey copy.
    l.max_alloc = Some(limits.max_pixels.saturating_mul(9));
    reader.limits(l);
    let (w, h) = reader.into_dimensions().map_err(|e| classify(e, "the image header cannot be read"))?;
    if u64::from(w) * u64::from(h) > limits.max_pixels || w.max(h) > limits.max_side {
        return Err(ScanError::TooLarge(format!(
            "the image is {w}×{h} pixels; at most {} megapixels and {} pixels a side are accepted",
            limits.max_pixels / 1_000_000,
            limits.max_side
        )));
    }
    if w == 0 || h == 0 {
        return Err(ScanError::Corrupt("the image is empty".into()));
    }
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_pixels.saturating_mul(9));
    reader.limits(l);
    // A decoder bug must not take the caller down with it.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.decode()))
        .map_err(|_| ScanError::Corrupt("the image cannot be decoded".into()))?
        .map_err(|e| classify(e, "the image cannot be decoded"))?;
    Ok(decoded.into_luma8())
}

fn classify(e: image::ImageError, what: &str) -> ScanError {
    match e {
        image::ImageError::Limits(l) => ScanError::TooLarge(format!("the image is too large to decode: {l}")),
        image::ImageError::Unsupported(u) => ScanError::Unsupported(format!("{what}: {u}")),
        other => ScanError::Corrupt(format!("{what}: {other}")),
    }
}

/// Every barcode in a PNG or JPEG photo, in reading order of discovery, each (symbology, text)
/// once.
pub fn scan(bytes: &[u8], limits: &Limits) -> Result<Vec<Barcode>, ScanError> {
    let img = load(bytes, limits)?;
    Ok(decode_gray(&img))
}

/// Why a QR code could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrError(pub String);

impl std::fmt::Display for QrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QrError {}

/// Longest text [`qr_png`] encodes, in bytes.
pub const QR_MAX_TEXT: usize = 1024;

/// A QR code of `text` (UTF-8, error correction level M) as a greyscale PNG, `scale` pixels a
/// module (1 to 32) with the standard quiet zone of four modules.
pub fn qr_png(text: &str, scale: u32) -> Result<Vec<u8>, QrError> {
    use rxing::{BarcodeFormat, EncodeHints, MultiFormatWriter, Writer};
    if text.is_empty() || text.len() > QR_MAX_TEXT {
        return Err(QrError(format!("a QR code holds 1 to {QR_MAX_TEXT} bytes of text")));
    }
    if !(1..=32).contains(&scale) {
        return Err(QrError("the QR code scale is 1 to 32 pixels a module".into()));
    }
    let hints = EncodeHints {
        CharacterSet: Some("UTF-8".into()),
        ErrorCorrection: Some("M".into()),
        Margin: Some("4".into()),
        ..Default::default()
    };
    let m = MultiFormatWriter
        .encode_with_hints(text, &BarcodeFormat::QR_CODE, 0, 0, &hints)
        .map_err(|e| QrError(format!("the text cannot be put in a QR code: {e}")))?;
    let (w, h) = (m.width() * scale, m.height() * scale);
    let img = GrayImage::from_fn(w, h, |x, y| image::Luma([if m.get(x / scale, y / scale) { 0 } else { 255 }]));
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new(&mut out);
    image::ImageEncoder::write_image(enc, img.as_raw(), w, h, image::ExtendedColorType::L8)
        .map_err(|e| QrError(format!("the PNG cannot be written: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests;
