"""`recovery-worker classify` throughput, whole process, beside a plain standard-library parse.

The labelled mail set (``bench/data/mail_eval``) is written out as .eml files, each copy with a
Message-ID and sender of its own, at two sizes. Both commands run as users run them, as
separate processes over the same folder; the bench reports mails per second, the ratio to the
plain parse, and how the cost per mail grows from the small size to the large one.

Exits 1 when a target is missed: at least 300 mails/s, at most 3x the plain parse, and a cost
per mail at the large size at most 1.3x the small one's (no cost that grows with the square),
and a peak memory of at most 300 MiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.report import say_missed, verdict, write_section

MAIL_EVAL = Path(__file__).resolve().parent / "data" / "mail_eval" / "mails.jsonl"
WORKER = Path(sys.executable).with_name("recovery-worker")
MIN_RATE = 300.0
MAX_RATIO = 3.0
MAX_GROWTH = 1.3
MAX_MIB = 300
SIZES = (2_000, 10_000)

#: The plain parse: every file read and parsed by the standard library, nothing more.
PLAIN_PARSE = """
import email, email.policy, os, sys
for root, _, files in os.walk(sys.argv[1]):
    for name in sorted(files):
        with open(os.path.join(root, name), "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_maintype() == "text":
                part.get_content()
"""


def write_mails(folder: Path, count: int) -> None:
    """``count`` mails cycled from the labelled set, each with an identity of its own."""
    with open(MAIL_EVAL, encoding="utf-8") as handle:
        raws = [json.loads(line)["raw"] for line in handle if line.strip()]
    for n in range(count):
        raw = raws[n % len(raws)]
        head = f"Message-ID: <bench-{n}@classify.bench>\nX-Bench-Copy: {n}\n"
        (folder / f"{n:06d}.eml").write_bytes((head + raw).encode("utf-8", "replace"))


def run_seconds(command: Sequence[str], runs: int) -> float:
    """The median wall time of ``runs`` runs of a command, its output thrown away."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.classify", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(list(argv))
    rows = []
    peak_mib = 0.0
    for size in SIZES:
        with tempfile.TemporaryDirectory(prefix="bench-classify-") as tmp:
            folder = Path(tmp)
            write_mails(folder, size)
            classify = run_seconds([str(WORKER), "classify", str(folder)], args.runs)
            # The largest child so far: only classify runs have ended yet.
            peak_mib = max(peak_mib, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
            plain = run_seconds([sys.executable, "-c", PLAIN_PARSE, str(folder)], args.runs)
        rows.append((size, classify, plain))
        print(
            f"{size} mails: classify {size / classify:.0f} mails/s ({classify:.2f} s), "
            f"plain parse {size / plain:.0f} mails/s, ratio {classify / plain:.2f}"
        )
    (small, small_s, _), (large, large_s, large_plain) = rows[0], rows[-1]
    growth = (large_s / large) / (small_s / small)
    rate, ratio = large / large_s, large_s / large_plain
    print(f"cost per mail, {large} vs {small}: {growth:.2f}x; peak memory {peak_mib:.0f} MiB")
    missed = []
    if rate < MIN_RATE:
        missed.append(f"{rate:.0f} mails/s < {MIN_RATE:.0f}")
    if ratio > MAX_RATIO:
        missed.append(f"{ratio:.2f}x the plain parse > {MAX_RATIO}x")
    if peak_mib > MAX_MIB:
        missed.append(f"peak memory {peak_mib:.0f} MiB > {MAX_MIB} MiB")
    if growth > MAX_GROWTH:
        missed.append(f"cost per mail grew {growth:.2f}x > {MAX_GROWTH}x")
    say_missed(missed)
    if not args.no_write:
        table = "\n".join(
            f"| {size:,} | {size / c:.0f} | {c:.2f} s | {size / p:.0f} | {c / p:.2f} |"
            for size, c, p in rows
        )
        write_section(
            "classify",
            "## Classify throughput\n\n"
            "`recovery-worker classify` on a folder of real mails (the labelled mail set, "
            "cycled), whole process, beside a plain standard-library parse of the same files. "
            f"Medians of {args.runs} runs. Targets: >= {MIN_RATE:.0f} mails/s, <= {MAX_RATIO}x "
            f"the plain parse, cost per mail at {large:,} <= {MAX_GROWTH}x that at {small:,}.\n\n"
            "| mails | classify mails/s | classify time | plain parse mails/s | ratio |\n"
            "|---|---|---|---|---|\n"
            f"{table}\n\nCost per mail, {large:,} vs {small:,}: {growth:.2f}x; peak memory of "
            f"classify {peak_mib:.0f} MiB (target <= {MAX_MIB} MiB). Targets "
            + verdict(missed)
            + "\n\nReproduce: `python -m bench.classify`.",
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
