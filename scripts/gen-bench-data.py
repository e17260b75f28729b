#!/usr/bin/env python3
"""Scale the real 60 s memtier fixture into N task folders of a long run, for the analyze benchmark.

The input is `tests/fixtures/memtier/long/` (memtier_benchmark 2.3.0, 60 s, one Time-Serie entry per
second plus a partial tail second). Each output task folder holds what memtier itself writes:

* memtier.json in memtier's own layout (tab indentation, commas at line starts, numbers formatted as
  memtier prints them). The document is read into a tree that keeps every value's raw text and
  written back; the writer reproduces the fixture byte for byte (checked at start-up), so only the
  values we change differ from what memtier would write.
* Time-Serie: the 60 whole seconds repeated to `--seconds` entries (offsets 0..seconds-1) with their
  real field sets (per-second percentile keys included), then the real partial tail second at offset
  `seconds`, as memtier writes `test_time + 1` keys.
* Count = sum of the Time-Serie counts; Ops/sec, Hits/sec, KB/sec and Accumulated Latency scaled to
  match; Runtime.Start time shifted by a few hundred ms per task, Total duration = seconds * 1000.
* Compressed histograms: the real ones, decoded (HdrHistogram V2 + zlib), every bucket multiplied by
  the repeat factor and the surplus of the tail second taken off the fullest buckets, so that each
  histogram's total count equals the type's Count exactly; re-encoded the way memtier encodes them.
* memtier_hdr_*.hgrm with the same scaled histograms; the .txt percentile dumps copied as they are.
* stderr.txt with one `\\r`-separated progress update per second, stdout.txt with the summary table
  (rates rescaled), exit_code.txt.

Standard library only. Writes outside the repository (default: $TMPDIR/ecp-bench-data).
"""

import argparse
import base64
import json
import os
import re
import shutil
import struct
import sys
import zlib
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "memtier" / "long"
TYPES = ("Sets", "Gets", "Waits", "Totals")
MARKER = "BENCH_DATA_COMPLETE"


# --- memtier's JSON layout: a tree that keeps raw value text -------------------------------------


def parse_layout(text):
    """Parse memtier's line-oriented JSON into nested ('obj', [(key, node)]) / ('arr', [node]) /
    ('raw', text-after-colon) nodes."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    root = None
    stack = []  # open containers

    def attach(key, node):
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1]
        if parent[0] == "obj":
            parent[1].append((key, node))
        else:
            parent[1].append(node)

    for raw in lines:
        line = raw.lstrip("\t")
        if line.startswith(","):
            line = line[1:]
        if line in ("}", "]"):
            stack.pop()
            continue
        if line == "{":
            node = ("obj", [])
            attach(None, node)
            stack.append(node)
            continue
        if not line.startswith('"'):
            raise ValueError(f"unexpected line in memtier JSON: {raw!r}")
        end = line.index('":')
        key, rest = line[1:end], line[end + 2 :]
        if rest == "{":
            node = ("obj", [])
            attach(key, node)
            stack.append(node)
        elif rest == "[":
            node = ("arr", [])
            attach(key, node)
            stack.append(node)
        else:
            attach(key, ("raw", rest))
    if stack or root is None:
        raise ValueError("unbalanced memtier JSON")
    return root


def write_layout(node, out, depth=0):
    """Write a tree back in memtier's layout: children one tab deeper, commas at line starts, the
    closing bracket at the children's indentation."""
    kind, items = node
    if kind == "raw":
        out.append(items)
        return
    out.append("{\n" if kind == "obj" else "[\n")
    ind = "\t" * (depth + 1)
    for i, item in enumerate(items):
        out.append(ind)
        if i:
            out.append(",")
        if kind == "obj":
            key, child = item
            out.append(f'"{key}":')
        else:
            child = item
        write_layout(child, out, depth + 1)
        out.append("\n")
    out.append(ind + ("}" if kind == "obj" else "]"))


def render(root):
    out = []
    write_layout(root, out)
    out.append("\n")
    return "".join(out)


def get(node, *path):
    for key in path:
        node = next(child for k, child in node[1] if k == key)
    return node


def put(node, key, raw):
    items = node[1]
    for i, (k, _) in enumerate(items):
        if k == key:
            items[i] = (k, ("raw", raw))
            return
    raise KeyError(key)


def num(node, key):
    return json.loads(get(node, key)[1])


# --- HdrHistogram V2 (what memtier's "Compressed Histogram" and .hgrm lines hold) ---------------

V2_COOKIE = 0x1C849313
V2_COMPRESSED_COOKIE = 0x1C849314


def decode_hist(b64):
    blob = base64.b64decode(b64)
    cookie, length = struct.unpack(">ii", blob[:8])
    if cookie != V2_COMPRESSED_COOKIE:
        raise ValueError("not a V2 compressed histogram")
    raw = zlib.decompress(blob[8 : 8 + length])
    header = raw[:40]
    cookie, payload_len = struct.unpack(">ii", header[:8])
    if cookie != V2_COOKIE:
        raise ValueError("not a V2 histogram")
    payload = raw[40 : 40 + payload_len]
    counts, i = [], 0
    while i < len(payload):
        value, shift = 0, 0
        for n in range(9):
            b = payload[i]
            i += 1
            if n == 8:
                value |= b << shift
                break
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        value = (value >> 1) ^ -(value & 1)  # ZigZag
        if value < 0:
            counts.extend([0] * -value)
        else:
            counts.append(value)
    return header, counts


def encode_hist(header, counts):
    while counts and counts[-1] == 0:
        counts = counts[:-1]
    payload = bytearray()

    def varint(v):
        v = (v << 1) ^ (v >> 63)  # ZigZag, 64-bit
        for n in range(9):
            if n == 8:
                payload.append(v & 0xFF)
                return
            if v < 0x80:
                payload.append(v)
                return
            payload.append((v & 0x7F) | 0x80)
            v >>= 7

    zeros = 0
    for c in counts:
        if c == 0:
            zeros += 1
            continue
        if zeros:
            varint(-zeros if zeros > 1 else 0)
            zeros = 0
        varint(c)
    raw = struct.pack(">ii", V2_COOKIE, len(payload)) + header[8:40] + bytes(payload)
    deflated = zlib.compress(raw)
    return base64.b64encode(struct.pack(">ii", V2_COMPRESSED_COOKIE, len(deflated)) + deflated).decode()


def scale_hist(b64, factor, remove):
    """Multiply every bucket by `factor`, then take `remove` counts off the fullest buckets."""
    header, counts = decode_hist(b64)
    counts = [c * factor for c in counts]
    order = sorted(range(len(counts)), key=lambda i: -counts[i])
    for i in order:
        if remove == 0:
            break
        take = min(remove, counts[i] - 1) if counts[i] > 1 else 0
        counts[i] -= take
        remove -= take
    if remove:
        raise ValueError("histogram too small to scale")
    return encode_hist(header, counts), sum(counts)


# --- the pieces of one task --------------------------------------------------------------------


def scale_json(text, seconds):
    root = parse_layout(text)
    if render(root) != text:
        raise SystemExit("layout writer does not reproduce the fixture byte for byte")
    stats = get(root, "ALL STATS")
    runtime = get(stats, "Runtime")
    old_ms = num(runtime, "Total duration")
    old_secs = num(get(root, "run information"), "Seconds")
    put(get(root, "configuration"), "test_time", f" {seconds}")
    put(get(root, "run information"), "Seconds", f" {seconds}")
    new_ms = seconds * 1000 + (old_ms - old_secs * 1000)
    put(runtime, "Total duration", f" {new_ms}")
    factor = seconds // old_secs
    info = {}
    for t in TYPES:
        obj = get(stats, t)
        serie = get(obj, "Time-Serie")
        entries = [node for _, node in serie[1]]
        whole, tail = entries[:old_secs], entries[old_secs:]
        new = [(str(k), whole[k % old_secs]) for k in range(seconds)]
        new += [(str(seconds + i), e) for i, e in enumerate(tail)]
        serie[1][:] = new
        count = sum(num(e, "Count") for _, e in new)
        tail_count = sum(num(e, "Count") for e in tail)
        old_count = num(obj, "Count")
        if old_count != sum(num(e, "Count") for e in entries):
            raise SystemExit(f"{t}: fixture Count is not the sum of its Time-Serie")
        rate = (count / (new_ms / 1000)) / (old_count / (old_ms / 1000)) if old_count else 1.0
        put(obj, "Count", f" {count}")
        for key in ("Ops/sec", "Hits/sec", "Misses/sec", "KB/sec", "KB/sec RX/TX", "KB/sec RX", "KB/sec TX"):
            put(obj, key, f" {num(obj, key) * rate:.2f}")
        if old_count:
            put(obj, "Accumulated Latency", f" {round(num(obj, 'Accumulated Latency') * count / old_count)}")
        hist_fmt = get(obj, "Percentile Latencies", "Histogram log format")
        b64, hist_count = scale_hist(
            json.loads(get(hist_fmt, "Compressed Histogram")[1]), factor, (factor - 1) * tail_count
        )
        if hist_count != count:
            raise SystemExit(f"{t}: scaled histogram holds {hist_count}, Count is {count}")
        put(hist_fmt, "Compressed Histogram", f' "{b64}"')
        info[t] = {"count": count, "hist": b64, "rate": rate}
    return root, info


def task_json(root, start_ms):
    runtime = get(root, "ALL STATS", "Runtime")
    put(runtime, "Start time", f" {start_ms}")
    put(runtime, "Finish time", f" {start_ms + num(runtime, 'Total duration')}")
    return render(root)


def hgrm(text, start_ms, duration_ms, b64):
    out = []
    for line in text.split("\n"):
        if line and line[0].isdigit():
            _, _, imax, _ = line.split(",", 3)
            s, e = start_ms / 1000, (start_ms + duration_ms + 1) / 1000
            line = f"{s:.3f},{e:.3f},{imax},{b64}"
        elif line.startswith("#[StartTime: "):
            line = re.sub(r"[\d.]+ \(seconds", f"{start_ms / 1000:.3f} (seconds", line)
        out.append(line)
    return "\n".join(out)


PROGRESS = re.compile(
    r"^\[RUN #1 \d+%, +\d+ secs\](  \d threads  \d conns:) +\d+ ops, +(\d+) \(avg: +\d+\) ops/sec(.*)$", re.S
)


def stderr_text(fixture_text, seconds, per_sec_counts):
    first = fixture_text.index("[RUN #1 ")  # the first progress update ("[RUN #1] …" lines precede it)
    head, body = fixture_text[:first], fixture_text[first:]
    updates, tail = body.rsplit("\r", 1)
    updates = updates.split("\r")
    last, templates = updates[-1], updates[:-1]
    parts, ops = [], 0
    for k in range(1, seconds + 1):
        # The last update counts the partial tail second too, as memtier's does.
        ops = sum(per_sec_counts) if k == seconds else ops + per_sec_counts[k - 1]
        m = PROGRESS.match(last if k == seconds else templates[(k - 1) % len(templates)])
        if not m:
            raise SystemExit("unexpected progress line in the fixture's stderr")
        pct = round(k * 100 / seconds)
        parts.append(
            f"[RUN #1 {pct}%, {k:3d} secs]{m.group(1)} {ops:11d} ops, {int(m.group(2)):7d} "
            f"(avg: {ops // k:7d}) ops/sec{m.group(3)}"
        )
    return head + "\r".join(parts) + "\r" + tail


def stdout_text(fixture_text, seconds, info):
    out = []
    in_all_stats = False
    for line in fixture_text.split("\n"):
        if line.endswith("        Seconds"):
            line = f"{seconds:<10d}Seconds"
        elif line == "ALL STATS":
            in_all_stats = True
        elif in_all_stats and line.split(" ", 1)[0] in info:
            rate = info[line.split(" ", 1)[0]]["rate"]
            cols = re.findall(r" *\S+", line)

            def scaled(col):
                w = len(col)
                try:
                    return f"{float(col) * rate:{w}.2f}"
                except ValueError:
                    return col

            # Type, Ops/sec, Hits/sec, Misses/sec, 7 latencies, KB/sec
            cols = [cols[0]] + [scaled(c) for c in cols[1:4]] + cols[4:11] + [scaled(c) for c in cols[11:12]] + cols[12:]
            line = "".join(cols) + " "
        elif in_all_stats and line == "":
            in_all_stats = False
        out.append(line)
    return "\n".join(out)


def read(path):
    # newline="" keeps memtier's "\r" progress separators (universal newlines would turn them into "\n").
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def main():
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=tmp / "ecp-bench-data", help="output folder (default: %(default)s)")
    ap.add_argument("--tasks", type=int, default=64)
    ap.add_argument("--seconds", type=int, default=3600, help="a multiple of the fixture's 60 s")
    ap.add_argument("--shift-ms", type=int, default=250, help="start-time step between tasks")
    args = ap.parse_args()
    if args.seconds % 60:
        ap.error("--seconds must be a multiple of 60")
    out = args.out.resolve()
    repo = FIXTURE.parent.parent.parent.parent
    if out == repo or repo in out.parents:
        ap.error("write outside the repository")

    fixture_json = read(FIXTURE / "memtier.json")
    root, info = scale_json(fixture_json, args.seconds)
    start0 = num(get(root, "ALL STATS", "Runtime"), "Start time")
    duration = num(get(root, "ALL STATS", "Runtime"), "Total duration")
    totals_serie = get(root, "ALL STATS", "Totals", "Time-Serie")
    per_sec = [num(e, "Count") for _, e in totals_serie[1]]
    stderr = stderr_text(read(FIXTURE / "stderr.txt"), args.seconds, per_sec)
    stdout = stdout_text(read(FIXTURE / "stdout.txt"), args.seconds, info)
    hist_of = {"FULL_RUN": info["Totals"]["hist"], "GET": info["Gets"]["hist"], "SET": info["Sets"]["hist"]}

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for i in range(args.tasks):
        d = out / f"task-{i:02d}"
        d.mkdir()
        start = start0 + i * args.shift_ms
        write(d / "memtier.json", task_json(root, start))
        write(d / "stdout.txt", stdout)
        write(d / "stderr.txt", stderr)
        write(d / "exit_code.txt", "0\n")
        for f in FIXTURE.glob("memtier_hdr_*"):
            text = read(f)
            if f.suffix == ".hgrm":
                key = "FULL_RUN" if "FULL_RUN" in f.name else f.name.split("_")[2]
                text = hgrm(text, start, duration, hist_of[key])
            write(d / f.name, text)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    write(out / MARKER, f"tasks={args.tasks} seconds={args.seconds} bytes={size}\n")
    print(f"wrote {args.tasks} tasks x {args.seconds} s into {out} ({size / 1e6:.1f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
