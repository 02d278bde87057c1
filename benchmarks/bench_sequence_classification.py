"""Attention pooling on real sequences: each encoder against the usual tools.

Two tasks, every model on the same standard split in one run:

1. Time-series classification on UEA/UCR sets shipped inside the ``aeon``
   package (loaded offline, standard train/test splits, aeon's numpy3D
   layout ``(n_samples, n_channels, n_timepoints)`` read with
   ``input_layout="channels_first"``): ``AttentionPoolingClassifier`` with
   each ``encoder`` and its other defaults, against mean pooling (each
   channel's mean over time, standardized) + LogisticRegression and
   MiniRocket (aeon's ``MiniRocketClassifier``; series of unequal length
   zero-padded at the end to the longest of the set, as it needs equal
   lengths).
2. Text classification: sentences of scikit-learn's own docstrings, labelled
   by the module they document (``sk_attention.datasets.
   load_docstring_sentences``, twelve modules), split by
   documented object so that no object has sentences on both sides; the
   attention classifier against ``TfidfVectorizer`` on word and on character
   n-grams + LogisticRegression.

Scoring: accuracy on the test split. Fit time (wall clock, one thread) is
given as a ratio to the fit time of mean pooling + LogisticRegression
(series) or of TF-IDF + LogisticRegression on words (text), measured in the
same run. Seed: ``--seed`` (default 0) for every model that draws random
numbers.

Run (needs ``pip install aeon``; about 10 minutes on one CPU thread)::

    python benchmarks/bench_sequence_classification.py --threads 1
"""

import argparse
import hashlib
import time

import numpy as np
import torch
from bench_text_classification import tfidf_models
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sk_attention import AttentionPoolingClassifier
from sk_attention.datasets import load_docstring_sentences

SERIES = {
    "JapaneseVowels": "load_japanese_vowels",
    "BasicMotions": "load_basic_motions",
    "GunPoint": "load_gunpoint",
    "ItalyPowerDemand": "load_italy_power_demand",
    "ArrowHead": "load_arrow_head",
}
ENCODERS = [None, "gru", "lstm", "conv", "transformer"]


def load_series(name):
    """``(X_train, y_train, X_test, y_test)`` of a set shipped with aeon."""
    import aeon.datasets

    load = getattr(aeon.datasets, SERIES[name])
    X_train, y_train = load(split="train")
    X_test, y_test = load(split="test")
    return X_train, y_train, X_test, y_test


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
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return model.score(X_test, y_test), seconds


def series_models(seed):
    models = {
        "mean pooling + LR": make_pipeline(
            FunctionTransformer(channel_means), StandardScaler(),
            LogisticRegression(max_iter=2000),
        ),
    }
    for encoder in ENCODERS:
        models[f"attention, encoder={encoder}"] = AttentionPoolingClassifier(
            encoder=encoder, input_layout="channels_first", random_state=seed
        )
    try:
        from aeon.classification.convolution_based import MiniRocketClassifier
    except ImportError:
        print("MiniRocket: aeon's MiniRocketClassifier is not installed; skipped.")
    else:
        models["MiniRocket"] = MiniRocketClassifier(random_state=seed)
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
    print(f"{'model':<30} {'accuracy':>9} {'fit time ratio':>15}")
    for name, (accuracy, seconds) in rows.items():
        print(f"{name:<30} {accuracy:>9.3f} {seconds / base:>15.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="*", default=list(SERIES))
    parser.add_argument("--skip-text", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {args.threads}; seed: {args.seed}; scoring: accuracy "
          "on the standard test split")
    for name in args.datasets:
        X_train, y_train, X_test, y_test = load_series(name)
        shape = (len(X_train), len(X_test), np.shape(X_train[0]))
        print(f"\n{name}: {shape[0]} train / {shape[1]} test series, "
              f"(channels, time points) of the first: {shape[2]}")
        rows = {}
        for model_name, model in series_models(args.seed).items():
            data = (X_train, X_test)
            if model_name == "MiniRocket":  # it needs equal lengths
                data = padded_for_minirocket(X_train, X_test)
            rows[model_name] = timed_score(model, data[0], y_train, data[1], y_test)
            print(f"  {model_name}: {rows[model_name][0]:.3f}", flush=True)
        print_table(f"{name} (fit time / mean pooling + LR)", rows,
                    "mean pooling + LR")
    if args.skip_text:
        return
    sentences, modules, objects = load_docstring_sentences()
    train = split_by_object(objects)
    X = np.array(sentences, dtype=object)
    print(f"\nscikit-learn docstring sentences -> module: {train.sum()} train / "
          f"{(~train).sum()} test sentences, {len(set(modules))} modules, split "
          "by documented object")
    rows = {}
    for model_name, model in text_models(args.seed).items():
        rows[model_name] = timed_score(
            model, list(X[train]), modules[train], list(X[~train]), modules[~train]
        )
        print(f"  {model_name}: {rows[model_name][0]:.3f}", flush=True)
    print_table("Docstring sentences (fit time / TF-IDF words + LR)", rows,
                "TF-IDF words (1-2) + LR")


if __name__ == "__main__":
    main()
