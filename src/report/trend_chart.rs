//! `trend.png`: the gate's trend — throughput and p99 of the last N runs, the current one last and
//! marked, each change point a vertical line with its step, each stretch between change points its
//! mean. Pure: PNG bytes from a [`Trend`], no I/O.

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart_panels::dashed;
use super::draw::{drawing, fit_text, png_of, text_style, MUTED, TEXT};
use super::human;
use crate::gate::trend::{ChangePoint, Trend, TrendPoint};
use crate::gate::Comparison;

/// Default size of `trend.png`, px.
pub const DEFAULT_SIZE: (u32, u32) = (1200, 760);

const TITLE_HEIGHT: u32 = 70;
const GRID: RGBColor = RGBColor(228, 228, 228);
/// Runs of the history.
const RUNS: RGBColor = RGBColor(31, 119, 180);
/// The current run.
const CURRENT: RGBColor = RGBColor(214, 39, 40);
/// Change points.
const CHANGE: RGBColor = RGBColor(255, 127, 14);

/// One panel's metric.
struct Panel {
    caption: &'static str,
    /// The metric's name in [`ChangePoint::metric`].
    metric: &'static str,
    value: fn(&TrendPoint) -> Option<f64>,
    label: fn(f64) -> String,
}

const PANELS: [Panel; 2] = [
    Panel {
        caption: "throughput per run, ops/s (steady state)",
        metric: "throughput",
        value: |p| p.ops_per_sec,
        label: |v| human::count(Some(v)),
    },
    Panel {
        caption: "p99 latency per run, ms (steady state)",
        metric: "p99",
        value: |p| p.p99_ms,
        label: |v| human::ms(Some(v)),
    },
];

/// `trend.png` of a comparison at the default size, titled with its profile; `None` when it has
/// no trend (a baseline of one run).
pub fn of_comparison(c: &Comparison) -> Option<anyhow::Result<Vec<u8>>> {
    let t = c.trend.as_ref().filter(|t| t.runs.len() >= 2)?;
    Some(render_png(t, &c.profile.describe(), DEFAULT_SIZE))
}

/// Render the trend as PNG bytes; `title` names what it is the trend of (the profile).
pub fn render_png(t: &Trend, title: &str, (width, height): (u32, u32)) -> anyhow::Result<Vec<u8>> {
    if width < 400 || height < 300 {
        return Err(anyhow!(
            "trend chart size {width}×{height} px is too small; use at least 400×300"
        ));
    }
    if t.runs.len() < 2 {
        return Err(anyhow!(
            "a trend needs at least 2 runs, this one has {}",
            t.runs.len()
        ));
    }
    png_of((width, height), |root| {
        let (head, body) = root.split_vertically(TITLE_HEIGHT);
        draw_title(&head, t, title)?;
        let (_, body_h) = body.dim_in_pixel();
        let (top, bottom) = body.split_vertically(body_h / 2);
        panel(&top, t, &PANELS[0], false)?;
        panel(&bottom, t, &PANELS[1], true)
    })
}

fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &Trend,
    title: &str,
) -> anyhow::Result<()> {
    let (w, _) = area.dim_in_pixel();
    let room = w.saturating_sub(32);
    let head = format!(
        "Trend of the last {} runs (this one last) · {title}",
        t.runs.len()
    );
    let style = text_style(20.0, TEXT);
    area.draw(&Text::new(
        fit_text(area, &head, &style, room),
        (16, 10),
        style,
    ))
    .map_err(drawing)?;
    let sub = if t.change_points.is_empty() {
        "blue: earlier runs · red: this run · no change point (binary segmentation, docs/gate.md)"
            .to_string()
    } else {
        format!(
            "blue: earlier runs · red: this run · orange: {} change point{} · grey: mean between them",
            t.change_points.len(),
            if t.change_points.len() == 1 { "" } else { "s" }
        )
    };
    let style = text_style(14.0, MUTED);
    area.draw(&Text::new(
        fit_text(area, &sub, &style, room),
        (16, 42),
        style,
    ))
    .map_err(drawing)?;
    Ok(())
}

/// Indices (into the runs) where the panel's metric steps.
fn steps(t: &Trend, metric: &str) -> Vec<usize> {
    let mut v: Vec<usize> = t
        .change_points
        .iter()
        .filter(|c| c.metric == metric)
        .map(|c| c.index)
        .filter(|i| *i > 0 && *i < t.runs.len())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Geometric mean of the known values in `[a, b)`.
fn stretch_mean(points: &[Option<f64>], a: usize, b: usize) -> Option<f64> {
    let logs: Vec<f64> = points[a..b]
        .iter()
        .flatten()
        .filter(|v| **v > 0.0)
        .map(|v| v.ln())
        .collect();
    (!logs.is_empty()).then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &Trend,
    p: &Panel,
    bottom: bool,
) -> anyhow::Result<()> {
    let values: Vec<Option<f64>> = t
        .runs
        .iter()
        .map(|r| (p.value)(r).filter(|v| v.is_finite() && *v > 0.0))
        .collect();
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let n = values.len();
    if known.is_empty() {
        let style = text_style(16.0, MUTED).pos(Pos::new(HPos::Left, VPos::Top));
        return area
            .draw(&Text::new(
                format!("{}: no values in these runs", p.caption),
                (16, 16),
                style,
            ))
            .map_err(drawing);
    }
    let (lo, hi) = known.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    // A tight range, so that a 5 % step is visible; the labels say where it starts.
    let pad = ((hi - lo) * 0.15).max(hi * 0.05);
    let (y0, y1) = ((lo - pad).max(0.0), hi + pad);
    let x_max = n as f64 + 0.5;
    let mut chart = ChartBuilder::on(area)
        .caption(p.caption, text_style(16.0, TEXT))
        .margin(12)
        .x_label_area_size(if bottom { 44 } else { 26 })
        .y_label_area_size(78)
        .build_cartesian_2d(0.5..x_max, y0..y1)
        .map_err(drawing)?;
    let every = n.div_ceil(20).max(1);
    chart
        .configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .label_style(text_style(13.0, TEXT))
        .axis_desc_style(text_style(14.0, TEXT))
        .x_desc(if bottom { "run, oldest first" } else { "" })
        .x_labels(n.min(20) + 1)
        .x_label_formatter(&|x| {
            let r = x.round();
            let k = (r - 1.0) / every as f64;
            if (x - r).abs() < 1e-6 && r >= 1.0 && (k - k.round()).abs() < 1e-6 {
                format!("{r:.0}")
            } else {
                String::new()
            }
        })
        .y_labels(6)
        .y_label_formatter(&|v| (p.label)(*v))
        .draw()
        .map_err(drawing)?;

    // Means of the stretches between change points.
    let cuts = steps(t, p.metric);
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(cuts.iter().copied())
        .chain(std::iter::once(n))
        .collect();
    for w in bounds.windows(2) {
        if let Some(m) = stretch_mean(&values, w[0], w[1]) {
            let (a, b) = (w[0] as f64 + 0.6, w[1] as f64 + 0.4);
            chart
                .draw_series(LineSeries::new(
                    [(a, m), (b, m)],
                    ShapeStyle::from(&MUTED).stroke_width(2),
                ))
                .map_err(drawing)?;
        }
    }
    // Change points: a vertical line before the first run after the step, with the step.
    for cp in t.change_points.iter().filter(|c| c.metric == p.metric) {
        draw_change(&mut chart, cp, (y0, y1))?;
    }
    // The runs, as a line through the known values, the current one last and red.
    let pts: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    let at = |i: usize| i as f64 + 1.0;
    chart
        .draw_series(LineSeries::new(
            pts.iter().map(|(i, v)| (at(*i), *v)),
            ShapeStyle::from(&RUNS).stroke_width(2),
        ))
        .map_err(drawing)?;
    chart
        .draw_series(
            pts.iter()
                .filter(|(i, _)| i + 1 < n)
                .map(|(i, v)| Circle::new((at(*i), *v), 4, RUNS.filled())),
        )
        .map_err(drawing)?;
    if let Some(v) = values[n - 1] {
        chart
            .draw_series(std::iter::once(Circle::new(
                (n as f64, v),
                7,
                CURRENT.filled(),
            )))
            .map_err(drawing)?;
    }
    Ok(())
}

fn draw_change<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    cp: &ChangePoint,
    (y0, y1): (f64, f64),
) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let x = cp.index as f64 + 0.5;
    dashed(
        chart,
        [(x, y0), (x, y1)],
        (8, 5),
        ShapeStyle::from(&CHANGE).stroke_width(2),
    )?;
    let style = text_style(14.0, CHANGE);
    chart
        .draw_series(std::iter::once(Text::new(
            format!(" {:+.1} %", cp.change_pct),
            (x, y1),
            style,
        )))
        .map_err(drawing)?;
    Ok(())
}
