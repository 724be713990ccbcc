"""What a conversion reports besides its output: the error that stops it, malformed lines, notes."""

import sys
from dataclasses import dataclass, field
from pathlib import Path

from recbole_fame.errors import RecBoleFameError

#: Malformed lines printed per input file before the rest are only counted.
MAX_WARNINGS_SHOWN = 20


class PrepareError(RecBoleFameError):
    """An input that cannot be converted at all (missing, empty, wrong columns, nothing left).

    The message names the file and what was expected; the command-line tool prints it
    without a traceback and exits with status 2.
    """


class LineIssues:
    """Counts and reports malformed lines of one input file as ``file:line: reason`` warnings."""

    def __init__(self, path, max_shown=MAX_WARNINGS_SHOWN):
        self.path = Path(path)
        self.max_shown = max_shown
        self.count = 0

    def warn(self, line_number, reason):
        """Report one malformed line (printed to stderr while fewer than ``max_shown``)."""
        self.count += 1
        if self.count <= self.max_shown:
            print(f"warning: {self.path}:{line_number}: {reason}; line skipped", file=sys.stderr)

    def finish(self):
        """Say how many warnings were not printed, if any."""
        hidden = self.count - self.max_shown
        if hidden > 0:
            print(f"warning: {self.path}: {hidden:,} more malformed lines not shown", file=sys.stderr)


@dataclass
class Report:
    """What a conversion tells the user besides the statistics line."""

    notes: list = field(default_factory=list)
    issues: list = field(default_factory=list)

    def note(self, text):
        """Keep one line for the summary."""
        self.notes.append(text)

    def track(self, path):
        """A new :class:`LineIssues` for ``path``, counted in the summary."""
        issues = LineIssues(path)
        self.issues.append(issues)
        return issues

    @property
    def malformed(self):
        """Total number of skipped malformed lines."""
        return sum(issues.count for issues in self.issues)

    def summary_lines(self):
        """The notes plus one line per input file that had malformed lines."""
        lines = list(self.notes)
        for issues in self.issues:
            issues.finish()
            if issues.count:
                lines.append(f"skipped {issues.count:,} malformed lines in {issues.path}")
        return lines
