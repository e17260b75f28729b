//! The names of the action state the main step saves for the post step (`STATE_<name>` there):
//! written by [`super::prepare`], read by the `post` command. The ledger's own key is the ledger's.

/// State key of the run id.
pub const STATE_RUN_ID: &str = "run_id";
/// State key of the target.
pub const STATE_TARGET: &str = "target";
/// State key of the AWS region.
pub const STATE_REGION: &str = "region";
/// State key of the output folder (relative to the workspace).
pub const STATE_OUTPUT_DIR: &str = "output_dir";
