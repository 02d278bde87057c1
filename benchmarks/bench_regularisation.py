"""The effect of ``attention_dropout`` and ``label_smoothing`` where a model
over-fits.

300 training pairs of ``make_transliteration`` (pseudo-words to phonemes)
and 1,000 test pairs; every model trains for a fixed ``--epochs`` epochs on
all 300 pairs (no validation split, no early stopping), long enough for the
training error to reach about 0 while the test error stays far above it.
Settings: both architectures with ``attention_dropout`` in {0, 0.2} and
``label_smoothing`` in {0, 0.1}, all else at the defaults. Printed: training
and test sequence error rate and test phoneme error rate, means over
``--seeds`` seeds (with the standard deviation of the test sequence error).

Run with one torch thread (about 3 minutes)::

    python benchmarks/bench_regularisation.py
"""

import argparse

import numpy as np
import torch

from sk_attention import AttentionSeq2Seq
from sk_attention.datasets import make_transliteration
from sk_attention.metrics import sequence_accuracy, token_error_rate

SETTINGS = [
    ("transformer", 0.0, 0.0),
    ("transformer", 0.2, 0.0),
    ("transformer", 0.0, 0.1),
    ("transformer", 0.2, 0.1),
    ("rnn", 0.0, 0.0),
    ("rnn", 0.2, 0.0),
    ("rnn", 0.0, 0.1),
    ("rnn", 0.2, 0.1),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--architecture",
        choices=["rnn", "transformer"],
        default=None,
        help="run only this architecture's settings",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y = make_transliteration(1300, random_state=0)
    X_train, y_train, X_test, y_test = X[:300], y[:300], X[300:], y[300:]
    print(
        f"torch {torch.__version__}, 1 thread; transliteration, 300 train / "
        f"1000 test pairs, {args.epochs} epochs, {args.seeds} seeds"
    )
    print(
        f"{'architecture':12} {'attn. dropout':>13} {'smoothing':>9} "
        f"{'train seq. err':>14} {'test seq. err':>17} {'test PER':>8}"
    )
    for architecture, attention_dropout, label_smoothing in SETTINGS:
        if args.architecture not in (None, architecture):
            continue
        train_errors, test_errors, phoneme_errors = [], [], []
        for seed in range(args.seeds):
            model = AttentionSeq2Seq(
                architecture=architecture,
                attention_dropout=attention_dropout,
                label_smoothing=label_smoothing,
                target_tokenizer="word",
                max_epochs=args.epochs,
                validation_fraction=None,
                early_stopping=False,
                random_state=seed,
            ).fit(X_train, y_train)
            train_errors.append(1 - model.score(X_train, y_train))
            predicted = model.predict(X_test)
            test_errors.append(1 - sequence_accuracy(y_test, predicted))
            phoneme_errors.append(token_error_rate(y_test, predicted))
        print(
            f"{architecture:12} {attention_dropout:13g} {label_smoothing:9g} "
            f"{np.mean(train_errors):14.3f} {np.mean(test_errors):10.3f} "
            f"± {np.std(test_errors):.3f} {np.mean(phoneme_errors):8.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
