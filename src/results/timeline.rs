//! The run's timeline: every phase with its start and end, so a user sees how much of the job's
//! wall time was measurement. Phases that overlap (the teardown, CloudWatch's read and the first
//! report run side by side on AWS) are recorded as spans beside the sequential ones.

use std::time::Instant;

use super::{rfc3339_ms, Phase};
pub use crate::clock::now_ms;

/// Records phases as they happen.
#[derive(Debug, Default)]
pub struct Timeline {
    phases: Vec<Phase>,
    open: Option<Span>,
}

/// A phase that started and has not ended yet; it may overlap others.
#[derive(Clone, Debug)]
pub struct Span {
    name: String,
    start_ms: u64,
    started: Instant,
}

impl Span {
    /// Start a phase now (and log it).
    pub fn start(name: &str) -> Self {
        tracing::info!("phase: {name}");
        Self {
            name: name.to_string(),
            start_ms: now_ms(),
            started: Instant::now(),
        }
    }

    /// The phase as it stands now: ended now, when it ends.
    pub fn to_phase(&self) -> Phase {
        let secs = self.started.elapsed().as_secs_f64();
        Phase {
            name: self.name.clone(),
            started_at: rfc3339_ms(self.start_ms),
            ended_at: rfc3339_ms(now_ms()),
            duration_secs: (secs * 1000.0).round() / 1000.0,
        }
    }
}

impl Timeline {
    /// Start a phase (ending the open one) and log it.
    pub fn phase(&mut self, name: &str) {
        self.end();
        self.open = Some(Span::start(name));
    }

    /// End the open phase.
    pub fn end(&mut self) {
        if let Some(s) = self.open.take() {
            self.phases.push(s.to_phase());
        }
    }

    /// Record a phase that ran beside the others.
    pub fn push(&mut self, phase: Phase) {
        self.phases.push(phase);
    }

    /// The phases so far, the open one as if it ended now, in order of their start.
    pub fn snapshot(&self) -> Vec<Phase> {
        let mut all = self.phases.clone();
        all.extend(self.open.as_ref().map(Span::to_phase));
        all.sort_by(|a, b| a.started_at.cmp(&b.started_at));
        all
    }

    /// All phases, ending the open one, in order of their start.
    pub fn finish(mut self) -> Vec<Phase> {
        self.end();
        self.phases.sort_by(|a, b| a.started_at.cmp(&b.started_at));
        self.phases
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_spans_keep_their_own_times_and_sort_by_start() {
        let mut tl = Timeline::default();
        tl.phase("load");
        let side = Span::start("collect");
        std::thread::sleep(std::time::Duration::from_millis(20));
        tl.phase("teardown");
        std::thread::sleep(std::time::Duration::from_millis(20));
        tl.push(side.to_phase());
        let snap = tl.snapshot();
        assert_eq!(snap.len(), 3);
        let phases = tl.finish();
        let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["load", "collect", "teardown"]);
        // The side span covers the teardown's start: it overlaps.
        assert!(phases[1].ended_at >= phases[2].started_at);
        assert!(phases[1].duration_secs >= 0.04 - 1e-9);
    }
}
