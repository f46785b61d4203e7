//! The decoding strategy: which images the decoder is shown, in which order.

use crate::Barcode;
use crate::synth::{blur, halve, rotate};
use image::GrayImage;
use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::{GenericMultipleBarcodeReader, MultipleBarcodeReader};
use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiUseMultiFormatReader};
use std::collections::HashSet;

/// Photos are brought down to this longest side first: label barcodes stay many pixels a module
/// wide, and a 12-megapixel photo decodes in a fraction of the time.
pub const WORKING_SIDE: u32 = 2000;
/// Rotated passes (linear codes at an angle) run on at most this longest side.
const ROTATED_SIDE: u32 = 1400;
/// Angles tried for linear codes; the decoder itself also tries each at +90°, so together they
/// cover every direction in 15° steps.
const ANGLES: [f32; 5] = [15.0, 30.0, 45.0, 60.0, 75.0];

/// Codes read along a line: found only when a scan line crosses every bar.
const LINEAR: &[BarcodeFormat] = &[
    BarcodeFormat::CODE_128,
    BarcodeFormat::CODE_39,
    BarcodeFormat::CODE_93,
    BarcodeFormat::CODABAR,
    BarcodeFormat::ITF,
    // No product codes (EAN/UPC): never a tracking number, and their guard patterns are found
    // inside other linear codes and in noise often enough to hide the label's real code.
    // Stacked: its start and stop patterns are found along rows too.
    BarcodeFormat::PDF_417,
];
/// Codes found in any orientation.
const MATRIX: &[BarcodeFormat] = &[BarcodeFormat::QR_CODE, BarcodeFormat::DATA_MATRIX];

/// The name a symbology is reported under.
pub fn symbology_name(f: &BarcodeFormat) -> &'static str {
    match f {
        BarcodeFormat::CODE_128 => "code128",
        BarcodeFormat::CODE_39 => "code39",
        BarcodeFormat::CODE_93 => "code93",
        BarcodeFormat::CODABAR => "codabar",
        BarcodeFormat::ITF => "itf",
        BarcodeFormat::EAN_13 => "ean13",
        BarcodeFormat::EAN_8 => "ean8",
        BarcodeFormat::UPC_A => "upca",
        BarcodeFormat::UPC_E => "upce",
        BarcodeFormat::PDF_417 => "pdf417",
        BarcodeFormat::QR_CODE => "qrcode",
        BarcodeFormat::DATA_MATRIX => "datamatrix",
        BarcodeFormat::AZTEC => "aztec",
        BarcodeFormat::MAXICODE => "maxicode",
        BarcodeFormat::RSS_14 => "rss14",
        BarcodeFormat::RSS_EXPANDED => "rss_expanded",
        _ => "other",
    }
}

#[derive(Clone, Copy)]
enum Binarizer {
    /// Local thresholds: uneven light, shadows.
    Hybrid,
    /// One threshold per row: blurred and low-contrast photos.
    Global,
}

/// One decoder run over one image; a decoder failure (or panic) is "nothing found".
fn run(img: &GrayImage, bin: Binarizer, formats: &[BarcodeFormat]) -> Vec<Barcode> {
    let (w, h) = img.dimensions();
    if w < 8 || h < 8 {
        return Vec::new();
    }
    let hints = DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some(formats.iter().copied().collect::<HashSet<_>>()),
        ..Default::default()
    };
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let source = Luma8LuminanceSource::new(img.as_raw().clone(), w, h).ok()?;
        let mut reader = GenericMultipleBarcodeReader::new(MultiUseMultiFormatReader::default());
        let results = match bin {
            Binarizer::Hybrid => {
                reader.decode_multiple_with_hints(&mut BinaryBitmap::new(HybridBinarizer::new(source)), &hints)
            }
            Binarizer::Global => {
                reader.decode_multiple_with_hints(&mut BinaryBitmap::new(GlobalHistogramBinarizer::new(source)), &hints)
            }
        };
        results.ok()
    }));
    match attempt {
        Ok(Some(results)) => results
            .iter()
            .filter(|r| !r.getText().is_empty())
            .map(|r| Barcode { symbology: symbology_name(r.getBarcodeFormat()), text: repair_utf8(r.getText()) })
            .collect(),
        _ => Vec::new(),
    }
}

/// Many label printers write UTF-8 without announcing it (no ECI), and the decoder then reads the
/// bytes as ISO-8859-1 (`财` becomes `è´¢`). Text whose characters are all bytes that form valid
/// UTF-8 with at least one multi-byte character is read as UTF-8.
pub(crate) fn repair_utf8(text: &str) -> String {
    if text.is_ascii() || text.chars().any(|c| u32::from(c) > 0xff) {
        return text.to_string();
    }
    let bytes: Vec<u8> = text.chars().map(|c| u32::from(c) as u8).collect();
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => text.to_string(),
    }
}

#[derive(Default)]
struct Found(Vec<Barcode>);

impl Found {
    fn add(&mut self, more: Vec<Barcode>) {
        for b in more {
            if !self.0.contains(&b) {
                self.0.push(b);
            }
        }
    }
    fn has_linear(&self) -> bool {
        self.0.iter().any(|b| LINEAR.iter().any(|f| symbology_name(f) == b.symbology))
    }
}

/// Scales an image down (by whole-pixel averaging) until its longest side is at most `side`.
pub(crate) fn fit(img: &GrayImage, side: u32) -> GrayImage {
    let mut out = img.clone();
    while out.width().max(out.height()) > side {
        out = halve(&out);
    }
    out
}

/// Every barcode in a grey image.
///
/// 1. the photo at working resolution, local thresholds (most photos end here);
/// 2. if nothing was found: one global threshold (blur, low contrast);
/// 3. if still nothing: the photo at half size, then smoothed at full size (blur and sensor noise
///    average out);
/// 4. if no linear code was found: the photo turned by 15°–75°, until a linear code is found —
///    for linear codes only when a matrix code was found (those are found at any angle already),
///    for every symbology when nothing was.
pub fn decode_gray(img: &GrayImage) -> Vec<Barcode> {
    let work = fit(img, WORKING_SIDE);
    let all: Vec<BarcodeFormat> = LINEAR.iter().chain(MATRIX).copied().collect();
    let mut found = Found::default();
    found.add(run(&work, Binarizer::Hybrid, &all));
    if found.0.is_empty() {
        found.add(run(&work, Binarizer::Global, &all));
    }
    if found.0.is_empty() && work.width().min(work.height()) >= 400 {
        found.add(run(&halve(&work), Binarizer::Hybrid, &all));
    }
    if found.0.is_empty() {
        found.add(run(&blur(&work, 1), Binarizer::Hybrid, &all));
    }
    if !found.has_linear() {
        let small = fit(&work, ROTATED_SIDE);
        let formats: &[BarcodeFormat] = if found.0.is_empty() { &all } else { LINEAR };
        for angle in ANGLES {
            found.add(run(&rotate(&small, angle), Binarizer::Hybrid, formats));
            if found.has_linear() {
                break;
            }
        }
    }
    found.0
}
