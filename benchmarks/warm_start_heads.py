"""How much a head-count mismatch changed the old warm start: the hidden states entering FAME's last layer,
warm-started from a SASRecSeq checkpoint with FAME's n_heads set to 2 and to 4, against SASRecSeq's own.

    python -m benchmarks.warm_start_heads --checkpoint=saved/beauty/SASRecSeq-....pth --dataset=amazon-beauty

(The warm start now refuses a checkpoint with other n_heads; the check is bypassed here on purpose.)
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.warm_start_heads")

import argparse
import sys

import torch

from recbole_fame import FAME, Config, SASRecSeq, create_dataset, data_preparation
from recbole_fame.storage.checkpoint import load_recbole_checkpoint
from recbole_fame.model import warm_start


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a SASRecSeq checkpoint (in ./saved)")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--heads", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()
    sys.argv = sys.argv[:1]
    checkpoint = load_recbole_checkpoint(args.checkpoint, {"checkpoint_dir": "saved", "trust_checkpoint": False})
    checkpoint["config"]["train_mode"] = "prefix"  # evaluation only
    warm_start._differences = lambda *unused: []  # let other head counts through
    test_data = None
    for heads in args.heads:
        config = Config(model="FAME", dataset=args.dataset,
                        config_dict={"pretrained_path": args.checkpoint, "n_heads": heads, "state": "ERROR",
                                     "train_mode": "prefix"})
        if test_data is None:
            test_data = data_preparation(config, create_dataset(config))[2]
            batch = next(iter(test_data))[0]
        fame, sasrec = FAME(config, test_data._dataset).eval(), SASRecSeq(checkpoint["config"], test_data._dataset)
        sasrec.load_state_dict(checkpoint["state_dict"])
        sasrec.eval()
        captured = {}
        fame.moe_attention.register_forward_hook(lambda m, a, o: captured.update(fame=a[0]))
        sasrec.trm_encoder.layer[-1].register_forward_hook(lambda m, a, o: captured.update(sasrec=a[0]))
        with torch.no_grad():
            fame.encode(batch[fame.ITEM_SEQ], batch[fame.ITEM_SEQ_LEN])
            sasrec(batch[fame.ITEM_SEQ], batch[fame.ITEM_SEQ_LEN])
        length = captured["fame"].shape[1]
        reference = captured["sasrec"][:, :length]
        change = ((captured["fame"] - reference).norm() / reference.norm()).item()
        print(f"FAME n_heads={heads} from SASRecSeq n_heads={checkpoint['config']['n_heads']}: relative change "
              f"of the hidden states entering the last layer {change:.4f} ({len(batch)} test users)")


if __name__ == "__main__":
    main()
