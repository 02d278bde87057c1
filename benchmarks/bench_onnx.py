"""Prediction speed of the onnxruntime path against the torch path.

Three fitted models are exported with :func:`sk_attention.onnx.export` and
served by :func:`sk_attention.onnx.load`: a recurrent ``AttentionSeq2Seq``
(bi-GRU encoder, additive attention, embedding 64, hidden 128) and a
Transformer one (model size 128, 4 heads, 2 layers), both trained on
generated dates, and an ``AttentionPoolingClassifier`` on bags of 8x8
digits. Each is timed at batch 1 (300 inputs) and at batch 256, torch (the estimator's
``predict``) and onnxruntime (the runtime's ``predict``) alternating in one
process, both on one thread, greedy decoding; the median of the runs is
kept.

Printed: predictions per second of each side and the ratio onnx/torch
(higher is better for onnx), then the same models quantized to int8
(``export(..., quantize=True)``): their speed and the change in exact-match
accuracy (seq2seq) or accuracy (classifier) on held-out data.

Run::

    python benchmarks/bench_onnx.py            # about 15 minutes
    python benchmarks/bench_onnx.py --quick    # a smoke run
"""

import argparse
import statistics
import tempfile
import time

import numpy as np
import torch
from sklearn.datasets import load_digits

from sk_attention import AttentionPoolingClassifier, AttentionSeq2Seq
from sk_attention import onnx as sk_onnx
from sk_attention.datasets import make_dates


def seq2seq_models(n_train, epochs):
    X, y = make_dates(n_train + 2048, random_state=0)
    options = dict(
        max_epochs=epochs,
        validation_fraction=None,
        early_stopping=False,
        random_state=0,
        dropout=0.0,
    )
    rnn = AttentionSeq2Seq(cell="gru", hidden_size=128, embedding_dim=64, **options)
    transformer = AttentionSeq2Seq(
        architecture="transformer", hidden_size=128, num_heads=4, num_layers=2,
        lr=2e-3, warmup_steps=100, **options,
    )
    data = (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])
    return [
        ("seq2seq rnn", rnn.fit(*data[0]), data[1]),
        ("seq2seq transformer", transformer.fit(*data[0]), data[1]),
    ]


def pooling_model(epochs):
    """Bags of 4-14 digits, positive when they hold a 9."""
    digits = load_digits()
    rng = np.random.RandomState(0)
    bags, labels = [], []
    for _ in range(3000):
        index = rng.randint(len(digits.data), size=rng.randint(4, 15))
        bags.append(digits.data[index].astype(np.float32) / 16)
        labels.append(int((digits.target[index] == 9).any()))
    labels = np.array(labels)
    model = AttentionPoolingClassifier(max_epochs=epochs, random_state=0)
    model.fit(bags[:2000], labels[:2000])
    return "pooling classifier", model, (bags[2000:], labels[2000:])


def set_batch(model, served, batch):
    if isinstance(model, AttentionSeq2Seq):
        model.set_params(predict_batch_size=batch)
    served.batch_size = batch


def rate(predict, X, repeats):
    """Median predictions per second of ``predict(X)`` over ``repeats``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(X)
        times.append(time.perf_counter() - start)
    return len(X) / statistics.median(times)


def accuracy(predicted, y):
    return float(np.mean([p == t for p, t in zip(predicted, y)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n_train, epochs, repeats = (2000, 1, 1) if args.quick else (10000, 4, 3)
    models = [*seq2seq_models(n_train, epochs), pooling_model(2 if args.quick else 20)]
    print(f"{'model':<22}{'batch':>6}{'torch /s':>11}{'onnx /s':>10}"
          f"{'ratio':>7}{'int8 /s':>10}{'ratio':>7}")
    changes = []
    for name, model, (X, y) in models:
        with tempfile.TemporaryDirectory() as float_dir, \
                tempfile.TemporaryDirectory() as int8_dir:
            served = sk_onnx.load(sk_onnx.export(model, float_dir), n_threads=1)
            quantized = sk_onnx.load(
                sk_onnx.export(model, int8_dir, quantize=True), n_threads=1
            )
            for batch, n in ((1, 100 if args.quick else 300), (256, len(X))):
                set_batch(model, served, batch)
                quantized.batch_size = batch
                speeds = [
                    rate(side.predict, X[:n], repeats)
                    for side in (model, served, quantized)
                ]
                print(f"{name:<22}{batch:>6}{speeds[0]:>11.0f}{speeds[1]:>10.0f}"
                      f"{speeds[1] / speeds[0]:>7.2f}{speeds[2]:>10.0f}"
                      f"{speeds[2] / speeds[0]:>7.2f}")
            same = float(np.mean(
                [a == b for a, b in zip(served.predict(X), model.predict(X))]
            ))
            changes.append((name, accuracy(model.predict(X), y),
                            accuracy(served.predict(X), y),
                            accuracy(quantized.predict(X), y), same))
    print(f"\n{'model':<22}{'torch acc.':>11}{'onnx acc.':>10}{'int8 acc.':>10}"
          f"{'onnx = torch':>14}")
    for name, torch_acc, onnx_acc, int8_acc, same in changes:
        print(f"{name:<22}{torch_acc:>11.4f}{onnx_acc:>10.4f}{int8_acc:>10.4f}"
              f"{same:>14.4f}")


if __name__ == "__main__":
    main()
