"""Tune a FAME or RecBole model with hyperopt or Ray Tune, as RecBole's own run_hyper.py does.

    python run_hyper.py --model=FAME --dataset=ml-100k --params_file=properties/hyper/FAME.hyper

As RecBole's own ``run_hyper.py``: ``--config_files`` (space-separated yaml files), ``--params_file`` (the
search space, one ``name type values`` line per parameter), ``--output_file`` (RecBole's text export) and
``--tool`` (``Hyperopt`` or ``Ray``). Added: ``--model``, ``--dataset``, ``--algo`` (``exhaustive``,
``random`` or ``bayes``), ``--max_evals`` (trials of random/bayes search; for exhaustive a cap on the
grid's points, e.g. ``--max_evals=4`` of FAME.hyper's 30), ``--early_stop`` (stop after
that many trials without improvement; default: never, so an exhaustive grid always runs in full) and any
RecBole setting as ``--key=value`` (e.g. ``--epochs=15``), fixed for every trial.

Besides the text export, a JSON file of ``{params, best_valid_score, best_valid_result, test_result}`` per
trial is written next to it (``x.result`` -> ``x.json``; see :func:`recbole_fame.tuning.output_paths`) and
refreshed after every trial. ``benchmarks/plot_sweeps.py`` draws the paper's Figures 5 and 6 from it.

Exit status: 0 on success, 2 (one message, no traceback) for a bad params file, setting, tool or algorithm, 130
after Ctrl-C (one line; the finished trials are kept).
"""

import argparse
import sys

from recbole_fame.errors import RecBoleFameError
from recbole_fame.runner.settings import refuse_unknown_command_line_settings
from recbole_fame.tuning import ALGOS, TOOLS, extra_settings, output_paths, run_tuning


def build_parser():
    """The argument parser; unknown ``--key=value`` arguments are RecBole settings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--model", "-m", default="FAME", help="FAME or any RecBole model name (default: %(default)s)")
    parser.add_argument("--dataset", "-d", default="ml-100k", help="dataset name (default: %(default)s)")
    parser.add_argument("--config_files", default=None, help="space-separated yaml files, fixed for every trial")
    parser.add_argument("--params_file", default="properties/hyper/FAME.hyper",
                        help="search space (default: %(default)s)")
    parser.add_argument("--output_file", default="hyper_example.result",
                        help="RecBole's text export; the JSON goes beside it (default: %(default)s)")
    parser.add_argument("--tool", default="Hyperopt", choices=TOOLS, help="Hyperopt (RecBole's HyperTuning) or Ray")
    parser.add_argument("--algo", default="exhaustive", choices=ALGOS, help="search algorithm (default: %(default)s)")
    parser.add_argument("--max_evals", type=int, default=None,
                        help="trials of random/bayes search (default: 100); with exhaustive, at most this many "
                             "points of the grid (default: all; the shipped FAME.hyper is 30 full trainings)")
    parser.add_argument("--early_stop", type=int, default=None,
                        help="Hyperopt: stop after this many trials without improvement (default: never)")
    return parser


def main(argv=None):
    """Parse the arguments and tune; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args, rest = build_parser().parse_known_args(argv)
    saved_argv = sys.argv
    sys.argv = sys.argv[:1]  # settings reach RecBole's Config through the fixed dict, not the command line
    try:
        settings = extra_settings(rest)
        refuse_unknown_command_line_settings(settings)
        config_files = args.config_files.strip().split() if args.config_files else None
        run_tuning(args.model, args.dataset, args.params_file, args.output_file, tool=args.tool, algo=args.algo,
                   max_evals=args.max_evals, early_stop=args.early_stop, config_file_list=config_files,
                   settings=settings)
    except RecBoleFameError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line, the finished trials are on disk
        print(f"interrupted: the trials finished so far are in {' and '.join(output_paths(args.output_file))}",
              file=sys.stderr)
        return 130
    finally:
        sys.argv = saved_argv
    return 0


if __name__ == "__main__":
    sys.exit(main())
