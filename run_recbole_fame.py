"""Train and test a FAME or RecBole model: ``python run_recbole_fame.py --model=FAME --dataset=ml-100k``.

Every RecBole setting can be given as ``--key=value`` (read by RecBole's Config) or in yaml files through
``--config_files="a.yaml b.yaml"``. ``--nproc``, ``--world_size``, ``--ip``, ``--port`` and ``--group_offset``
start RecBole's distributed training as in RecBole's own ``run_recbole.py``.

Exit status: 0 on success, 2 (one ``error:`` line) for bad input, 130 after Ctrl-C (one line: the epoch, and
``--resume_from=...`` when the last epoch's state was kept).
"""

import argparse
import sys

from recbole_fame import run
from recbole_fame.errors import RecBoleFameError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", "-m", type=str, default="FAME", help="FAME or any RecBole model name")
    parser.add_argument("--dataset", "-d", type=str, default="ml-100k", help="dataset name")
    parser.add_argument("--config_files", type=str, default=None, help="space-separated yaml files")
    parser.add_argument("--nproc", type=int, default=1, help="processes on this machine")
    parser.add_argument("--ip", type=str, default="localhost", help="address of the rank-0 machine")
    parser.add_argument("--port", type=str, default="5678", help="port of the rank-0 machine")
    parser.add_argument("--world_size", type=int, default=-1, help="processes on all machines")
    parser.add_argument("--group_offset", type=int, default=0, help="rank of this machine's first process")
    args, _ = parser.parse_known_args(argv)
    config_file_list = args.config_files.strip().split(" ") if args.config_files else None
    try:
        run(args.model, args.dataset, config_file_list=config_file_list, nproc=args.nproc,
            world_size=args.world_size, ip=args.ip, port=args.port, group_offset=args.group_offset)
    except RecBoleFameError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:  # Ctrl-C: one line (TrainingInterrupted says how to resume)
        print(str(interrupt) or "interrupted before training: nothing was trained", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
