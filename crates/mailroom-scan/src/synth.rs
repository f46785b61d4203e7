//! Labelled images for tests and benchmarks: barcodes drawn onto a label, and the ways a phone
//! or webcam photo degrades them (rotation, blur, noise, dim light, perspective). Also the image
//! operations the decoder's passes use (halving, rotation).

use image::{GrayImage, Luma};
use rxing::{BarcodeFormat, EncodeHints, MultiFormatWriter, Writer};

/// The symbologies labels are drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Code128,
    Qr,
    DataMatrix,
    Pdf417,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Code128, Kind::Qr, Kind::DataMatrix, Kind::Pdf417];

    /// The name the decoder reports it under.
    pub fn name(self) -> &'static str {
        crate::passes::symbology_name(&self.format())
    }

    fn format(self) -> BarcodeFormat {
        match self {
            Kind::Code128 => BarcodeFormat::CODE_128,
            Kind::Qr => BarcodeFormat::QR_CODE,
            Kind::DataMatrix => BarcodeFormat::DATA_MATRIX,
            Kind::Pdf417 => BarcodeFormat::PDF_417,
        }
    }
}

const WHITE: Luma<u8> = Luma([255]);
const BLACK: Luma<u8> = Luma([0]);

/// One barcode, `module` pixels a module (linear codes: `module` wide, 40 modules tall), with a
/// quiet zone of 8 modules.
pub fn draw(kind: Kind, text: &str, module: u32) -> Result<GrayImage, String> {
    let module = module.max(1);
    let hints = EncodeHints {
        CharacterSet: Some("UTF-8".into()),
        DataMatrixCompact: Some(kind == Kind::DataMatrix),
        ..Default::default()
    };
    let m = MultiFormatWriter
        .encode_with_hints(text, &kind.format(), 0, 0, &hints)
        .map_err(|e| format!("cannot encode {text:?}: {e}"))?;
    let (mw, mh) = (m.width(), m.height());
    let (sx, sy, rows) = match kind {
        Kind::Code128 => (module, module * 40, 1),
        _ => (module, module, mh),
    };
    let quiet = 8 * module;
    let (w, h) = (mw * sx + 2 * quiet, rows * sy + 2 * quiet);
    let mut img = GrayImage::from_pixel(w, h, WHITE);
    for my in 0..rows {
        for mx in 0..mw {
            if !m.get(mx, my) {
                continue;
            }
            for y in 0..sy {
                for x in 0..sx {
                    img.put_pixel(quiet + mx * sx + x, quiet + my * sy + y, BLACK);
                }
            }
        }
    }
    Ok(img)
}

/// A label: the barcodes one under the other on white, with a printed border and some grey
/// "text" lines between them, as on a shipping label.
pub fn label(codes: &[(Kind, &str)], module: u32) -> Result<GrayImage, String> {
    let drawn: Vec<GrayImage> = codes.iter().map(|(k, t)| draw(*k, t, module)).collect::<Result<_, _>>()?;
    let pad = 6 * module.max(1);
    let text_h = 4 * module.max(1);
    let w = drawn.iter().map(|d| d.width()).max().unwrap_or(0) + 2 * pad;
    let h = drawn.iter().map(|d| d.height() + text_h + pad).sum::<u32>() + 2 * pad;
    let mut img = GrayImage::from_pixel(w, h, WHITE);
    for x in 0..w {
        for t in 0..2 {
            img.put_pixel(x, t, BLACK);
            img.put_pixel(x, h - 1 - t, BLACK);
        }
    }
    for y in 0..h {
        for t in 0..2 {
            img.put_pixel(t, y, BLACK);
            img.put_pixel(w - 1 - t, y, BLACK);
        }
    }
    let mut y = pad;
    for d in &drawn {
        // A line of "text": short dark dashes.
        for x in (pad..w.saturating_sub(pad)).step_by((3 * module.max(1)) as usize) {
            for dy in 0..text_h / 2 {
                for dx in 0..2 * module.max(1) {
                    if x + dx < w - pad {
                        img.put_pixel(x + dx, y + dy, Luma([70]));
                    }
                }
            }
        }
        y += text_h;
        image::imageops::replace(&mut img, d, i64::from(pad), i64::from(y));
        y += d.height() + pad;
    }
    Ok(img)
}

/// Adds a white margin of `m` pixels on every side.
pub fn margin(img: &GrayImage, m: u32) -> GrayImage {
    let mut out = GrayImage::from_pixel(img.width() + 2 * m, img.height() + 2 * m, WHITE);
    image::imageops::replace(&mut out, img, i64::from(m), i64::from(m));
    out
}

/// Half the size, each pixel the average of four.
pub fn halve(img: &GrayImage) -> GrayImage {
    let (w, h) = ((img.width() / 2).max(1), (img.height() / 2).max(1));
    let src = img.as_raw();
    let sw = img.width() as usize;
    let mut out = vec![0u8; (w * h) as usize];
    for y in 0..h as usize {
        for x in 0..w as usize {
            let (x2, y2) = ((2 * x).min(sw - 1), (2 * y).min(img.height() as usize - 1));
            let x3 = (x2 + 1).min(sw - 1);
            let y3 = (y2 + 1).min(img.height() as usize - 1);
            let s = u32::from(src[y2 * sw + x2])
                + u32::from(src[y2 * sw + x3])
                + u32::from(src[y3 * sw + x2])
                + u32::from(src[y3 * sw + x3]);
            out[y * w as usize + x] = (s / 4) as u8;
        }
    }
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| img.clone())
}

/// Bilinear sample at (x, y); white outside the image.
fn sample(src: &[u8], w: usize, h: usize, x: f32, y: f32) -> u8 {
    if x < -0.5 || y < -0.5 || x > w as f32 - 0.5 || y > h as f32 - 0.5 {
        return 255;
    }
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx: usize, yy: usize| f32::from(src[yy * w + xx]);
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
}

/// Turned by `degrees` (counter-clockwise) on a canvas large enough to hold it, white around.
pub fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (s, c) = degrees.to_radians().sin_cos();
    let nw = (w * c.abs() + h * s.abs()).ceil().max(1.0);
    let nh = (w * s.abs() + h * c.abs()).ceil().max(1.0);
    let (cx, cy, ncx, ncy) = (w / 2.0, h / 2.0, nw / 2.0, nh / 2.0);
    let src = img.as_raw();
    let (iw, ih) = (img.width() as usize, img.height() as usize);
    GrayImage::from_fn(nw as u32, nh as u32, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - ncx, y as f32 + 0.5 - ncy);
        // Inverse rotation (image y points down).
        let sx = c * dx - s * dy + cx - 0.5;
        let sy = s * dx + c * dy + cy - 0.5;
        Luma([sample(src, iw, ih, sx, sy)])
    })
}

/// Blurred: three box passes of `radius` pixels each way (close to a Gaussian of σ ≈ radius).
pub fn blur(img: &GrayImage, radius: u32) -> GrayImage {
    if radius == 0 {
        return img.clone();
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut a: Vec<f32> = img.as_raw().iter().map(|v| f32::from(*v)).collect();
    let mut b = vec![0f32; a.len()];
    let r = radius as isize;
    let n = (2 * r + 1) as f32;
    for _ in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0;
                for k in -r..=r {
                    let xx = (x as isize + k).clamp(0, w as isize - 1) as usize;
                    s += a[y * w + xx];
                }
                b[y * w + x] = s / n;
            }
        }
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0;
                for k in -r..=r {
                    let yy = (y as isize + k).clamp(0, h as isize - 1) as usize;
                    s += b[yy * w + x];
                }
                a[y * w + x] = s / n;
            }
        }
    }
    let data = a.iter().map(|v| v.round().clamp(0.0, 255.0) as u8).collect();
    GrayImage::from_raw(img.width(), img.height(), data).unwrap_or_else(|| img.clone())
}

/// A small deterministic generator (xorshift64*), so that degraded images are the same on
/// every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Roughly normal, mean 0 and deviation 1 (sum of uniforms).
    pub fn normal(&mut self) -> f32 {
        (0..6).map(|_| self.unit()).sum::<f32>() - 3.0
    }
}

/// Sensor noise: each pixel moved by a normal deviate of `sigma` grey levels.
pub fn noise(img: &GrayImage, sigma: f32, seed: u64) -> GrayImage {
    let mut rng = Rng::new(seed);
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0[0] = (f32::from(p.0[0]) + rng.normal() * sigma).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// Dim light: contrast squeezed to `contrast` (0–1) around a dark grey, and a shadow that
/// darkens one side.
pub fn dim(img: &GrayImage, contrast: f32) -> GrayImage {
    let w = img.width().max(1) as f32;
    let mut out = img.clone();
    for (x, _, p) in out.enumerate_pixels_mut() {
        let shade = 1.0 - 0.35 * (x as f32 / w);
        let v = (40.0 + f32::from(p.0[0]) * contrast * 0.6) * shade;
        p.0[0] = v.round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// Perspective: the label seen from below and to one side — its top edge `k` (0–0.5) shorter
/// than its bottom edge and shifted sideways.
pub fn perspective(img: &GrayImage, k: f32) -> GrayImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let src = img.as_raw();
    let (iw, ih) = (img.width() as usize, img.height() as usize);
    let k = k.clamp(0.0, 0.5);
    // Destination quad corners for source corners (0,0) (w,0) (w,h) (0,h).
    let tl = (w * k * 0.8, 0.0);
    let tr = (w * (1.0 - k * 0.2), h * k * 0.15);
    let br = (w, h);
    let bl = (0.0, h * (1.0 - k * 0.1));
    let Some(m) = homography([tl, tr, br, bl], [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]) else {
        return img.clone();
    };
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        let d = m[6] * fx + m[7] * fy + 1.0;
        if d.abs() < 1e-6 {
            return WHITE;
        }
        let sx = (m[0] * fx + m[1] * fy + m[2]) / d - 0.5;
        let sy = (m[3] * fx + m[4] * fy + m[5]) / d - 0.5;
        Luma([sample(src, iw, ih, sx, sy)])
    })
}

/// The projective map taking the four `from` points to the four `to` points (8 coefficients).
fn homography(from: [(f32, f32); 4], to: [(f32, f32); 4]) -> Option<[f32; 8]> {
    let mut a = [[0f64; 9]; 8];
    for i in 0..4 {
        let (x, y) = (f64::from(from[i].0), f64::from(from[i].1));
        let (u, v) = (f64::from(to[i].0), f64::from(to[i].1));
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gauss-Jordan elimination with partial pivoting.
    for col in 0..8 {
        let pivot = (col..8).max_by(|&r1, &r2| a[r1][col].abs().total_cmp(&a[r2][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let p = a[col][col];
        for v in a[col].iter_mut() {
            *v /= p;
        }
        for r in 0..8 {
            if r != col {
                let f = a[r][col];
                let row = a[col];
                for (v, pv) in a[r].iter_mut().zip(row.iter()) {
                    *v -= f * pv;
                }
            }
        }
    }
    let mut out = [0f32; 8];
    for (i, o) in out.iter_mut().enumerate() {
        *o = a[i][8] as f32;
    }
    Some(out)
}

/// The image as a PNG file.
pub fn png(img: &GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new(&mut out);
    let _ =
        image::ImageEncoder::write_image(enc, img.as_raw(), img.width(), img.height(), image::ExtendedColorType::L8);
    out
}

/// The image as a JPEG file of `quality` (1–100).
pub fn jpeg(img: &GrayImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100));
    let _ =
        image::ImageEncoder::write_image(enc, img.as_raw(), img.width(), img.height(), image::ExtendedColorType::L8);
    out
}

/// The degradations tests and benchmarks apply, by name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Degradation {
    Clean,
    /// Turned by this many degrees.
    Rotate(f32),
    /// Blurred with this radius in pixels.
    Blur(u32),
    /// Sensor noise of this deviation, in grey levels.
    Noise(f32),
    /// Contrast squeezed to this fraction, with a shadow.
    Dim(f32),
    /// Seen at an angle (0–0.5).
    Perspective(f32),
}

impl Degradation {
    pub fn apply(self, img: &GrayImage, seed: u64) -> GrayImage {
        match self {
            Degradation::Clean => img.clone(),
            Degradation::Rotate(d) => rotate(img, d),
            Degradation::Blur(r) => blur(img, r),
            Degradation::Noise(s) => noise(img, s, seed),
            Degradation::Dim(c) => dim(img, c),
            Degradation::Perspective(k) => perspective(img, k),
        }
    }
}
