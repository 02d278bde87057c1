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
import math
import time

import numpy as np
import torch
from _fcn_twin import fit_fcn, steps_first
from bench_sequence_classification import SERIES, load_series
from sklearn.preprocessing import LabelEncoder

from sk_attention import AttentionPoolingClassifier
from sk_attention._pooling._recipe import series_batch_size, series_max_epochs


def fit_times(name, fraction, repeats, seed):
    """``{model: [fit CPU-s, ...]}`` of both models on ``name``'s training split."""
    X, y, _, _ = load_series(name)
    series = steps_first(X)
    codes = LabelEncoder().fit_transform(y)
    batch_size = series_batch_size(len(series))
    epochs = series_max_epochs(len(series), batch_size, sum(map(len, series)))
    epochs = max(1, round(fraction * epochs))
    updates = epochs * math.ceil(len(series) / batch_size)
    fits = {
        "FCN twin (PyTorch)": lambda: fit_fcn(
            series, codes, updates=updates, batch_size=batch_size,
            znorm=series[0].shape[1] == 1, seed=seed,
        ),
        'encoder="fcn"': lambda: AttentionPoolingClassifier(
            encoder="fcn", input_layout="channels_first", max_epochs=epochs,
            random_state=seed,
        ).fit(X, y),
    }
    times = {model: [] for model in fits}
    for _ in range(repeats):
        for model, fit in fits.items():
            start = time.process_time()
            fit()
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
