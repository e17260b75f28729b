//! The charts' drawing helpers: the embedded font, the text colours and styles, a white
//! in-memory bitmap encoded as PNG, text cut to fit, and the "no data" panel. Shared by the run's
//! chart, its panels and the trend chart; no chart of its own.

use std::sync::OnceLock;

use anyhow::{anyhow, Context as _};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

/// DejaVu Sans (see `assets/fonts/README.md`): the action's container has no fonts at all.
const FONT_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family the font is registered as; plotters' own defaults ask for `sans-serif` too, so no
/// text can fall back to a font that is not there.
const FONT: &str = "sans-serif";

/// Text colour.
pub(crate) const TEXT: RGBColor = RGBColor(40, 40, 40);
/// Secondary text and lines.
pub(crate) const MUTED: RGBColor = RGBColor(110, 110, 110);
const FRAME: RGBColor = RGBColor(228, 228, 228);

fn ensure_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_TTF).is_ok());
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded chart font could not be loaded"))
    }
}

/// Map a plotters error (which is not `Send + Sync + 'static` in general) into anyhow.
pub(crate) fn drawing<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing the chart: {e}")
}

pub(crate) fn text_style(size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: (FONT, size).into_font(),
        color: color.to_backend_color(),
        pos: Pos::new(HPos::Left, VPos::Top),
    }
}

/// Draw into a white in-memory bitmap of `size` with the embedded font, and encode it as PNG.
pub(crate) fn png_of(
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<u8>> {
    ensure_font()?;
    let len = usize::try_from(u64::from(width) * u64::from(height) * 3)
        .context("chart size does not fit in memory")?;
    let mut rgb = vec![0u8; len];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        draw(&root)?;
        root.present().map_err(drawing)?;
    }
    encode_png(&rgb, width, height)
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().context("encoding the PNG")?;
    w.write_image_data(rgb).context("encoding the PNG")?;
    w.finish().context("encoding the PNG")?;
    Ok(out)
}

/// `text`, cut with `…` until it is at most `room` px wide in `style`.
pub(crate) fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle<'_>,
    room: u32,
) -> String {
    let fits = |t: &str| {
        area.estimate_text_size(t, style)
            .map_or(true, |(tw, _)| tw <= room)
    };
    let mut chars: Vec<char> = text.chars().collect();
    let mut shown = text.to_string();
    while !fits(&shown) && !chars.is_empty() {
        chars.truncate(chars.len() * 9 / 10);
        shown = chars.iter().collect::<String>() + "…";
    }
    shown
}

pub(crate) fn no_data<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[String],
) -> anyhow::Result<()> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (
        i32::try_from(w).unwrap_or(i32::MAX),
        i32::try_from(h).unwrap_or(i32::MAX),
    );
    area.draw(&Rectangle::new(
        [(12, 6), (w - 12, h - 6)],
        ShapeStyle::from(&FRAME).stroke_width(2),
    ))
    .map_err(drawing)?;
    let n = i32::try_from(lines.len()).unwrap_or(1);
    let line_h = 26;
    let top = h / 2 - (n - 1) * line_h / 2;
    for (i, line) in lines.iter().enumerate() {
        let (size, color) = if i == 0 { (18.0, TEXT) } else { (15.0, MUTED) };
        let style = text_style(size, color).pos(Pos::new(HPos::Center, VPos::Center));
        let y = top + i32::try_from(i).unwrap_or(0) * line_h;
        area.draw(&Text::new(line.clone(), (w / 2, y), style))
            .map_err(drawing)?;
    }
    Ok(())
}
