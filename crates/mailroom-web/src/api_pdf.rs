//! Printable documents for outbound mail: the address label and the CN22/CN23 customs form as
//! PDF. They read no organisation data: any signed-in user may make them from what they send.

use crate::AppState;
use crate::context::Caller;
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::{Route, route};
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailroom_app::AppError;
use mailroom_domain::{DomainError, ErrorCode};
use mailroom_pdf::{CustomsInput, Fonts, LabelInput, PdfError};
use std::sync::OnceLock;

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![route(M::POST, "/api/v1/pdf/label", pdf_label), route(M::POST, "/api/v1/pdf/customs", pdf_customs)]
}

/// The configured font, read once (a failure is not remembered: installing the font fixes the
/// next request).
fn fonts(s: &AppState) -> Result<Fonts, PdfError> {
    static SHARED: OnceLock<Fonts> = OnceLock::new();
    if let Some(p) = &s.pdf_font {
        return Fonts::search([p.as_path()]);
    }
    if let Some(f) = SHARED.get() {
        return Ok(f.clone());
    }
    let f = Fonts::from_env()?;
    Ok(SHARED.get_or_init(|| f).clone())
}

fn pdf_error(e: PdfError, rid: &str) -> ApiError {
    match e {
        PdfError::FontMissing(m) => ApiError::new(DomainError::new(ErrorCode::PdfFontMissing, m), rid),
        PdfError::Invalid { field, message } => crate::problem::bad_input(&field, message, rid),
        PdfError::Render(m) => ApiError::new(AppError::Internal(m), rid),
    }
}

/// Renders off the async runtime (shaping and font subsetting are CPU work).
pub(crate) async fn render<T: Send + 'static>(
    s: &AppState,
    rid: &str,
    f: impl FnOnce(&Fonts) -> Result<T, PdfError> + Send + 'static,
) -> ApiResult<T> {
    let fonts = fonts(s).map_err(|e| pdf_error(e, rid))?;
    tokio::task::spawn_blocking(move || f(&fonts))
        .await
        .map_err(|e| ApiError::new(AppError::Internal(format!("PDF rendering failed: {e}")), rid))?
        .map_err(|e| pdf_error(e, rid))
}

pub(crate) fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A file name from a reference: letters, digits and hyphens only.
fn file_name(prefix: &str, reference: Option<&str>) -> String {
    let r: String = reference.unwrap_or("").chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    if r.is_empty() { format!("{prefix}.pdf") } else { format!("{prefix}-{r}.pdf") }
}

/// The address label of an outbound item as PDF: one page of 100 × 150 mm with the sender, the
/// recipient's label lines in the destination's order and script and their Latin rendering, the
/// destination country in English and Chinese, the service and weight, and the reference as
/// Code 128 and QR code. The addresses take the shape of `POST /api/v1/addresses/check`; the
/// recipient must pass the destination's rules (422 `validation_failed` names what is wrong).
/// 503 `pdf_font_missing` when the server has no CJK font installed. Any signed-in user.
#[utoipa::path(post, path = "/api/v1/pdf/label", tag = "outbound",
    request_body = mailroom_pdf::LabelInput,
    responses((status = 200, content_type = "application/pdf", description = "The label"),
        (status = 422, body = Problem), (status = 401, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn pdf_label(State(s): State<AppState>, c: Caller, body: JsonBody<LabelInput>) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    let input = body.value;
    let name = file_name("label", Some(&input.reference));
    let pdf = render(&s, rid, move |f| mailroom_pdf::address_label(&input, f)).await?;
    Ok(pdf_response(pdf, &name))
}

/// The customs declaration of an outbound item as PDF: the declaration as `POST
/// /api/v1/customs/check` takes it, plus the form's other boxes (all optional). `form: auto`
/// (the default) prints the form the check decides — CN22 (one page of 100 × 150 mm) up to 300
/// SDR, CN23 (A4, continued on more pages for many lines) above or when certificates are
/// needed; `cn23` always prints a CN23; `cn22` is refused when a CN23 is needed. The response's
/// `Mailroom-Customs-Form` header says which form it is. A declaration that may not be accepted
/// for dispatch (prohibited goods, a missing certificate, an incomplete line) answers 422
/// `validation_failed`. 503 `pdf_font_missing` when the server has no CJK font installed.
/// Any signed-in user.
#[utoipa::path(post, path = "/api/v1/pdf/customs", tag = "outbound",
    request_body = mailroom_pdf::CustomsInput,
    responses((status = 200, content_type = "application/pdf", description = "The CN22 or CN23 form",
            headers(("Mailroom-Customs-Form" = String, description = "`cn22` or `cn23`"))),
        (status = 422, body = Problem), (status = 401, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn pdf_customs(
    State(s): State<AppState>,
    c: Caller,
    body: JsonBody<CustomsInput>,
) -> ApiResult<Response> {
    use mailroom_domain::customs::Form;
    let rid = &c.ctx.request_id;
    let input = body.value;
    let rates = s.sdr_rates.clone();
    let reference = input.reference.clone();
    let (form, pdf) = render(&s, rid, move |f| mailroom_pdf::customs_form(&input, &rates, f)).await?;
    let tag = if form == Form::Cn23 { "cn23" } else { "cn22" };
    let mut r = pdf_response(pdf, &file_name(tag, reference.as_deref()));
    r.headers_mut().insert("mailroom-customs-form", HeaderValue::from_static(tag));
    Ok(r)
}
