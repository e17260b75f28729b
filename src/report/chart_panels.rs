//! The three panels of `chart.png` (throughput, latency, server CPU) on one time axis, each with
//! its legend in a column to the right so that no legend ever hides data.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{label_ms, LogAxis, TickedAxis};
use super::draw::{drawing, fit_text, no_data, text_style, MUTED, TEXT};
use super::human;
use super::overlay::BaselineOverlay;
use super::timeline::{Line, Timeline};
use crate::results::RunResult;

/// Width of the legend column, px.
pub(super) const LEGEND_WIDTH: u32 = 250;
const GRID: RGBColor = RGBColor(228, 228, 228);
const WINDOW_FILL: RGBColor = RGBColor(255, 204, 77);
const WINDOW_ALPHA: f64 = 0.25;
/// Tableau 10: distinguishable, and readable by most colour-blind people.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// The gate's baseline: dark magenta, a colour nothing else in the chart uses.
pub const BASELINE: RGBColor = RGBColor(170, 0, 120);
/// The server's ops/s line is drawn only while it stays within this factor of the clients' peak.
const SERVER_OPS_SCALE_LIMIT: f64 = 1.5;
/// Runs this short get a dot on every point, so that single seconds stay visible.
const DOTS_UP_TO_POINTS: usize = 30;

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
enum Mark {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    /// A thick dashed line: the baseline.
    Baseline,
    Fill,
    /// No mark: a line of explanation.
    Note,
}

/// The legend of one panel.
#[derive(Default, Clone)]
struct Legend {
    entries: Vec<(Mark, String)>,
    /// Lines drawn without an entry, or not drawn at all, to count in the "+N more" line.
    hidden: usize,
}

impl Legend {
    fn push(&mut self, mark: Mark, label: impl Into<String>) {
        self.entries.push((mark, label.into()));
    }

    /// Draw the entries that fit the column; the last one that fits says how many did not.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let (w, h) = area.dim_in_pixel();
        let fitting = usize::try_from(h.saturating_sub(44) / 24)
            .unwrap_or(0)
            .max(1);
        let mut entries: Vec<(Mark, String)> = self.entries.clone();
        if entries.len() > fitting || self.hidden > 0 {
            let keep = entries.len().min(fitting - 1);
            let hidden = entries.len() - keep + self.hidden;
            entries.truncate(keep);
            entries.push((Mark::Note, format!("+{hidden} more: see the CSV")));
        }
        let mut y = 44;
        for (mark, label) in &entries {
            match *mark {
                Mark::Line(c, w) => area.draw(&PathElement::new(
                    vec![(8, y), (34, y)],
                    ShapeStyle::from(&c).stroke_width(w),
                )),
                Mark::Dashed(c) => {
                    let style = ShapeStyle::from(&c).stroke_width(1);
                    area.draw(&PathElement::new(vec![(8, y), (16, y)], style))
                        .and_then(|()| area.draw(&PathElement::new(vec![(22, y), (34, y)], style)))
                }
                Mark::Baseline => {
                    let style = line_style(BASELINE, 3);
                    area.draw(&PathElement::new(vec![(8, y), (18, y)], style))
                        .and_then(|()| area.draw(&PathElement::new(vec![(24, y), (34, y)], style)))
                }
                Mark::Fill => area.draw(&Rectangle::new(
                    [(8, y - 7), (34, y + 7)],
                    WINDOW_FILL.mix(WINDOW_ALPHA * 1.6).filled(),
                )),
                Mark::Note => Ok(()),
            }
            .map_err(drawing)?;
            let (x, color, step) = match mark {
                Mark::Note => (8, MUTED, 19),
                _ => (42, TEXT, 24),
            };
            let style = text_style(14.0, color);
            let room = w.saturating_sub(u32::try_from(x).unwrap_or(0) + 6);
            let text = fit_text(area, label, &style, room);
            area.draw(&Text::new(text, (x, y - 8), style))
                .map_err(drawing)?;
            y += step;
        }
        Ok(())
    }
}

/// Seconds, or minutes for long runs, so that tick labels stay short.
pub(super) struct TimeAxis {
    x_max: f64,
    divisor: f64,
    unit: &'static str,
}

impl TimeAxis {
    /// The axis for a timeline.
    pub(super) fn new(tl: &Timeline) -> Self {
        let x_max = tl.x_max.max(1.0);
        let (divisor, unit) = if x_max > 900.0 {
            (60.0, "min")
        } else {
            (1.0, "s")
        };
        Self {
            x_max,
            divisor,
            unit,
        }
    }

    fn label(&self, x: f64) -> String {
        let v = x / self.divisor;
        if (v - v.round()).abs() < 1e-9 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    }

    fn desc(&self) -> String {
        format!("time since start ({})", self.unit)
    }

    /// Ticks at whole steps of the display unit (1, 2, 5, 10, 15, 30 … s or min), at most 16.
    fn ticks(&self) -> Vec<f64> {
        let span = self.x_max / self.divisor;
        let step = [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0]
            .into_iter()
            .find(|s| span / s <= 16.0)
            .unwrap_or_else(|| (span / 16.0).ceil());
        let mut out = Vec::new();
        let mut v = 0.0;
        while v <= span + 1e-9 {
            out.push(v * self.divisor);
            v += step;
        }
        out
    }

    /// The x coordinate of every panel.
    fn coord(&self) -> TickedAxis {
        TickedAxis::new(0.0, self.x_max, self.ticks())
    }
}

fn line_style(color: RGBColor, width: u32) -> ShapeStyle {
    ShapeStyle::from(&color).stroke_width(width)
}

/// Split a panel into the plot and the legend column.
fn split<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let (w, _) = area.dim_in_pixel();
    area.split_horizontally(w.saturating_sub(LEGEND_WIDTH))
}

/// Draw a line's segments; short runs and isolated points get dots.
fn draw_line<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    line: &Line,
    style: ShapeStyle,
) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let few = line.points().count() <= DOTS_UP_TO_POINTS;
    for seg in &line.segments {
        let dots = if few || seg.len() < 2 { 3 } else { 0 };
        chart
            .draw_series(LineSeries::new(seg.iter().copied(), style).point_size(dots))
            .map_err(drawing)?;
    }
    Ok(())
}

/// A thin dashed reference line.
fn draw_dashed<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    from: (f64, f64),
    to: (f64, f64),
    color: RGBColor,
) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    dashed(chart, [from, to], (8, 5), line_style(color, 1))
}

/// A dashed line from `ends[0]` to `ends[1]`, `(dash, gap)` px long.
pub(super) fn dashed<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    ends: [(f64, f64); 2],
    (dash, gap): (u32, u32),
    style: ShapeStyle,
) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    chart
        .draw_series(DashedLineSeries::new(ends, dash, gap, style))
        .map_err(drawing)?;
    Ok(())
}

/// The baseline level across the steady-state window (the whole run without one), thick and
/// dashed, with its legend entry and what it is.
fn draw_baseline<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    legend: &mut Legend,
    tl: &Timeline,
    axis: &TimeAxis,
    (level, text): (f64, String),
    what: &str,
) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let (a, b) = tl.window.unwrap_or((0.0, axis.x_max));
    dashed(
        chart,
        [(a, level), (b, level)],
        (12, 6),
        line_style(BASELINE, 3),
    )?;
    legend.push(Mark::Baseline, text);
    legend.push(Mark::Note, format!("baseline: {what}"));
    Ok(())
}

fn shade_window<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    tl: &Timeline,
    (lo, hi): (f64, f64),
) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    if let Some((a, b)) = tl.window {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, lo), (b, hi)],
                WINDOW_FILL.mix(WINDOW_ALPHA).filled(),
            )))
            .map_err(drawing)?;
    }
    Ok(())
}

fn max_y<'a>(lines: impl Iterator<Item = &'a Line>) -> f64 {
    lines
        .flat_map(Line::points)
        .map(|(_, y)| y)
        .fold(0.0, f64::max)
}

/// Throughput: total and per-command ops/s, the server's count, the steady-state mean.
pub(super) fn throughput<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tl: &Timeline,
    axis: &TimeAxis,
    r: &RunResult,
    baseline: Option<&BaselineOverlay>,
) -> anyhow::Result<()> {
    let (plot, legend_area) = split(area);
    let base_ops = baseline.and_then(|b| b.ops_per_sec);
    let client_top = max_y(tl.throughput.iter())
        .max(base_ops.unwrap_or(0.0))
        .max(1.0);
    let server_top = max_y(std::iter::once(&tl.server_ops));
    // A server count far above the clients' (replicas counting the replication stream, or the
    // sum over many nodes) would flatten the client lines: leave it to the CSV then.
    let server_fits = server_top <= client_top * SERVER_OPS_SCALE_LIMIT;
    let top = client_top.max(if server_fits { server_top } else { 0.0 }) * 1.12;
    let mut chart = ChartBuilder::on(&plot)
        .caption("throughput, ops/s", text_style(17.0, TEXT))
        .margin(10)
        .x_label_area_size(26)
        .y_label_area_size(72)
        .build_cartesian_2d(axis.coord(), 0.0..top)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .label_style(text_style(13.0, TEXT))
        .y_labels(6)
        .x_label_formatter(&|x| axis.label(*x))
        .y_label_formatter(&|y| human::count(Some(*y)))
        .draw()
        .map_err(drawing)?;
    let mut legend = Legend::default();
    shade_window(&mut chart, tl, (0.0, top))?;
    if tl.window.is_some() {
        legend.push(Mark::Fill, "steady-state window");
    }
    for (i, line) in tl.throughput.iter().enumerate().rev() {
        let (color, width) = (PALETTE[i % PALETTE.len()], if i == 0 { 3 } else { 2 });
        draw_line(&mut chart, line, line_style(color, width))?;
    }
    for (i, line) in tl.throughput.iter().enumerate() {
        let (color, width) = (PALETTE[i % PALETTE.len()], if i == 0 { 3 } else { 2 });
        legend.push(Mark::Line(color, width), line.label.clone());
    }
    if !tl.server_ops.is_empty() && server_fits {
        draw_line(&mut chart, &tl.server_ops, line_style(MUTED, 1))?;
        legend.push(Mark::Line(MUTED, 1), "ops/s seen by the server");
    } else if !tl.server_ops.is_empty() {
        legend.push(
            Mark::Note,
            format!(
                "server ops/s up to {}: off scale",
                human::rate(Some(server_top))
            ),
        );
    }
    if let (Some((a, b)), Some(ops)) = (tl.window, r.steady_state.total.ops_per_sec) {
        draw_dashed(&mut chart, (a, ops), (b, ops), TEXT)?;
        legend.push(
            Mark::Dashed(TEXT),
            format!("steady-state mean {}", human::rate(Some(ops))),
        );
    }
    if let (Some(b), Some(ops)) = (baseline, base_ops) {
        let text = format!("baseline {}", human::rate(Some(ops)));
        draw_baseline(&mut chart, &mut legend, tl, axis, (ops, text), &b.label)?;
    }
    legend.draw(&legend_area)
}

/// Latency per second on a log axis: exact mean and max, exact percentiles when there are any,
/// and the run's p99 as a reference level.
pub(super) fn latency<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tl: &Timeline,
    axis: &TimeAxis,
    r: &RunResult,
    bottom: bool,
    baseline: Option<&BaselineOverlay>,
) -> anyhow::Result<()> {
    let (plot, legend_area) = split(area);
    let caption = if tl.has_percentiles {
        "latency per second, ms, log scale (all exact)"
    } else {
        "latency per second, ms, log scale (mean and max: exact)"
    };
    let p99 = r.steady_state.total.latency_ms.p99;
    let base_p99 = baseline.and_then(|b| b.p99_ms);
    let ys = tl
        .latency
        .iter()
        .flat_map(Line::points)
        .map(|(_, y)| y)
        .chain(p99)
        .chain(base_p99)
        .filter(|y| *y > 0.0);
    let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    if !lo.is_finite() {
        return no_data(area, &["no per-second latency in this run".to_string()]);
    }
    let y = LogAxis::around(lo, hi.max(lo * 4.0));
    let range = plotters::coord::ranged1d::Ranged::range(&y);
    let mut chart = ChartBuilder::on(&plot)
        .caption(caption, text_style(17.0, TEXT))
        .margin(10)
        .x_label_area_size(if bottom { 44 } else { 26 })
        .y_label_area_size(72)
        .build_cartesian_2d(axis.coord(), y)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .label_style(text_style(13.0, TEXT))
        .axis_desc_style(text_style(14.0, TEXT))
        .x_desc(if bottom { axis.desc() } else { String::new() })
        .y_labels(10)
        .x_label_formatter(&|x| axis.label(*x))
        .y_label_formatter(&|v| label_ms(*v))
        .draw()
        .map_err(drawing)?;
    let mut legend = Legend::default();
    shade_window(&mut chart, tl, (range.start, range.end))?;
    for line in &tl.latency {
        let color = match line.label.as_str() {
            "max" => PALETTE[3],
            "mean" => PALETTE[0],
            "p50" => PALETTE[2],
            "p99" => PALETTE[1],
            _ => PALETTE[4],
        };
        draw_line(&mut chart, line, line_style(color, 2))?;
        legend.push(Mark::Line(color, 2), format!("{} per second", line.label));
    }
    if let Some(p99) = p99 {
        let ((a, b), scope) = match tl.window {
            Some(w) if r.steady_state.latency_scope == "window" => (w, "window"),
            _ => ((0.0, axis.x_max), "whole run"),
        };
        draw_dashed(&mut chart, (a, p99), (b, p99), PALETTE[1])?;
        legend.push(
            Mark::Dashed(PALETTE[1]),
            format!("p99 of the {scope} {} ms", human::ms(Some(p99))),
        );
    }
    if let (Some(b), Some(level)) = (baseline, base_p99) {
        let text = format!("baseline p99 {} ms", human::ms(Some(level)));
        draw_baseline(&mut chart, &mut legend, tl, axis, (level, text), &b.label)?;
    }
    if !tl.has_percentiles {
        // Say why there is no p99 line per second, where the reader looks for it.
        legend.push(Mark::Note, "");
        legend.push(Mark::Note, "per-second percentiles are");
        legend.push(Mark::Note, "not drawn: memtier's are");
        legend.push(Mark::Note, "one-connection estimates");
    }
    legend.draw(&legend_area)
}

/// Server CPU per node.
pub(super) fn cpu<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tl: &Timeline,
    axis: &TimeAxis,
) -> anyhow::Result<()> {
    let (plot, legend_area) = split(area);
    let top = (max_y(tl.cpu.iter()) * 1.1).max(100.0);
    let mut chart = ChartBuilder::on(&plot)
        .caption("server CPU, % of one core", text_style(17.0, TEXT))
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(axis.coord(), 0.0..top)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .label_style(text_style(13.0, TEXT))
        .axis_desc_style(text_style(14.0, TEXT))
        .x_desc(axis.desc())
        .y_labels(5)
        .x_label_formatter(&|x| axis.label(*x))
        .y_label_formatter(&|y| format!("{y:.0} %"))
        .draw()
        .map_err(drawing)?;
    let mut legend = Legend {
        hidden: tl.cpu_lines_dropped,
        ..Legend::default()
    };
    shade_window(&mut chart, tl, (0.0, top))?;
    for (i, line) in tl.cpu.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        draw_line(&mut chart, line, line_style(color, 2))?;
        legend.push(Mark::Line(color, 2), line.label.clone());
    }
    legend.draw(&legend_area)
}
