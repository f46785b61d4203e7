//! Printable PDFs for outbound mail: the address label (100 × 150 mm, with the reference as a
//! Code 128 barcode and a QR code), the UPU customs declarations CN22 and CN23, the dispatch
//! manifest handed to the carrier with a batch, and the monthly postage chargeback report.
//!
//! Pure CPU work, no network and no database; the only I/O is reading the font file. Text is
//! set in one CJK font found at run time ([`Fonts`]): `MAILROOM_PDF_FONT`, else the first of
//! [`FONT_CANDIDATES`] that exists. Only the glyphs a document uses are embedded (subset), so a
//! label is a few dozen kilobytes however large the font file is. Barcodes are drawn as vector
//! rectangles from the encoder's bit matrix, sharp at any printer resolution.
//!
//! Layout and language choices are described in `docs/PDF.md`.

mod chargeback;
mod customs;
mod draw;
mod label;
mod manifest;
mod table;

use mailroom_domain::address::CheckRequest;
use mailroom_domain::customs::Declaration;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use chargeback::chargeback_report;
pub use customs::{cn22, cn23, customs_form};
pub use label::address_label;
pub use manifest::{MAX_MANIFEST_LINES, manifest};

/// Fonts tried, in order, when `MAILROOM_PDF_FONT` is not set: the CJK fonts Debian and Ubuntu
/// packages install (`fonts-wqy-microhei`, `fonts-noto-cjk`, `fonts-wqy-zenhei`,
/// `fonts-droid-fallback`, `fonts-arphic-uming`).
pub const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
];

/// The environment variable naming the font file (TrueType/OpenType, or a collection: the first
/// face is used).
pub const FONT_ENV: &str = "MAILROOM_PDF_FONT";

/// Longest reference printed as a barcode, in characters.
pub const MAX_REFERENCE_CHARS: usize = 48;

/// Why a document could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfError {
    /// No usable font: the paths tried, and why each failed. A server configuration problem.
    FontMissing(String),
    /// The input cannot make a document (the field at fault, and why).
    Invalid { field: String, message: String },
    /// The PDF writer failed.
    Render(String),
}

impl PdfError {
    fn invalid(field: &str, message: impl Into<String>) -> PdfError {
        PdfError::Invalid { field: field.to_string(), message: message.into() }
    }
}

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PdfError::FontMissing(m) => f.write_str(m),
            PdfError::Invalid { field, message } => write!(f, "{field}: {message}"),
            PdfError::Render(m) => write!(f, "the PDF cannot be written: {m}"),
        }
    }
}

impl std::error::Error for PdfError {}

/// The font documents are set in.
#[derive(Clone)]
pub struct Fonts {
    font: krilla::text::Font,
    path: PathBuf,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts").field("path", &self.path).finish()
    }
}

impl Fonts {
    /// The font named by `MAILROOM_PDF_FONT`, or else the first of [`FONT_CANDIDATES`] that can
    /// be read. When the variable is set, only that file is tried.
    pub fn from_env() -> Result<Fonts, PdfError> {
        match std::env::var_os(FONT_ENV).filter(|v| !v.is_empty()) {
            Some(p) => Fonts::from_path(Path::new(&p)).map_err(|e| {
                PdfError::FontMissing(format!("{FONT_ENV}={}: {e}; install a CJK font (see docs/PDF.md)", p.display()))
            }),
            None => Fonts::search(FONT_CANDIDATES.iter().map(Path::new)),
        }
    }

    /// The first of `paths` that is a readable font.
    pub fn search<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<Fonts, PdfError> {
        let mut tried = Vec::new();
        for p in paths {
            match Fonts::from_path(p) {
                Ok(f) => return Ok(f),
                Err(e) => tried.push(format!("{} ({e})", p.display())),
            }
        }
        Err(PdfError::FontMissing(format!(
            "no CJK font for PDF documents: set {FONT_ENV} to a TrueType/OpenType font file, or install \
             fonts-wqy-microhei or fonts-noto-cjk; tried {}",
            tried.join(", ")
        )))
    }

    /// One font file (a collection's first face).
    pub fn from_path(path: &Path) -> Result<Fonts, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let font = krilla::text::Font::new(bytes.into(), 0).ok_or_else(|| "not a usable font file".to_string())?;
        Ok(Fonts { font, path: path.to_path_buf() })
    }

    /// Where the font was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// An address label (`mailroom pdf label`, `POST /api/v1/pdf/label`). The addresses take the
/// shape `mailroom address check` / `POST /api/v1/addresses/check` take: a country, and the
/// address as `text` or `fields`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PdfLabelRequest))]
pub struct LabelInput {
    /// The item's reference, printed and encoded as Code 128 and QR (1–48 printable ASCII
    /// characters).
    pub reference: String,
    /// The sender's address (the return address).
    #[cfg_attr(feature = "openapi", schema(value_type = mailroom_domain::address::CheckRequest))]
    pub sender: CheckRequest,
    /// The recipient's address: it must pass the destination country's rules.
    #[cfg_attr(feature = "openapi", schema(value_type = mailroom_domain::address::CheckRequest))]
    pub recipient: CheckRequest,
    /// The postal service (`EMS`, `Registered airmail`, `航空挂号`), printed as given.
    #[serde(default)]
    pub method: Option<String>,
    /// The item's weight in grams, printed in kilograms.
    #[serde(default)]
    pub weight_g: Option<u32>,
}

/// What to do with an item that cannot be delivered (CN23).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PdfNonDelivery))]
#[serde(rename_all = "snake_case")]
pub enum NonDelivery {
    /// Return to the sender.
    Return,
    /// Treat as abandoned.
    Abandon,
    /// Redirect to `redirect_to`.
    Redirect,
}

/// Which form to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PdfCustomsForm))]
#[serde(rename_all = "snake_case")]
pub enum FormChoice {
    /// The form the declaration check decides (CN22 up to 300 SDR, CN23 otherwise).
    Auto,
    /// CN22: refused when the check decides CN23.
    Cn22,
    /// CN23: always allowed.
    Cn23,
}

/// A customs form (`mailroom pdf customs`, `POST /api/v1/pdf/customs`): the declaration as
/// `mailroom customs check` / `POST /api/v1/customs/check` take it, plus what the printed form
/// shows besides the contents. Every extra field is optional; what is left out stays blank
/// on the form, to be filled in by hand.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PdfCustomsRequest))]
pub struct CustomsInput {
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub declaration: Declaration,
    /// `auto` (default), `cn22` or `cn23`.
    #[serde(default)]
    pub form: Option<FormChoice>,
    /// The item's reference, printed and encoded as Code 128.
    #[serde(default)]
    pub reference: Option<String>,
    /// Sender (CN23: printed in the "From" box), as for `POST /api/v1/addresses/check`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<mailroom_domain::address::CheckRequest>))]
    pub sender: Option<CheckRequest>,
    /// Addressee (CN23: printed in the "To" box).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<mailroom_domain::address::CheckRequest>))]
    pub addressee: Option<CheckRequest>,
    /// Gross weight of the item in grams (else the lines' net weight is printed).
    #[serde(default)]
    pub gross_weight_g: Option<u32>,
    /// CN23: postal charges/fees, as printed (`45.00 CNY`).
    #[serde(default)]
    pub postal_charges: Option<String>,
    /// CN23: the sender's customs reference (tax or VAT number, EORI …).
    #[serde(default)]
    pub sender_customs_reference: Option<String>,
    /// CN23: the importer's reference (tax code, VAT number) and contact (phone, e-mail).
    #[serde(default)]
    pub importer_reference: Option<String>,
    #[serde(default)]
    pub importer_contact: Option<String>,
    /// CN23: licence, certificate and invoice numbers (ticks their boxes).
    #[serde(default)]
    pub licence_numbers: Option<String>,
    #[serde(default)]
    pub certificate_numbers: Option<String>,
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// CN23: comments (goods subject to quarantine, sanitary or phytosanitary inspection …);
    /// the certificates the declaration needs are added.
    #[serde(default)]
    pub comments: Option<String>,
    /// CN23: office of origin and date of posting.
    #[serde(default)]
    pub office_of_origin: Option<String>,
    /// CN23: instructions in case of non-delivery.
    #[serde(default)]
    pub non_delivery: Option<NonDelivery>,
    /// CN23: where to redirect (with `non_delivery: redirect`).
    #[serde(default)]
    pub redirect_to: Option<String>,
    /// The date printed beside the signature (`2026-11-27`).
    #[serde(default)]
    pub date: Option<String>,
    /// The sender's name printed at the signature line (the signature itself is by hand).
    #[serde(default)]
    pub signatory: Option<String>,
}

/// The monthly postage chargeback report ([`chargeback_report`]): the departments with their
/// cost centres, amounts in fen.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChargebackInput {
    /// `zh-CN` or `en`: the language of the headings.
    pub lang: String,
    /// The organisation's name, printed at the top.
    pub organisation: String,
    /// `YYYY-MM`.
    pub month: String,
    /// When the report was printed, preformatted (`2026-12-01 09:00`).
    pub printed_at: String,
    pub departments: Vec<ChargebackDepartment>,
    /// The grand total in fen.
    pub total: i64,
}

/// One department of the chargeback report. Empty code and name: the cost centres that bill no
/// department.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChargebackDepartment {
    pub code: String,
    /// In any script, printed as given.
    pub name: String,
    /// Number of charges (the subtotal).
    pub charges: i64,
    /// The subtotal in fen.
    pub amount: i64,
    pub cost_centres: Vec<ChargebackLine>,
}

/// One cost centre's line of the chargeback report.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChargebackLine {
    pub code: String,
    pub name: String,
    pub charges: i64,
    /// In fen.
    pub amount: i64,
}

/// The dispatch manifest of a batch of outbound items ([`manifest`]).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PdfManifestRequest))]
pub struct ManifestInput {
    /// `zh-CN` or `en`: the language of the headings.
    pub lang: String,
    pub organisation: String,
    pub site: String,
    /// Printed and encoded as Code 128 (1–48 printable ASCII characters).
    pub batch_reference: String,
    /// The carrier's display name (`China Post`, `中国邮政`, `SF Express`).
    pub carrier: String,
    /// Preformatted (`2026-12-01 10:00`).
    pub collection_at: String,
    /// Preformatted.
    pub printed_at: String,
    pub lines: Vec<ManifestLine>,
}

/// One item of a dispatch manifest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PdfManifestLine))]
pub struct ManifestLine {
    pub reference: String,
    pub tracking_number: Option<String>,
    /// The recipient's name, in any script.
    pub recipient: String,
    /// City and country (`Tokyo, JP`, `上海市, CN`).
    pub destination: String,
    /// The postal service (`registered`).
    pub method: String,
    pub weight_g: u32,
    /// In fen.
    pub postage_fen: i64,
    /// `CN22` or `CN23`.
    pub customs_form: Option<String>,
}

/// Checks a reference for the barcodes: printable ASCII, 1 to [`MAX_REFERENCE_CHARS`].
fn check_reference(field: &str, r: &str) -> Result<String, PdfError> {
    let r = r.trim();
    if r.is_empty() {
        return Err(PdfError::invalid(field, "the reference is required"));
    }
    if r.chars().count() > MAX_REFERENCE_CHARS {
        return Err(PdfError::invalid(field, format!("the reference is longer than {MAX_REFERENCE_CHARS} characters")));
    }
    if !r.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(PdfError::invalid(
            field,
            "the reference must be printable ASCII (letters, digits, - / . and spaces)",
        ));
    }
    Ok(r.to_string())
}

#[cfg(test)]
mod tests;
