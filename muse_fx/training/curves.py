"""Loss curves: every logged value appended to a CSV, and redrawn as a PNG (one panel per quantity)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from muse_fx.io.atomic import atomic_path


class CurveLog:
    def __init__(self, folder: Path):
        self.csv = folder / "losses.csv"
        self.png = folder / "losses.png"
        if not self.csv.exists():
            self.csv.write_text("step,split,name,value\n")

    def log(self, step: int, split: str, values: dict[str, float]) -> None:
        with open(self.csv, "a", newline="") as f:
            writer = csv.writer(f)
            for name, value in values.items():
                writer.writerow([step, split, name, f"{value:.6g}"])

    def drop_after(self, step: int) -> None:
        """Forget the rows logged after `step` (and one a kill cut short): a resumed run trains them again."""
        with open(self.csv, newline="") as f:
            header, *rows = list(csv.reader(f))
        kept = [row for row in rows if len(row) == len(header) and int(row[0]) <= step]
        if len(kept) < len(rows):
            with atomic_path(self.csv) as tmp, open(tmp, "w", newline="") as f:
                csv.writer(f).writerows([header, *kept])

    def plot(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        series: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
        with open(self.csv, newline="") as f:
            for row in csv.DictReader(f):
                series[row["name"]][row["split"]].append((int(row["step"]), float(row["value"])))
        if not series:
            return
        fig, axes = plt.subplots(len(series), 1, figsize=(8, 2.2 * len(series)), squeeze=False)
        for ax, (name, splits) in zip(axes[:, 0], sorted(series.items())):
            for split, points in splits.items():
                ax.plot(*zip(*points), label=split, marker="." if split == "validation" else None)
            ax.set_ylabel(name, fontsize=8)
            ax.legend(fontsize=7)
        axes[-1, 0].set_xlabel("step")
        fig.tight_layout()
        fig.savefig(self.png, dpi=80)
        plt.close(fig)
