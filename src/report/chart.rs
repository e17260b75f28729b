//! `chart.png`: throughput, latency and server CPU over time in three stacked panels sharing one
//! time axis, the steady-state window shaded, the gate's baseline drawn over it when there is one,
//! drawn with an embedded font into memory.

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;

pub use super::chart_panels::BASELINE;
use super::chart_panels::{self as panels, TimeAxis};
use super::draw::{drawing, fit_text, no_data, png_of, text_style, MUTED, TEXT};
use super::headline::Headline;
pub use super::overlay::BaselineOverlay;
use super::timeline::Timeline;
use super::{human, Exporter};
use crate::client::TaskStatus;
use crate::results::RunResult;

/// Default size of `chart.png`, px.
pub const DEFAULT_SIZE: (u32, u32) = (1200, 900);

const TITLE_HEIGHT: u32 = 64;
/// Extra room in the title block for a load generator that is not ok.
const TROUBLE_HEIGHT: u32 = 22;
/// The colour of a problem.
const ALERT: RGBColor = RGBColor(190, 30, 45);

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
    let title = format!("{} · {}", h.status.as_str().to_uppercase(), h.plain());
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
    let mut troubled = r.tasks.iter().filter(|t| t.status != TaskStatus::Ok);
    let first = troubled.next()?;
    let more = troubled.count();
    let mut line = format!(
        "{}: {}: {}",
        one_line(&first.id),
        first.status.as_str(),
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
    for t in r
        .tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Ok)
        .take(4)
    {
        let reason: String = one_line(t.reason.as_deref().unwrap_or(""))
            .chars()
            .take(110)
            .collect();
        let id: String = one_line(&t.id).chars().take(40).collect();
        lines.push(format!("{id}: {} — {reason}", t.status.as_str()));
    }
    lines
}
