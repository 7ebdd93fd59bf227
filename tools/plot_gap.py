#!/usr/bin/env python3
"""Draws gap.png from the "round" records of one or more mindgap runs.

usage: plot_gap.py --out gap.png RUN_DIR [RUN_DIR ...]

Each RUN_DIR holds a metrics.jsonl. A round record looks like
  {"kind": "round", "round": 1, "arm": "mc", "J_f": 0.71, "J_filtered": 0.78, "gap": 0.07,
   "relative_gap": 0.24, "greedy": {"2": 0.9, "3": 0.6}, ...}
Left panel: accuracy per round (greedy on held-out prompts, J_f of the raw samples, J_filtered
of the kept samples); right panel: the GV-gap J_filtered - J_f. One colour per run and arm;
the control arms `none` and `oracle` are labelled as controls. A study (several runs per arm,
e.g. one per seed) is drawn per arm instead: the mean over its runs, with a band from the
lowest to the highest run, so that a dozen runs stay readable.
With improve.pass_at set, a third panel: pass@k per round for each k (round 0 from
pretraining's final eval row), the diversity the rounds keep or lose.
Exit codes: 0 drawn, 2 bad arguments or no round records, 3 matplotlib missing.
"""
import argparse
import math
import os
import sys

from plot_support import pyplot, read_jsonl  # beside this script

CONTROL_ARMS = {"none": "control: none", "oracle": "control: oracle"}


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


def load_runs(run_dirs):
    """[(run name, records of its metrics.jsonl)], each file read once; a missing one is skipped."""
    out = []
    for run in run_dirs:
        path = os.path.join(run, "metrics.jsonl")
        if not os.path.exists(path):
            print(f"plot_gap: {path}: missing, skipped", file=sys.stderr)
            continue
        out.append((os.path.basename(os.path.normpath(run)), list(read_jsonl(path, skip_broken=True))))
    return out


def collect(loaded):
    """[(run name, arm label, {round: record})]; a round repeated by a resumed run keeps its
    last record."""
    out = []
    for name, records in loaded:
        by_arm = {}
        for rec in records:
            if rec.get("kind") != "round" or not isinstance(rec.get("round"), int):
                continue
            arm = str(rec.get("arm", "?"))
            by_arm.setdefault(CONTROL_ARMS.get(arm, arm), {})[rec["round"]] = rec
        out.extend((name, arm, rounds) for arm, rounds in by_arm.items())
    return out


def collect_pass_at(loaded):
    """{(run name, arm label): {round: {k: pass@k}}}; round 0 from pretraining's final eval row
    (it belongs to every arm of the run)."""
    out = {}
    for name, records in loaded:
        base, rounds = None, {}
        for rec in records:
            p = rec.get("pass_at")
            if not isinstance(p, dict):
                continue
            if rec.get("kind") == "eval" and rec.get("final"):
                base = p
            elif rec.get("kind") == "round" and isinstance(rec.get("round"), int):
                arm = str(rec.get("arm", "?"))
                rounds.setdefault(CONTROL_ARMS.get(arm, arm), {})[rec["round"]] = p
        for arm, by_round in rounds.items():
            if base is not None:
                by_round.setdefault(0, base)
            out[(name, arm)] = by_round
    return out


def per_run_lines(runs):
    """One line set per run: {label: {metric: (rounds, values)}}."""
    several = len({name for name, _, _ in runs}) > 1
    lines = {}
    for name, arm, by_round in runs:
        rounds = sorted(by_round)
        recs = [by_round[r] for r in rounds]
        lines[f"{name}: {arm}" if several else arm] = {
            "greedy": (rounds, [greedy_value(r.get("greedy")) for r in recs], None),
            "J_f": (rounds, [number(r, "J_f") for r in recs], None),
            "J_filtered": (rounds, [number(r, "J_filtered") for r in recs], None),
            "gap": (rounds, [number(r, "gap") for r in recs], None),
        }
    return lines


def per_arm_lines(runs):
    """Runs grouped by arm: the mean per round over the runs that reached it, and the band
    (lowest, highest)."""
    grouped = {}
    for _, arm, by_round in runs:
        grouped.setdefault(arm, []).append(by_round)
    lines = {}
    for arm, members in grouped.items():
        label = f"{arm} (mean of {len(members)})"
        lines[label] = {}
        for metric, get in (("greedy", lambda r: greedy_value(r.get("greedy"))), ("gap", lambda r: number(r, "gap"))):
            rounds = sorted({r for m in members for r in m})
            mean, lo, hi = [], [], []
            for r in rounds:
                vals = [get(m[r]) for m in members if r in m and not math.isnan(get(m[r]))]
                mean.append(sum(vals) / len(vals) if vals else math.nan)
                lo.append(min(vals) if vals else math.nan)
                hi.append(max(vals) if vals else math.nan)
            lines[label][metric] = (rounds, mean, (lo, hi))
    return lines


def main():
    parser = argparse.ArgumentParser(description="Plot accuracy and GV-gap per round.")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("runs", nargs="+", help="run directories (each with metrics.jsonl)")
    args = parser.parse_args()

    loaded = load_runs(args.runs)
    runs = collect(loaded)
    if not runs:
        print("plot_gap: no round records in " + ", ".join(args.runs), file=sys.stderr)
        return 2
    plt = pyplot("plot_gap")
    if plt is None:
        return 3

    arms = [arm for _, arm, _ in runs]
    study = len(runs) > 4 and len(set(arms)) < len(arms)
    lines = per_arm_lines(runs) if study else per_run_lines(runs)
    styles = {"greedy": "-o", "J_f": "--s", "J_filtered": ":^"}
    pass_at = collect_pass_at(loaded)
    panels = 3 if pass_at else 2
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5 + 0.25 * len(lines)))
    ax_acc, ax_gap = axes[0], axes[1]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, metrics) in enumerate(sorted(lines.items())):
        colour = colours[i % len(colours)]
        for metric, (rounds, values, band) in metrics.items():
            ax = ax_gap if metric == "gap" else ax_acc
            name = label if metric == "gap" else f"{label}: {metric}"
            ax.plot(rounds, values, styles.get(metric, "-o"), color=colour,
                    alpha=1.0 if metric in ("greedy", "gap") else 0.8, label=name)
            if band:
                ax.fill_between(rounds, band[0], band[1], color=colour, alpha=0.15, linewidth=0)

    ax_acc.set_title("held-out greedy accuracy per round" if study else "accuracy per round")
    ax_acc.set_xlabel("round")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(-0.02, 1.02)
    ax_acc.grid(alpha=0.3)
    # Legends below the panels: inside, a study's many lines would cover the data.
    ax_acc.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1)
    ax_gap.set_title("GV-gap = J(f[w(u_f)]) - J(f)")
    ax_gap.set_xlabel("round")
    ax_gap.set_ylabel("gap")
    ax_gap.axhline(0.0, color="grey", linewidth=0.8)
    ax_gap.grid(alpha=0.3)
    ax_gap.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1)
    if pass_at:
        ax_pass = axes[2]
        several = len({name for name, _ in pass_at}) > 1
        markers = "os^vDx*+"
        for i, ((name, arm), by_round) in enumerate(sorted(pass_at.items())):
            colour = colours[i % len(colours)]
            ks = sorted({int(k) for p in by_round.values() for k in p})
            for j, k in enumerate(ks):
                rounds = sorted(r for r in by_round if str(k) in by_round[r])
                ax_pass.plot(rounds, [by_round[r][str(k)] for r in rounds], "-" + markers[j % len(markers)],
                             color=colour, alpha=1.0 - 0.6 * j / max(1, len(ks)),
                             label=f"{name}: {arm}: pass@{k}" if several else f"{arm}: pass@{k}")
        ax_pass.set_title("pass@k on held-out prompts per round")
        ax_pass.set_xlabel("round")
        ax_pass.set_ylabel("pass@k")
        ax_pass.set_ylim(-0.02, 1.02)
        ax_pass.grid(alpha=0.3)
        ax_pass.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1)
    for ax in axes:
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
