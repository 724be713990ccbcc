"""What the efficient-mode timings (eval_time, flop_rate, fast_path) share: their dataset arguments and the
settings of the mode they time; and, for every tool that reports its own command, the reading of the command line."""

import sys


def add_efficient_mode_arguments(parser):
    """--dataset, --data_path and --train_batch_size (sequences per batch; 44 Beauty sequences hold ~256 targets)."""
    parser.add_argument("--dataset", default="amazon-beauty")
    parser.add_argument("--data_path", default="dataset/")
    parser.add_argument("--train_batch_size", type=int, default=44)


def efficient_mode_settings(model_name, args):
    """The efficient mode: sequence mode, length bucketing, --train_batch_size sequences per batch; FAME with
    H = 4 and N = 4, other models with RecBole's 2 heads; seed 2020, no logs or progress bars."""
    return {
        "data_path": args.data_path, "train_mode": "sequence", "length_bucketing": True,
        "train_batch_unit": "sequences", "state": "ERROR", "train_batch_size": args.train_batch_size,
        "show_progress": False, "seed": 2020, "n_heads": 4 if model_name == "FAME" else 2, "num_experts": 4,
    }


def parse_command_line(parser):
    """The parsed arguments and the command as typed (``parser.prog`` and the arguments, for the report); then
    the command line is emptied, since RecBole's Config reads --key=value from it."""
    args = parser.parse_args()
    command = " ".join([parser.prog] + sys.argv[1:])
    sys.argv = sys.argv[:1]
    return args, command
