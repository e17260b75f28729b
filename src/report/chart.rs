//! `chart.png`: throughput, latency and server CPU over time in three stacked panels sharing one
//! time axis, the steady-state window shaded, the gate's baseline drawn over it when there is one,
//! drawn with an embedded font into memory.

use std::sync::OnceLock;

use anyhow::{anyhow, Context as _};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

pub use super::chart_panels::BASELINE;
use super::chart_panels::{self as panels, TimeAxis};
use super::headline::Headline;
use super::timeline::Timeline;
use super::{human, Exporter};
use crate::gate::{BaselineKind, Comparison, Metric};
use crate::results::RunResult;

/// DejaVu Sans (see `assets/fonts/README.md`): the action's container has no fonts at all.
const FONT_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family the font is registered as; plotters' own defaults ask for `sans-serif` too, so no
/// text can fall back to a font that is not there.
const FONT: &str = "sans-serif";

/// Default size of `chart.png`, px.
pub const DEFAULT_SIZE: (u32, u32) = (1200, 900);

const TITLE_HEIGHT: u32 = 64;
/// Extra room in the title block for a load generator that is not ok.
const TROUBLE_HEIGHT: u32 = 22;
/// The colour of a problem.
const ALERT: RGBColor = RGBColor(190, 30, 45);
/// Text colour.
pub(crate) const TEXT: RGBColor = RGBColor(40, 40, 40);
/// Secondary text and lines.
pub(crate) const MUTED: RGBColor = RGBColor(110, 110, 110);
const FRAME: RGBColor = RGBColor(228, 228, 228);

/// Renders `chart.png` at a given size.
#[derive(Clone, Copy, Debug)]
pub struct ChartExporter {
    /// Width and height, px.
    pub size: (u32, u32),
}

impl Default for ChartExporter {
    fn default() -> Self {
        Self { size: DEFAULT_SIZE }
    }
}

impl Exporter for ChartExporter {
    fn render(&self, r: &RunResult) -> anyhow::Result<Vec<u8>> {
        render_png(r, self.size)
    }
}

/// The gate's baseline, drawn over the current run: its steady-state throughput and p99 (the
/// median of the baseline runs, or the pinned run's), as the gate compared them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BaselineOverlay {
    /// What the baseline is, for the legend: `median of 10 runs`, `pinned run`.
    pub label: String,
    /// The baseline's steady-state throughput, ops/s.
    pub ops_per_sec: Option<f64>,
    /// The baseline's steady-state p99 latency, ms.
    pub p99_ms: Option<f64>,
}

impl BaselineOverlay {
    /// The baseline of a comparison, or `None` when nothing was compared (no usable run, or a
    /// profile mismatch).
    pub fn of(c: &Comparison) -> Option<Self> {
        if c.is_profile_mismatch() || c.baseline.kind == BaselineKind::Empty {
            return None;
        }
        let value = |metric: Metric| {
            c.metrics
                .iter()
                .find(|m| m.scope == "total" && m.metric == metric)
                .and_then(|m| m.baseline)
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        let o = Self {
            label: match c.baseline.kind {
                BaselineKind::MedianOfRuns => format!("median of {} runs", c.baseline.runs),
                _ => "pinned run".to_string(),
            },
            ops_per_sec: value(Metric::Throughput),
            p99_ms: value(Metric::LatencyP99),
        };
        (o.ops_per_sec.is_some() || o.p99_ms.is_some()).then_some(o)
    }
}

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

/// Render the chart of a run as PNG bytes.
pub fn render_png(r: &RunResult, size: (u32, u32)) -> anyhow::Result<Vec<u8>> {
    render_png_with_baseline(r, size, None)
}

/// Render the chart of a run as PNG bytes, with the gate's baseline drawn over it.
pub fn render_png_with_baseline(
    r: &RunResult,
    (width, height): (u32, u32),
    baseline: Option<&BaselineOverlay>,
) -> anyhow::Result<Vec<u8>> {
    if width < 200 || height < 200 {
        return Err(anyhow!(
            "chart size {width}×{height} px is too small; use at least 200×200"
        ));
    }
    png_of((width, height), |root| draw(root, r, baseline))
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

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &RunResult,
    baseline: Option<&BaselineOverlay>,
) -> anyhow::Result<()> {
    let (_, height) = root.dim_in_pixel();
    let title_h = TITLE_HEIGHT
        + if trouble_line(r).is_some() {
            TROUBLE_HEIGHT
        } else {
            0
        };
    let (title, body) = root.split_vertically(title_h);
    let tl = Timeline::of(r);
    draw_title(&title, r, &tl)?;
    let body_h = height.saturating_sub(title_h);
    let axis = TimeAxis::new(&tl);
    if !tl.has_client_data() {
        if tl.cpu.is_empty() {
            return no_data(&body, &failure_lines(r));
        }
        // The server was watched while the clients failed: what it saw may explain why.
        let (top, bottom) = body.split_vertically(body_h / 2);
        no_data(&top, &failure_lines(r))?;
        return panels::cpu(&bottom, &tl, &axis);
    }
    // Without server metrics the CPU panel shrinks to a one-line note.
    let cpu_h = if tl.cpu.is_empty() {
        56
    } else {
        body_h * 27 / 100
    };
    let top_h = body_h.saturating_sub(cpu_h) / 2;
    let panels = body.split_by_breakpoints([] as [u32; 0], [top_h, 2 * top_h]);
    let [ops, lat, cpu] = panels.as_slice() else {
        return Err(anyhow!("drawing the chart: unexpected panel layout"));
    };
    panels::throughput(ops, &tl, &axis, r, baseline)?;
    panels::latency(lat, &tl, &axis, r, tl.cpu.is_empty(), baseline)?;
    if tl.cpu.is_empty() {
        let why = if tl.has_server {
            "server metrics have no CPU samples"
        } else {
            "no server metrics in this run"
        };
        return no_data(cpu, &[why.to_string()]);
    }
    panels::cpu(cpu, &tl, &axis)
}

fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &RunResult,
    tl: &Timeline,
) -> anyhow::Result<()> {
    let h = Headline::of(r);
    let title = format!("{} · {}", h.status.to_uppercase(), h.plain());
    draw_fitted(area, &title, 10, &[22.0, 19.0, 16.0], TEXT)?;
    let mut sub = Vec::new();
    if let Some(g) = &r.run.load_generator {
        sub.push(g.clone());
    }
    if tl.has_client_data() || !tl.cpu.is_empty() {
        sub.push(format!("x = time since {}", utc(tl.origin_unix_s)));
    }
    let w = &r.steady_state.window;
    match tl.window {
        Some(_) if w.warmup_secs + w.rampdown_secs > 0 => sub.push(format!(
            "shaded: steady-state window, {} (warm-up {} s, ramp-down {} s dropped)",
            human::secs(w.duration_secs),
            w.warmup_secs,
            w.rampdown_secs
        )),
        Some(_) => sub.push(format!(
            "shaded: steady-state window, {} (too short to drop warm-up or ramp-down)",
            human::secs(w.duration_secs)
        )),
        None if tl.has_client_data() => {
            sub.push("no steady-state window: numbers cover the whole run".to_string());
        }
        None => {}
    }
    draw_fitted(area, &sub.join("  ·  "), 40, &[15.0, 13.0], MUTED)?;
    if let Some(line) = trouble_line(r) {
        draw_fitted(area, &line, 62, &[15.0, 13.0], ALERT)?;
    }
    Ok(())
}

/// The first load generator that is not ok, with its reason, for the title block.
fn trouble_line(r: &RunResult) -> Option<String> {
    let mut troubled = r.tasks.iter().filter(|t| t.status != "ok");
    let first = troubled.next()?;
    let more = troubled.count();
    let mut line = format!(
        "{}: {}: {}",
        one_line(&first.id),
        first.status,
        one_line(first.reason.as_deref().unwrap_or("no reason given"))
    );
    if more > 0 {
        line = format!("{line}  (+{more} more not ok)");
    }
    Some(line)
}

/// Untrusted text on one line (the font has no glyphs for control characters).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Draw one line of text at `y`, at the largest of `sizes` that fits the width, cut with `…` if
/// even the smallest does not.
fn draw_fitted<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    y: i32,
    sizes: &[f64],
    color: RGBColor,
) -> anyhow::Result<()> {
    let (w, _) = area.dim_in_pixel();
    let room = w.saturating_sub(32);
    let fits = |size: f64| {
        area.estimate_text_size(text, &text_style(size, color))
            .map_or(true, |(tw, _)| tw <= room)
    };
    let smallest = sizes.last().copied().unwrap_or(14.0);
    let size = sizes.iter().copied().find(|s| fits(*s)).unwrap_or(smallest);
    let style = text_style(size, color);
    let shown = fit_text(area, text, &style, room);
    area.draw(&Text::new(shown, (16, y), style))
        .map_err(drawing)?;
    Ok(())
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

/// `2026-11-25 20:01:15 UTC`.
fn utc(t: u64) -> String {
    let s = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(t),
    )
    .to_string();
    format!("{} UTC", s.trim_end_matches('Z').replacen('T', " ", 1))
}

fn failure_lines(r: &RunResult) -> Vec<String> {
    let mut lines = vec!["no data: no load generator produced per-second results".to_string()];
    for t in r.tasks.iter().filter(|t| t.status != "ok").take(4) {
        let reason: String = one_line(t.reason.as_deref().unwrap_or(""))
            .chars()
            .take(110)
            .collect();
        let id: String = one_line(&t.id).chars().take(40).collect();
        lines.push(format!("{id}: {} — {reason}", t.status));
    }
    lines
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

#[cfg(test)]
mod tests {
    use super::BaselineOverlay;
    use crate::gate::testing::steady;
    use crate::gate::{compare, Baseline, GateConfig};
    use crate::results::RunResult;

    fn run(ops: f64, p99: f64, id: &str) -> RunResult {
        let mut r = steady(ops, p99, 20, 0.01);
        r.run.id = Some(id.into());
        r
    }

    fn baseline(runs: Vec<RunResult>) -> Baseline {
        Baseline {
            source: "test".into(),
            runs,
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_overlay_is_the_baseline_the_gate_compared() {
        let runs = [(10_000.0, 1.0), (10_400.0, 1.2), (9_800.0, 1.1)]
            .iter()
            .enumerate()
            .map(|(i, (o, l))| run(*o, *l, &format!("b{i}")))
            .collect();
        let c = compare(
            &run(8_000.0, 2.0, "now"),
            &baseline(runs),
            &GateConfig::default(),
        );
        let o = BaselineOverlay::of(&c).expect("an overlay");
        assert_eq!(o.label, "median of 3 runs");
        let ops = o.ops_per_sec.unwrap();
        assert!((ops - 10_000.0).abs() < 10.0, "{ops}");
        let p99 = o.p99_ms.unwrap();
        assert!((p99 - 1.1).abs() < 0.02, "{p99}");

        let pinned = compare(
            &run(8_000.0, 2.0, "now"),
            &baseline(vec![run(10_000.0, 1.0, "b")]),
            &GateConfig::default(),
        );
        assert_eq!(BaselineOverlay::of(&pinned).unwrap().label, "pinned run");
    }

    #[test]
    fn nothing_compared_draws_no_overlay() {
        let mut other = run(10_000.0, 1.0, "b");
        other.run.task_count = 7;
        let c = compare(
            &run(8_000.0, 2.0, "now"),
            &baseline(vec![other]),
            &GateConfig::default(),
        );
        assert!(c.is_profile_mismatch());
        assert!(BaselineOverlay::of(&c).is_none());
        let empty = compare(
            &run(8_000.0, 2.0, "now"),
            &baseline(Vec::new()),
            &GateConfig::default(),
        );
        assert!(BaselineOverlay::of(&empty).is_none());
    }
}
