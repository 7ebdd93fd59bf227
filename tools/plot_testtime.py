#!/usr/bin/env python3
"""Draws a test-time curve from `mindgap testtime`'s rows.

usage: plot_testtime.py --out testtime.png TESTTIME.jsonl

Each row has "method", "n" and "accuracy": the held-out accuracy of the answer the method
picks among n samples. One line per method against n on a log2 axis; `none` (a random one of
the n) and `oracle` (pass@n) are drawn dashed, as the floor and the ceiling.
Exit codes: 0 drawn, 2 bad arguments or no rows, 3 matplotlib missing.
"""
import sys

from plot_support import methods_in_order, plot_main, read_jsonl  # beside this script


def draw(plt, rows, _):
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for i, m in enumerate(methods_in_order(rows)):
        pts = sorted((r["n"], r["accuracy"]) for r in rows if r["method"] == m)
        control = m in ("none", "oracle")
        label = {"none": "none (a random sample)", "oracle": "oracle (pass@N)"}.get(m, m)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, lw=1.2,
                ls="--" if control else "-", color="grey" if m == "none" else "black" if m == "oracle" else "C%d" % i,
                label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (samples per prompt)")
    ax.set_ylabel("held-out accuracy of the answer picked")
    ax.set_title("best-of-N by self-verification (round %d)" % rows[0].get("round", 0))
    return fig, ax


if __name__ == "__main__":
    sys.exit(plot_main("plot_testtime", __doc__, "rows", lambda args: (read_jsonl(args.rows), None),
                       lambda args: args.rows, draw))
