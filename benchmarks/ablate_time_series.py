"""What the FCN recipe owes to each ingredient: one change at a time.

Starting from the plain-PyTorch FCN twin (``_fcn_twin.py``: per-series
z-normalisation, conv 128/k8 -> 256/k5 -> 128/k3 with BatchNorm, global
average pooling, no dropout, Adam 1e-3 halved on a training-loss plateau,
batch ``min(n // 10, 16)``, lowest-training-loss weights kept), each variant
turns one ingredient into what ``encoder="conv"`` did before this
comparison, and the last one trains that network itself in the same loop;
"cosine learning rate" is the schedule the estimators use now (a cosine to
zero over the epochs of the largest ``--updates``, so only its last column
is the end of a schedule), and "cosine, series and global scaling" adds
the input they give univariate series (``scaling="series_and_global"``).
Scoring: accuracy on the standard test split of aeon's bundled sets, for
the weights the recipe would return after each number of updates (one
training run per variant and set); CPU seconds (``time.process_time``) of
the whole run, one torch thread, seed ``--seed``.

Run::

    python benchmarks/ablate_time_series.py --datasets ArrowHead GunPoint
"""

import argparse
import time

import numpy as np
import torch
from _fcn_twin import fit_fcn, predict_fcn, steps_first
from sklearn.preprocessing import LabelEncoder

VARIANTS = {
    "twin (FCN recipe)": {},
    "width 64": {"width": 64},
    "width 128": {"width": 128},
    "no normalisation layer": {"norm": None},
    "LayerNorm per step": {"norm": "layer"},
    "attention pooling": {"pool": "attention"},
    "attention pooling from average": {"pool": "attention from average"},
    "attention and average pooling": {"pool": "both"},
    "scaled-dot attention pooling": {"pool": "dot"},
    "scaled-dot attention from average": {"pool": "dot from average"},
    "dropout 0.2": {"dropout": 0.2},
    "global scaling": {"znorm": False},
    "constant lr, last weights": {"schedule": None, "keep_best": False},
    "cosine learning rate": {"schedule": "cosine"},
    "cosine, series and global scaling": {"schedule": "cosine", "levels": True},
    "batch 32": {"batch_size": 32},
    "earlier conv network": {"norm": "ours", "width": 64},
    "earlier conv network, dropout 0.2": {"norm": "ours", "dropout": 0.2},
}


def load(name):
    import aeon.datasets

    X_train, y_train = aeon.datasets.load_classification(name, split="train")
    X_test, y_test = aeon.datasets.load_classification(name, split="test")
    labels = LabelEncoder().fit(y_train)
    return (steps_first(X_train), labels.transform(y_train),
            steps_first(X_test), labels.transform(y_test))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="*", default=["ArrowHead", "GunPoint"])
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--updates", type=int, nargs="*",
                        default=[500, 1000, 2000, 4000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=128,
                        help="the twin's base width (128: 128/256/128)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    milestones = sorted(args.updates)
    print(f"seed {args.seed}; test accuracy after {milestones} updates; CPU-s")
    for name in args.datasets:
        X_train, y_train, X_test, y_test = load(name)
        print(f"\n{name}: {len(X_train)} train / {len(X_test)} test")
        for variant in args.variants:
            params = {"width": args.width, **VARIANTS[variant]}
            znorm = params.get("znorm", True)

            def evaluate(model, znorm=znorm):
                return float(np.mean(predict_fcn(model, X_test, znorm) == y_test))

            start = time.process_time()
            _, curve = fit_fcn(X_train, y_train, updates=milestones[-1],
                               seed=args.seed, evaluate=evaluate,
                               milestones=milestones, **params)
            seconds = time.process_time() - start
            accuracies = " ".join(f"{value:.3f}" for _, value in curve)
            print(f"  {variant:<36} {accuracies}  {seconds:7.1f} CPU-s",
                  flush=True)


if __name__ == "__main__":
    main()
