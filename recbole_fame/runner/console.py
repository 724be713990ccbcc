"""What a run shows on the console: progress, the epochs' scores, warnings, and a short summary at the end.

RecBole's ``init_logger`` sends everything to both the console and ``./log/<model>/<...>.log``: the whole
configuration, the dataset's statistics, the model's structure and Python's warnings come before the first
epoch, and the test result is one line of an ``OrderedDict``. With ``console: brief`` (the plugin's default)
the console keeps the progress bars (``show_progress``), one line per epoch's training and evaluation,
warnings and errors of the run, and ends with :func:`summary_text`; the log file keeps everything.
``console: full`` is RecBole's console.
"""

import logging
import math
import re
import warnings
from contextlib import contextmanager

CONSOLE_MODES = ("brief", "full")
# RecBole's epoch lines: "epoch 3 training [time: ..., train loss: ...]", "epoch 3 evaluating [...]"
_EPOCH_LINE = re.compile(r"^epoch \d+ (training|evaluating) \[")
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class BriefConsoleFilter(logging.Filter):
    """Lets through the console what a user watches a run for; the log file is not filtered."""

    def filter(self, record):
        if record.name == "py.warnings":  # library deprecations: in the log file
            return False
        if record.levelno >= logging.WARNING:
            return True
        return bool(_EPOCH_LINE.match(_COLOUR.sub("", record.getMessage())))


def console_handlers():
    """The root logger's handlers that write to the terminal (RecBole's StreamHandler, not its FileHandler)."""
    return [h for h in logging.getLogger().handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]


def log_file():
    """The file RecBole's ``init_logger`` writes, or None."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return None


@contextmanager
def brief_console(config):
    """Filter the console for the run (``console: brief``); Python's warnings go to the log file meanwhile."""
    mode = config["console"] or "brief"
    if mode not in CONSOLE_MODES:
        from recbole_fame.errors import ConfigurationError

        raise ConfigurationError(f"console must be one of {CONSOLE_MODES}, got {mode!r}")
    if mode == "full":
        yield False
        return
    console_filter = BriefConsoleFilter()
    handlers = console_handlers()
    for handler in handlers:
        handler.addFilter(console_filter)
    logging.captureWarnings(True)
    try:
        yield True
    finally:
        logging.captureWarnings(False)
        for handler in handlers:
            handler.removeFilter(console_filter)


@contextmanager
def each_warning_once():
    """Show each warning (message, category and place) once while inside, however often it is raised.

    Python shows a warning once per place by default, but forgets it whenever the warning filters change, and
    libraries change them in every trial of a tuning run (``catch_warnings`` blocks); its "once" filter forgets the
    same way. Here ``warnings.showwarning`` itself skips what it has shown (filters, -W options and capture by
    logging are as they were)."""
    shown, original = set(), warnings.showwarning

    def show_once(message, category, filename, lineno, file=None, line=None):
        key = (str(message), category, filename, lineno)
        if key not in shown:
            shown.add(key)
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show_once
    try:
        yield
    finally:
        warnings.showwarning = original


def number(value):
    """A metric as a plain number (numpy and torch scalars included), four decimals."""
    value = float(value.item() if hasattr(value, "item") else value)
    return "nan" if math.isnan(value) else f"{value:.4f}"


def metrics_table(result):
    """``{"hit@5": 0.05, "ndcg@5": ...}`` as rows of metrics and columns of cut-offs (metrics without a
    cut-off get their own rows)."""
    cutoffs, rows, plain = [], {}, {}
    for key, value in result.items():
        name, _, k = str(key).partition("@")
        if k:
            if k not in cutoffs:
                cutoffs.append(k)
            rows.setdefault(name, {})[k] = number(value)
        else:
            plain[name] = number(value)
    cutoffs.sort(key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
    width = max([len(name) for name in list(rows) + list(plain)] + [6])
    lines = []
    if rows:
        lines.append("  " + "".ljust(width) + "".join(f"{'@' + k:>9}" for k in cutoffs))
        for name, values in rows.items():
            lines.append("  " + name.ljust(width) + "".join(f"{values.get(k, '-'):>9}" for k in cutoffs))
    for name, value in plain.items():
        lines.append("  " + name.ljust(width) + f"{value:>9}")
    return "\n".join(lines)


def result_names(model):
    """``(valid, test)``: what a model's validation score and test result measure. A model whose results are
    not a recommender's validation metric and test ranking names them in ``result_names`` (FAMETextPretrain)."""
    from recbole_fame.runner.registry import get_model

    try:
        names = getattr(get_model(model), "result_names", None) or {}
    except Exception:  # an unknown name: RecBole's meaning
        names = {}
    return names.get("valid"), names.get("test")


def summary_text(result, config, log_path=None):
    """The end of a run: the test metrics, the best epoch, the checkpoint and the log file."""
    valid_name, test_name = result_names(result["model"])
    valid_name = valid_name or f"validation {config['valid_metric'] or 'score'}"
    best_epoch, epochs = result.get("best_epoch"), result.get("epochs")
    lines = [f"{result['model']} on {config['dataset']}: best {valid_name} "
             f"{number(result['best_valid_score'])} at epoch {best_epoch} (epochs 0-{epochs - 1} trained, "
             f"{result['seconds_per_epoch']:.1f} s per epoch)"]
    source = "the best validation checkpoint" if result.get("saved_model_file") else "the last epoch's model"
    lines.append(f"{test_name or 'test result'} ({source}):")
    lines.append(metrics_table(result["test_result"]))
    if result.get("saved_model_file"):
        lines.append(f"best checkpoint: {result['saved_model_file']}")
    if result.get("last_checkpoint_file"):
        lines.append(f"last-epoch state (--resume_from): {result['last_checkpoint_file']}")
    if log_path:
        lines.append(f"full log: {log_path}")
    return "\n".join(lines)
