#!/usr/bin/env python3
"""Draws gap.png from the "round" records of one or more mindgap runs.

usage: plot_gap.py --out gap.png RUN_DIR [RUN_DIR ...]

Each RUN_DIR holds a metrics.jsonl. A round record looks like
  {"kind": "round", "round": 1, "arm": "mc", "J_f": 0.71, "J_filtered": 0.78, "gap": 0.07,
   "relative_gap": 0.24, "greedy": {"2": 0.9, "3": 0.6}, ...}
Left panel: accuracy per round (greedy on held-out prompts, J_f of the raw samples, J_filtered
of the kept samples); right panel: the GV-gap J_filtered - J_f. One colour per run and arm;
the control arms `none` and `oracle` are labelled as controls.
Exit codes: 0 drawn, 2 bad arguments or no round records, 3 matplotlib missing.
"""
import argparse
import json
import math
import os
import sys

CONTROL_ARMS = {"none": "control: none", "oracle": "control: oracle"}


def read_records(path):
    """Complete JSON objects of a JSONL file; a line cut short by a killed run is skipped."""
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                records.append(rec)
    return records


def greedy_value(value):
    """Held-out greedy accuracy: a number, or the mean over difficulties of a dict."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        numbers = [float(v) for v in value.values() if isinstance(v, (int, float))]
        if numbers:
            return sum(numbers) / len(numbers)
    return math.nan


def number(rec, key):
    v = rec.get(key)
    return float(v) if isinstance(v, (int, float)) else math.nan


def collect(run_dirs):
    """{label: {round: record}}; a round repeated by a resumed run keeps its last record."""
    series = {}
    several = len(run_dirs) > 1
    for run in run_dirs:
        path = os.path.join(run, "metrics.jsonl")
        if not os.path.exists(path):
            print(f"plot_gap: {path}: missing, skipped", file=sys.stderr)
            continue
        name = os.path.basename(os.path.normpath(run))
        for rec in read_records(path):
            if rec.get("kind") != "round" or not isinstance(rec.get("round"), int):
                continue
            arm = str(rec.get("arm", "?"))
            arm_label = CONTROL_ARMS.get(arm, arm)
            label = f"{name}: {arm_label}" if several else arm_label
            series.setdefault(label, {})[rec["round"]] = rec
    return series


def main():
    parser = argparse.ArgumentParser(description="Plot accuracy and GV-gap per round.")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("runs", nargs="+", help="run directories (each with metrics.jsonl)")
    args = parser.parse_args()

    series = collect(args.runs)
    if not series:
        print("plot_gap: no round records in " + ", ".join(args.runs), file=sys.stderr)
        return 2
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display on a training machine
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_gap: matplotlib is not installed for " + sys.executable, file=sys.stderr)
        return 3

    fig, (ax_acc, ax_gap) = plt.subplots(1, 2, figsize=(12, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, by_round) in enumerate(sorted(series.items())):
        colour = colours[i % len(colours)]
        rounds = sorted(by_round)
        recs = [by_round[r] for r in rounds]
        ax_acc.plot(rounds, [greedy_value(r.get("greedy")) for r in recs], "-o", color=colour,
                    label=f"{label}: greedy")
        ax_acc.plot(rounds, [number(r, "J_f") for r in recs], "--s", color=colour, alpha=0.8,
                    label=f"{label}: J_f")
        ax_acc.plot(rounds, [number(r, "J_filtered") for r in recs], ":^", color=colour, alpha=0.8,
                    label=f"{label}: J_filtered")
        ax_gap.plot(rounds, [number(r, "gap") for r in recs], "-o", color=colour, label=label)

    ax_acc.set_title("accuracy per round")
    ax_acc.set_xlabel("round")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(-0.02, 1.02)
    ax_acc.grid(alpha=0.3)
    ax_acc.legend(fontsize="small")
    ax_gap.set_title("GV-gap = J(f[w(u_f)]) - J(f)")
    ax_gap.set_xlabel("round")
    ax_gap.set_ylabel("gap")
    ax_gap.axhline(0.0, color="grey", linewidth=0.8)
    ax_gap.grid(alpha=0.3)
    ax_gap.legend(fontsize="small")
    for ax in (ax_acc, ax_gap):
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    # Written under a temporary name and renamed, so a reader never sees half a PNG.
    tmp = args.out + ".tmp" + str(os.getpid())
    fig.savefig(tmp, dpi=110, format="png")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
