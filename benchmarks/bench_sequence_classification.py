"""Attention pooling on real sequences: each encoder against the usual tools.

Two tasks, every model on the same standard split in one run:

1. Time-series classification on eight UCR/UEA sets shipped inside the
   ``aeon`` package (loaded offline, standard train/test splits, aeon's
   numpy3D layout ``(n_samples, n_channels, n_timepoints)`` read with
   ``input_layout="channels_first"``): ``AttentionPoolingClassifier`` with
   each ``encoder`` of ``--encoders`` and its other defaults, against mean
   pooling (each channel's mean over time, standardized) +
   LogisticRegression, MiniRocket (aeon's ``MiniRocketClassifier``; series
   of unequal length zero-padded at the end to the longest of the set, as it
   needs equal lengths) and a plain-PyTorch FCN twin (``_fcn_twin.py``: the
   published FCN, conv 128/k8 -> 256/k5 -> 128/k3 with BatchNorm and global
   average pooling, univariate series z-normalised, Adam 1e-3 halved on a
   training-loss plateau, the lowest-training-loss weights kept) given the
   batch size and the epochs that the estimators' ``"auto"`` rules give
   them.
2. Text classification: sentences of scikit-learn's own docstrings, labelled
   by the module they document (``sk_attention.datasets.
   load_docstring_sentences``, twelve modules), split by
   documented object so that no object has sentences on both sides; the
   attention classifier against ``TfidfVectorizer`` on word and on character
   n-grams + LogisticRegression.

Scoring: accuracy on the test split. Fit and predict times are CPU seconds
of this process (``time.process_time``, ``--threads`` torch and numba
threads), so other load on the machine does not count. Seeds: ``--seeds``
(default 0) for every model that draws random numbers; with several, every
model is fitted once per seed and the tables give its mean accuracy and
mean times: two networks as alike as the FCN twin and ``encoder="fcn"``
differ by a test series or two on one seed, and one fit's time varies by
up to a fifth either way with what else runs on the machine.
``--save`` writes the series results as JSON (the means, and each seed's
under ``by_seed``), from which ``plot_sequence_classification.py`` draws
the picture of the docs. The text task uses the first seed.

Run (needs ``pip install aeon``; about 35 CPU-minutes per seed on one
thread)::

    python benchmarks/bench_sequence_classification.py --threads 1 \
        --skip-text --save benchmarks/results/sequence_classification.json
"""

import argparse
import hashlib
import json
import math
import os
import time

import numpy as np
import torch
from _fcn_twin import fit_fcn, predict_fcn, steps_first
from bench_text_classification import tfidf_models
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, LabelEncoder, StandardScaler

from sk_attention import AttentionPoolingClassifier
from sk_attention._pooling._recipe import series_batch_size, series_max_epochs
from sk_attention.datasets import load_docstring_sentences

#: aeon's bundled classification sets: the five of the earlier runs, then
#: three with longer series (PickupGestureWiimoteZ of unequal lengths).
SERIES = [
    "ArrowHead",
    "GunPoint",
    "ItalyPowerDemand",
    "JapaneseVowels",
    "BasicMotions",
    "OSULeaf",
    "PickupGestureWiimoteZ",
    "ACSF1",
]
ENCODERS = [None, "conv", "fcn"]


def load_series(name):
    """``(X_train, y_train, X_test, y_test)`` of a set shipped with aeon."""
    import aeon.datasets

    X_train, y_train = aeon.datasets.load_classification(name, split="train")
    X_test, y_test = aeon.datasets.load_classification(name, split="test")
    return X_train, y_train, X_test, y_test


def recipe_batches(series):
    """``(batch_size, max_epochs)`` that the estimators' ``"auto"`` rules
    resolve for these ``(time_i, channels)`` series."""
    batch_size = series_batch_size(len(series))
    epochs = series_max_epochs(len(series), batch_size, sum(map(len, series)))
    return batch_size, epochs


class FCNTwin:
    """The plain-PyTorch FCN as an estimator, trained on the batches and
    epochs that the pooling estimators' "auto" rules resolve (``max_epochs``
    epochs instead, where given)."""

    def __init__(self, seed, max_epochs=None):
        self.seed = seed
        self.max_epochs = max_epochs

    def fit(self, X, y):
        self.labels_ = LabelEncoder().fit(y)
        series = steps_first(X)
        batch_size, epochs = recipe_batches(series)
        epochs = self.max_epochs or epochs
        updates = epochs * math.ceil(len(series) / batch_size)
        # Univariate series z-normalised, as the published recipe does.
        self.znorm_ = series[0].shape[1] == 1
        self.model_, _ = fit_fcn(series, self.labels_.transform(y),
                                 updates=updates, batch_size=batch_size,
                                 znorm=self.znorm_, seed=self.seed)
        return self

    def predict(self, X):
        return self.labels_.inverse_transform(
            predict_fcn(self.model_, steps_first(X), self.znorm_))

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


def zero_padded(X, length):
    """Series of unequal length zero-padded at the end: MiniRocket's input."""
    if not isinstance(X, list):
        return X
    padded = np.zeros((len(X), X[0].shape[0], length))
    for row, series in enumerate(X):
        padded[row, :, : series.shape[1]] = series
    return padded


def channel_means(X):
    """Each channel's mean over time: ``(n_samples, n_channels)``."""
    return np.array([np.asarray(x, dtype=float).mean(axis=1) for x in X])


def split_by_object(objects, test_fraction=0.3):
    """A deterministic train/test mask: about 30% of the objects test."""
    digest = [int(hashlib.md5(o.encode()).hexdigest(), 16) % 100 for o in objects]
    return np.array(digest) >= round(100 * test_fraction)


def timed_score(model, X_train, y_train, X_test, y_test):
    """``(accuracy, fit CPU-s, predict CPU-s)``."""
    start = time.process_time()
    model.fit(X_train, y_train)
    fitted = time.process_time()
    predicted = model.predict(X_test)
    done = time.process_time()
    accuracy = float(np.mean(np.asarray(predicted) == np.asarray(y_test)))
    return accuracy, fitted - start, done - fitted


def series_models(seed, encoders=ENCODERS):
    models = {
        "mean pooling + LR": make_pipeline(
            FunctionTransformer(channel_means), StandardScaler(),
            LogisticRegression(max_iter=2000),
        ),
    }
    try:
        from aeon.classification.convolution_based import MiniRocketClassifier
    except ImportError:
        print("MiniRocket: aeon's MiniRocketClassifier is not installed; skipped.")
    else:
        models["MiniRocket"] = MiniRocketClassifier(random_state=seed)
    models["FCN twin (PyTorch)"] = FCNTwin(seed)
    for encoder in encoders:
        models[f"attention, encoder={encoder}"] = AttentionPoolingClassifier(
            encoder=encoder, input_layout="channels_first", random_state=seed
        )
    return models


def padded_for_minirocket(X_train, X_test):
    """Both splits zero-padded to the longest series of either, if ragged."""
    longest = max(np.shape(x)[-1] for x in [*X_train, *X_test])
    return zero_padded(X_train, longest), zero_padded(X_test, longest)


def text_models(seed):
    # A user's recipe on 7,000 sentences: stop on a validation split.
    stopping = dict(validation_fraction=0.1, early_stopping=True,
                    n_iter_no_change=3, max_epochs=30, random_state=seed)
    return {
        **tfidf_models(),
        "attention, encoder=None": AttentionPoolingClassifier(**stopping),
        "attention, encoder=gru": AttentionPoolingClassifier(
            encoder="gru", **stopping
        ),
        "attention, encoder=conv": AttentionPoolingClassifier(
            encoder="conv", **stopping
        ),
    }


def print_table(title, rows, reference):
    base = rows[reference][1]
    print(f"\n{title}")
    print(f"{'model':<30} {'accuracy':>9} {'fit CPU-s':>10} {'ratio':>7} "
          f"{'predict CPU-s':>14}")
    for name, (accuracy, seconds, predict) in rows.items():
        print(f"{name:<30} {accuracy:>9.3f} {seconds:>10.2f} "
              f"{seconds / base:>7.1f} {predict:>14.2f}")


def series_rows(name, seeds, encoders):
    """``(shape, rows, by_seed)`` of one set: ``rows`` maps each model to
    its ``(accuracy, fit CPU-s, predict CPU-s)`` means over ``seeds``,
    ``by_seed`` to each seed's."""
    X_train, y_train, X_test, y_test = load_series(name)
    shape = (len(X_train), len(X_test), np.shape(X_train[0]))
    print(f"\n{name}: {shape[0]} train / {shape[1]} test series, "
          f"(channels, time points) of the first: {shape[2]}")
    by_seed = {}
    for seed in seeds:
        for model_name, model in series_models(seed, encoders).items():
            data = (X_train, X_test)
            if model_name == "MiniRocket":  # it needs equal lengths
                data = padded_for_minirocket(X_train, X_test)
            row = timed_score(model, data[0], y_train, data[1], y_test)
            by_seed.setdefault(model_name, {})[seed] = row
            print(f"  {model_name}, seed {seed}: {row[0]:.3f} ({row[1]:.1f} CPU-s)",
                  flush=True)
    rows = {model_name: tuple(np.mean(list(runs.values()), axis=0))
            for model_name, runs in by_seed.items()}
    return shape, rows, by_seed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", "--seed", type=int, nargs="+", default=[0],
                        help="seeds of every model that draws random numbers; "
                             "the tables give means over them")
    parser.add_argument("--datasets", nargs="*", default=list(SERIES))
    parser.add_argument("--encoders", nargs="*", default=[str(e) for e in ENCODERS],
                        help="pooling encoders to run ('None' for bags)")
    parser.add_argument("--skip-text", action="store_true")
    parser.add_argument("--save", help="write the series results to this JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # numba (MiniRocket's kernels) starts a pool of one thread per core at
    # its first parallel call, even where it then uses one; beside torch's,
    # that pool made every later torch fit of the process 13-20% slower
    # here. aeon, and with it numba, is imported after this line.
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    encoders = [None if e == "None" else e for e in args.encoders]
    print(f"torch threads: {args.threads}; seeds: {args.seeds}; scoring: accuracy "
          "on the standard test split; times: CPU seconds of this process")
    results = {}
    for name in args.datasets:
        shape, rows, by_seed = series_rows(name, args.seeds, encoders)
        title = "" if len(args.seeds) == 1 else f", means of {len(args.seeds)} seeds"
        print_table(f"{name} (fit time ratio to MiniRocket's{title})", rows,
                    "MiniRocket")
        fields = ("accuracy", "fit_cpu_s", "predict_cpu_s")
        results[name] = {
            "n_train": shape[0], "n_test": shape[1],
            "models": {
                model_name: {
                    **dict(zip(fields, map(float, row))),
                    "by_seed": {str(seed): dict(zip(fields, run))
                                for seed, run in by_seed[model_name].items()},
                }
                for model_name, row in rows.items()
            },
        }
        if args.save:
            with open(args.save, "w") as file:
                json.dump({"seeds": args.seeds, "threads": args.threads,
                           "sets": results}, file, indent=1)
    if args.skip_text:
        return
    sentences, modules, objects = load_docstring_sentences()
    train = split_by_object(objects)
    X = np.array(sentences, dtype=object)
    print(f"\nscikit-learn docstring sentences -> module: {train.sum()} train / "
          f"{(~train).sum()} test sentences, {len(set(modules))} modules, split "
          "by documented object")
    rows = {}
    for model_name, model in text_models(args.seeds[0]).items():
        rows[model_name] = timed_score(
            model, list(X[train]), modules[train], list(X[~train]), modules[~train]
        )
        print(f"  {model_name}: {rows[model_name][0]:.3f}", flush=True)
    print_table("Docstring sentences (fit time / TF-IDF words + LR)", rows,
                "TF-IDF words (1-2) + LR")


if __name__ == "__main__":
    main()
