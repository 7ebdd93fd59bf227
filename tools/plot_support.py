"""What the plot scripts (plot_gap.py, plot_sweep.py, plot_testtime.py) share: reading the JSONL
files mindgap writes, and matplotlib set to draw into files. Imported from beside them."""
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
