//! Pure statistics: percentiles the way memtier computes them, the merge of load generators'
//! results, and the steady-state window.

pub mod merge;
pub mod percentile;
pub mod series;
pub mod window;
