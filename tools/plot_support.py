"""What the plot scripts (plot_gap.py, plot_sweep.py, plot_testtime.py) share: reading the JSONL
files mindgap writes, matplotlib set to draw into files, and the frame of a script that draws
one figure from one input. Imported from beside them."""
import argparse
import json
import sys


def read_jsonl(path, skip_broken=False):
    """The JSON objects of a JSONL file, in order. A line that is not a whole JSON object raises
    ValueError, or with skip_broken (a file a killed run may have cut short) is left out."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                if skip_broken:
                    continue
                raise
            if isinstance(row, dict):
                rows.append(row)
            elif not skip_broken:
                raise ValueError(f"{path}: a line is not a JSON object")
    return rows


def pyplot(tool):
    """matplotlib.pyplot drawing into files, or None after saying that matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display on a training machine
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"{tool}: matplotlib is not installed for {sys.executable}", file=sys.stderr)
        return None
    return plt


def methods_in_order(rows):
    """The rows' "method" values, each once, in the order they first appear."""
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    return methods


def plot_main(tool, doc, input_name, read, source, draw):
    """A script that draws one figure: --out and one input argument (input_name); read(args)
    gives (rows, extra), exit 2 when it cannot or there are no rows (source(args) names where
    they were looked for); exit 3 without matplotlib; draw(plt, rows, extra) gives (fig, ax),
    whose legend is added before the figure is written to --out. Returns the exit code."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument(input_name)
    args = parser.parse_args()
    try:
        rows, extra = read(args)
    except (OSError, ValueError) as e:
        print(tool + ": " + str(e), file=sys.stderr)
        return 2
    if not rows:
        print(tool + ": no rows in " + source(args), file=sys.stderr)
        return 2
    plt = pyplot(tool)
    if plt is None:
        return 3
    fig, ax = draw(plt, rows, extra)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    return 0
