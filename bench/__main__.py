"""Run the benchmarks and write bench/results/latest.md.

    .venv/bin/python -m bench                    # everything (an hour or more on 2 cores)
    .venv/bin/python -m bench --quick            # smaller versions, no rebuild test
    .venv/bin/python -m bench --parts latency index profile

Each part saves its section to bench/results/part-NAME.md (stamped with time, command
and code); latest.md then gathers the newest section of every part, so parts can be
rerun one at a time. A part that fails is reported and the others still run. All
servers bind 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import whoosh

from . import (
    before_after,
    browser,
    cold_start,
    growth,
    http_latency,
    index_bench,
    load,
    opensearch_compare,
    profile_search,
    rebuild,
    relevance,
    updates,
)
from .common import CODE, DATASETS, REPO, RESULTS

Part = Callable[[bool], list[str]]
PARTS: dict[str, Part] = {
    "latency": lambda quick: http_latency.run(["bbc", "reuters"], http_latency.SERVERS, quick),
    "index": lambda quick: index_bench.run(["bbc"] if quick else ["bbc", "reuters"], index_bench.BUILDERS, 1),
    "throughput": lambda quick: load.mode_compare(DATASETS["reuters"], 8, 12 if quick else 30, 2 if quick else 3,
                                                  None),
    "growth": lambda quick: growth.run(GROWTH_STEPS[:2] if quick else GROWTH_STEPS, 2, quick),
    "cold": lambda quick: cold_start.run(["reuters"] if quick else ["bbc", "reuters"], ["searchapp", "naive"],
                                         1 if quick else 3),
    "rebuild": lambda quick: rebuild.run(8, 60.0, 8, None),
    "updates": lambda quick: updates.run(4, 8 if quick else 24, None),
    "soak": lambda quick: load.mode_soak(DATASETS["reuters"], 8, 60.0 if quick else 300.0, None),
    "before-after": lambda quick: before_after.run(before_after.BEFORE, ["bbc"] if quick else ["bbc", "reuters"],
                                                   2 if quick else 6),
    "profile": lambda quick: profile_search.run("reuters", 20),
    "browser": lambda quick: browser.run("reuters", 5 if quick else 20),
    "relevance": lambda quick: relevance.run(),
    "opensearch": lambda quick: opensearch_compare.run(["10k"] if quick else ["10k", "105k"], quick),
}
QUICK_SKIPS = {"rebuild"}
GROWTH_STEPS = ["10k", "105k", "1m"]  # --growth-steps changes it


def revision() -> str:
    """The commit measured, and whether searchapp/ had uncommitted changes (read-only git calls)."""
    if CODE != REPO:
        return f"snapshot {CODE} of commit {os.environ.get('SEARCHAPP_BENCH_REV', '?')}"
    changed = git("status", "--porcelain", "--", "searchapp", "templates", "static").splitlines()
    return f"{git('rev-parse', '--short', 'HEAD')}" + (f" + {len(changed)} uncommitted files" if changed else "")


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout.strip()


def machine() -> list[str]:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "unknown")
    memory = next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return [f"- code at assembly: {revision()} (each part below names the code it measured)",
            f"- machine: {os.cpu_count()} CPUs ({model}), {int(memory) / 1024 / 1024:.0f} GiB RAM, "
            f"{platform.system()} {platform.release()}",
            f"- python {platform.python_version()}, whoosh {whoosh.versionstring()}",
            f"- load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (a shared machine: "
            "compare ratios measured in the same run, not absolute times)"]


def run_part(name: str, quick: bool, command: str) -> None:
    """Run one part and save its section, stamped with when, how and on which code, to results/part-NAME.md."""
    started = time.perf_counter()
    print(f"== {name}", file=sys.stderr, flush=True)
    try:
        lines = PARTS[name](quick)
    except Exception:  # one broken part must not lose the others' results
        lines = [f"## {name}: FAILED", "", "```", traceback.format_exc().strip()[-2000:], "```", ""]
    print("\n".join(lines), flush=True)
    stamp = (f"_{name}: {time.perf_counter() - started:.0f} s, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
             f"`{command}`, code {revision()}, load average at end {os.getloadavg()[0]:.1f}._")
    (RESULTS / f"part-{name}.md").write_text("\n".join(lines + [stamp, ""]) + "\n")


def assemble(command: str) -> Path:
    """latest.md: the machine, then every part's newest section (each says when and how it was measured)."""
    sections = [(RESULTS / f"part-{name}.md") for name in PARTS]
    now = datetime.now(UTC)
    header = ["# searchapp benchmarks", "", f"- assembled {now:%Y-%m-%d %H:%M} UTC by `{command}`", *machine(), ""]
    body = [section.read_text() for section in sections if section.exists()]
    path = RESULTS / "latest.md"
    path.write_text("\n".join(header) + "\n" + "\n".join(body))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), help="which parts [default: all]")
    parser.add_argument("--quick", action="store_true", help="smaller runs; skips rebuild unless named in --parts")
    parser.add_argument("--growth-steps", nargs="+", choices=list(growth.STEPS), default=GROWTH_STEPS,
                        help="index sizes for the growth part (the 1m build takes half an hour or more)")
    args = parser.parse_args(argv)
    GROWTH_STEPS[:] = args.growth_steps
    parts = args.parts or [p for p in PARTS if not (args.quick and p in QUICK_SKIPS)]
    command = ("python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)).strip()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in parts:
        run_part(name, args.quick, command)
    print(f"wrote {assemble(command)}", file=sys.stderr)


if __name__ == "__main__":
    main()
