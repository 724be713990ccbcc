"""The size of a converted dataset, as in the FAME paper's Table 1."""

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Stats:
    """Size of a converted dataset, as in the FAME paper's Table 1."""

    name: str
    users: int
    items: int
    actions: int
    inter_path: Path = None
    item_path: Path = None
    malformed: int = 0

    @property
    def avg_length(self):
        """Mean number of actions per user."""
        return self.actions / self.users if self.users else 0.0

    @property
    def density(self):
        """Share of the user x item matrix that is filled, in percent."""
        cells = self.users * self.items
        return 100.0 * self.actions / cells if cells else 0.0

    def line(self, label=None):
        """``Beauty | 22,363 users | 12,101 items | 198,502 actions | avg.length 8.9 | density 0.07%``."""
        return (
            f"{label or self.name} | {self.users:,} users | {self.items:,} items | "
            f"{self.actions:,} actions | avg.length {self.avg_length:.1f} | density {self.density:.2f}%"
        )
