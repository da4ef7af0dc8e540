"""One table of figures and ratios, printed at the end of the run."""

from __future__ import annotations

import statistics

__all__ = ["Table", "median", "p95"]


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        print(f"  .. {text}", flush=True)
        self.notes.append(text)

    def row(self, label: str, figures: str, ratio: str = "", goal: str = "", verdict: str = "") -> None:
        print(f"  {label}: {figures} {ratio} {verdict}", flush=True)
        self.rows.append((label, figures, ratio, goal, verdict))

    def print(self) -> None:
        headers = ("measurement", "figures", "ratio", "goal", "")
        widths = [max(len(str(r[i])) for r in [headers, *self.rows]) for i in range(5)]
        line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
        print()
        print(line)
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for r in self.rows:
            print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
        print()
