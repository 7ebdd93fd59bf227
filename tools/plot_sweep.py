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
import math
import os
import sys

from plot_support import methods_in_order, plot_main, read_jsonl  # beside this script


def read(args):
    rows = read_jsonl(os.path.join(args.sweep_dir, "sweep.jsonl"))
    fits = {r["method"]: r for r in read_jsonl(os.path.join(args.sweep_dir, "sweep_fit.jsonl"))}
    return rows, fits


def draw(plt, rows, fits):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, m in enumerate(methods_in_order(rows)):
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
    return fig, ax


if __name__ == "__main__":
    sys.exit(plot_main("plot_sweep", __doc__, "sweep_dir", read, lambda args: "sweep.jsonl", draw))
