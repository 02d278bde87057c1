"""Fit time of ``encoder="fcn"`` against the plain-PyTorch FCN twin, repeated.

``bench_sequence_classification.py`` times each model once, so a fit-time
ratio near one is within its noise. Here the two fit the same training
split in turns, ``--repeats`` times each in one process (twin, ours, twin,
ours, ...), and the table gives each one's median fit CPU-seconds
(``time.process_time``, one torch thread) and the ratio of the medians.
Both train for the epochs that the estimators' ``"auto"`` rules resolve
for the set, times ``--fraction`` (the per-epoch cost is what is compared;
a fraction keeps a run of all eight sets short): the twin on the same
batch size, with the published plateau schedule and per-series
z-normalisation of univariate series, as in ``bench_sequence_classification.py``.
Accuracy is not scored.

Run (needs ``pip install aeon``)::

    python benchmarks/bench_fcn_fit_time.py --fraction 0.2 --repeats 3
"""

import argparse
import time

import numpy as np
import torch
from _fcn_twin import steps_first
from bench_sequence_classification import (
    SERIES,
    FCNTwin,
    load_series,
    recipe_batches,
)

from sk_attention import AttentionPoolingClassifier


def fit_times(name, fraction, repeats, seed):
    """``{model: [fit CPU-s, ...]}`` of both models on ``name``'s training split."""
    X, y, _, _ = load_series(name)
    _, epochs = recipe_batches(steps_first(X))
    epochs = max(1, round(fraction * epochs))
    fits = {
        "FCN twin (PyTorch)": FCNTwin(seed, max_epochs=epochs),
        'encoder="fcn"': AttentionPoolingClassifier(
            encoder="fcn", input_layout="channels_first", max_epochs=epochs,
            random_state=seed,
        ),
    }
    times = {model: [] for model in fits}
    for _ in range(repeats):
        for model, estimator in fits.items():
            start = time.process_time()
            estimator.fit(X, y)
            times[model].append(time.process_time() - start)
    return epochs, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="*", default=list(SERIES))
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="share of the recipe's epochs to train")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch threads: 1; seed: {args.seed}; {args.fraction:g} of the "
          f"recipe's epochs; fit CPU-s, median of {args.repeats} in turns")
    print(f"\n{'set':24} {'epochs':>6} {'twin':>8} {'ours':>8} {'ours/twin':>9}"
          "  ours/twin of each turn")
    for name in args.datasets:
        epochs, times = fit_times(name, args.fraction, args.repeats, args.seed)
        twin, ours = (np.median(values) for values in times.values())
        turns = " ".join(
            f"{o / t:.2f}" for t, o in zip(*times.values())
        )
        print(f"{name:24} {epochs:6d} {twin:8.2f} {ours:8.2f} {ours / twin:9.2f}"
              f"  {turns}", flush=True)


if __name__ == "__main__":
    main()
