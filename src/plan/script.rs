//! The load generator task's `sh -c` script: memtier under a hard `timeout`, then every output file
//! printed into the task's own log stream between marker lines (gzip + base64 in short lines, with a
//! SHA-256 per file), so results come home through CloudWatch Logs and the task needs no AWS
//! credentials. While memtier runs, its latest progress line is printed every few seconds, so the
//! run can show live numbers and tell a hung memtier from a working one. The script holds no secret: the cache host and AUTH token arrive as environment
//! variables at RunTask. Pure.

use crate::config::{Secret, Workload};
use crate::memtier::command::{Arg, MemtierCommand, Mode};

/// Environment variable with the cache endpoint host (set per RunTask).
pub const ENV_HOST: &str = "ECP_HOST";
/// Environment variable with the AUTH token (set per RunTask, only with transit encryption).
pub const ENV_AUTH_TOKEN: &str = "ECP_AUTH_TOKEN";
/// Environment variable choosing `prefill` or `timed`.
pub const ENV_MODE: &str = "ECP_MODE";
/// First line a task prints: `ECP-BEGIN v1 <mode>`.
pub const MARK_BEGIN: &str = "ECP-BEGIN";
/// memtier's exit status: `ECP-EXIT <code>` (124 when the hard timeout hit).
pub const MARK_EXIT: &str = "ECP-EXIT";
/// One file follows: `ECP-FILE <name> <lines> <sha256 of the gzip bytes>`.
pub const MARK_FILE: &str = "ECP-FILE";
/// One line of base64 of the gzip of the current file: `ECP-D <base64>`.
pub const MARK_DATA: &str = "ECP-D";
/// All files were printed.
pub const MARK_END: &str = "ECP-END";
/// memtier's latest progress line, printed while it runs: `ECP-PROGRESS <line>`.
pub const MARK_PROGRESS: &str = "ECP-PROGRESS";
/// Seconds between two progress lines of a running task.
pub const PROGRESS_EVERY_SECS: u64 = 5;
/// Width of the base64 lines (well under the 16 KB at which Fargate's log driver splits lines).
pub const BASE64_WIDTH: usize = 76;
/// Extra seconds the hard timeout allows beyond the test time (connection setup, final report).
pub const TIMEOUT_GRACE_SECS: u64 = 60;
/// Seconds between the timeout's SIGINT and its SIGKILL.
pub const KILL_AFTER_SECS: u64 = 30;
/// Hard timeout of the prefill run.
pub const PREFILL_TIMEOUT_SECS: u64 = 1800;

/// The script and the command lines it runs, for people (token redacted).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TaskScript {
    /// The whole script: the container runs `sh -c <script>`.
    pub script: String,
    /// The timed memtier command line, token redacted.
    pub timed_display: String,
    /// The prefill command line, token redacted (`None` without prefill).
    pub prefill_display: Option<String>,
    /// Hard timeout of the timed run, seconds (the task ends by itself after this plus
    /// [`KILL_AFTER_SECS`] and the time to print its results).
    pub timed_timeout_secs: u64,
}

/// What the script needs to know.
#[derive(Clone, Debug)]
pub struct ScriptSpec<'a> {
    /// The workload.
    pub workload: &'a Workload,
    /// Cache port.
    pub port: u16,
    /// TLS in transit.
    pub tls: bool,
    /// AUTH with the token from the task's environment.
    pub auth: bool,
    /// Cluster mode enabled.
    pub cluster_mode: bool,
    /// Timed run length, seconds.
    pub test_secs: u64,
    /// Whether a prefill task runs first.
    pub prefill: bool,
    /// Extra memtier arguments for the timed run.
    pub extra_args: &'a [String],
}

/// Quote one word for POSIX sh (bare when it only holds safe characters).
pub fn sh_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn memtier<'a>(
    spec: &'a ScriptSpec<'a>,
    host: &'a str,
    pw: Option<&'a Secret>,
    mode: Mode,
) -> MemtierCommand<'a> {
    MemtierCommand {
        host,
        port: spec.port,
        username: None,
        password: pw,
        tls: spec.tls,
        workload: spec.workload,
        mode,
        out_prefix: "memtier",
    }
}

/// The flags the tool adds after memtier's own: cluster mode, TLS without verification (the
/// image carries no Amazon CA bundle; traffic stays inside the VPC), then the user's extras.
fn tail(spec: &ScriptSpec<'_>, timed: bool) -> Vec<String> {
    let mut t = Vec::new();
    if spec.cluster_mode {
        t.push("--cluster-mode".to_string());
    }
    if spec.tls {
        t.push("--tls-skip-verify".to_string());
    }
    if timed {
        t.extend(spec.extra_args.iter().cloned());
    }
    t
}

/// The shell words of one memtier invocation: host and token are expanded from the environment.
fn shell_words(spec: &ScriptSpec<'_>, mode: Mode, timed: bool) -> String {
    let placeholder = Secret::new("");
    let pw = spec.auth.then_some(&placeholder);
    let host = format!("${{{ENV_HOST}}}");
    let cmd = memtier(spec, &host, pw, mode);
    let mut words = vec!["memtier_benchmark".to_string()];
    for a in cmd.args() {
        words.push(match a {
            Arg::Plain(p) if p.starts_with("--server=") => format!("\"--server=${{{ENV_HOST}}}\""),
            Arg::Plain(p) => sh_quote(&p),
            Arg::Authenticate(_) => format!("\"--authenticate=${{{ENV_AUTH_TOKEN}}}\""),
        });
    }
    words.extend(tail(spec, timed).iter().map(|w| sh_quote(w)));
    words.join(" ")
}

/// The command line for people: host shown as `<cache endpoint>`, token as `***`.
fn display(spec: &ScriptSpec<'_>, mode: Mode, timed: bool) -> String {
    let placeholder = Secret::new("");
    let pw = spec.auth.then_some(&placeholder);
    let mut s = memtier(spec, "<cache endpoint>", pw, mode).display();
    for w in tail(spec, timed) {
        s.push(' ');
        s.push_str(&sh_quote(&w));
    }
    s
}

/// Build the script.
pub fn task_script(spec: &ScriptSpec<'_>) -> TaskScript {
    let timed_timeout_secs = spec.test_secs + TIMEOUT_GRACE_SECS;
    let timed = shell_words(spec, Mode::Timed(spec.test_secs), true);
    let prefill = shell_words(spec, Mode::Prefill, false);
    // The progress loop ends with memtier (whose exit status the subshell writes even when it
    // fails to start), and at the latest when the longer of the two hard timeouts has passed.
    let watch_limit = PREFILL_TIMEOUT_SECS.max(timed_timeout_secs) + KILL_AFTER_SECS + 10;
    let script = format!(
        r#"set -u
d=$(mktemp -d "${{TMPDIR:-/tmp}}/ecp.XXXXXX") || exit 70
cd "$d" || exit 70
mode="${{{ENV_MODE}:-timed}}"
echo "{MARK_BEGIN} v1 $mode"
(
  trap 'echo "$?" >rc.tmp; mv rc.tmp exit_code.txt' EXIT
  if [ "$mode" = prefill ]; then
    timeout -s INT -k {KILL_AFTER_SECS} {PREFILL_TIMEOUT_SECS} {prefill} >stdout.txt 2>stderr.txt
  else
    timeout -s INT -k {KILL_AFTER_SECS} {timed_timeout_secs} {timed} >stdout.txt 2>stderr.txt
  fi
) &
i=0
while [ ! -f exit_code.txt ] && [ "$i" -lt {watch_limit} ]; do
  sleep 1
  i=$((i + 1))
  if [ $((i % {PROGRESS_EVERY_SECS})) -eq 0 ]; then
    l=$(tail -c 4096 stderr.txt 2>/dev/null | tr '\r' '\n' | grep -a 'ops/sec' | tail -n 1)
    [ -n "$l" ] && echo "{MARK_PROGRESS} $l"
  fi
done
wait
rc=$(cat exit_code.txt 2>/dev/null || echo 125)
echo "{MARK_EXIT} $rc"
mkdir z
for f in *; do
  [ -f "$f" ] || continue
  gzip -c "$f" >"z/$f.gz" || continue
  n=$(base64 -w {BASE64_WIDTH} "z/$f.gz" | wc -l)
  sum=$(sha256sum "z/$f.gz" | cut -d ' ' -f 1)
  echo "{MARK_FILE} $f $n $sum"
  base64 -w {BASE64_WIDTH} "z/$f.gz" | sed 's/^/{MARK_DATA} /'
done
echo "{MARK_END}"
exit "$rc"
"#
    );
    TaskScript {
        script,
        timed_display: display(spec, Mode::Timed(spec.test_secs), true),
        prefill_display: spec.prefill.then(|| display(spec, Mode::Prefill, false)),
        timed_timeout_secs,
    }
}
