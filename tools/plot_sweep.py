#!/usr/bin/env python3
"""Draws sweep.png from a `mindgap sweep` directory.

usage: plot_sweep.py --out sweep.png SWEEP_DIR

SWEEP_DIR holds sweep.jsonl (a row per shape x step x method, with "flops" and
"relative_gap") and sweep_fit.jsonl (per method the least-squares line of relative gap on
log10 FLOPs: "slope", "intercept", "r2"). One colour per method: its points, and its fitted
line over the FLOPs it spans, with the slope and R^2 in the legend. The fit is mindgap's own
(trainers/sweep.cpp); this script only draws it.
Exit codes: 0 drawn, 2 bad arguments or no rows, 3 matplotlib missing.
"""
import argparse
import math
import os
import sys

from plot_support import pyplot, read_jsonl  # beside this script


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("sweep_dir")
    args = parser.parse_args()
    try:
        rows = read_jsonl(os.path.join(args.sweep_dir, "sweep.jsonl"))
        fits = {r["method"]: r for r in read_jsonl(os.path.join(args.sweep_dir, "sweep_fit.jsonl"))}
    except (OSError, ValueError) as e:
        print("plot_sweep: " + str(e), file=sys.stderr)
        return 2
    if not rows:
        print("plot_sweep: no rows in sweep.jsonl", file=sys.stderr)
        return 2
    plt = pyplot("plot_sweep")
    if plt is None:
        return 3

    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, m in enumerate(methods):
        colour = "C%d" % i
        pts = [(r["flops"], r["relative_gap"]) for r in rows
               if r["method"] == m and r.get("relative_gap") is not None and r.get("flops")]
        label = m
        fit = fits.get(m)
        if fit and fit.get("slope") is not None:
            r2 = fit.get("r2")
            label += "  slope %+.3f/decade, R² %s" % (fit["slope"], "-" if r2 is None else "%.2f" % r2)
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=colour, s=18, label=label)
        if fit and fit.get("slope") is not None and len(pts) > 1:
            lo = math.log10(min(p[0] for p in pts))
            hi = math.log10(max(p[0] for p in pts))
            xs = [lo + (hi - lo) * k / 20 for k in range(21)]
            ax.plot([10 ** x for x in xs], [fit["intercept"] + fit["slope"] * x for x in xs], color=colour, lw=1.2)
    ax.set_xscale("log")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("pretraining FLOPs")
    ax.set_ylabel("relative gap  (J(f[w]) - J(f)) / (1 - J(f))")
    ax.set_title("generation-verification gap against pretraining compute")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
