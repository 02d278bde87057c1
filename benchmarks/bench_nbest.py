"""The cost of n-best lists and of scoring given outputs.

A model trained briefly on generated dates (bidirectional GRU encoder,
additive-attention GRU decoder; embedding 64, hidden 128) decodes held-out
dates, one torch thread:

1. ``predict_nbest(X, n_best=5)`` against ``predict`` with the same beam of
   5 (CPU-seconds, median of the runs, run alternately);
2. ``score_samples(X, y)`` against a training forward pass over the same
   pairs (the network in training mode with gradients, batches of
   ``batch_size`` bucketed by length as ``fit`` draws them, the loss
   computed; no backward pass): pairs per CPU-second.

Run::

    python benchmarks/bench_nbest.py            # about 2 minutes
    python benchmarks/bench_nbest.py --quick    # a smoke run, ~30 s
"""

import argparse
import statistics
import time

import torch

from sk_attention import AttentionSeq2Seq
from sk_attention._seq2seq._data import SequencePairDataset
from sk_attention._sequences import bucket_loader
from sk_attention.datasets import make_dates


def cpu_seconds(function):
    start = time.process_time()
    function()
    return time.process_time() - start


def training_forward(model, X, y):
    """One pass of the network as ``fit`` runs it, without the backward."""
    source = [model.source_vocab_.encode(model.source_tokenizer_.tokenize(x))
              for x in X]
    target = [model.target_vocab_.encode(model.target_tokenizer_.tokenize(t))
              for t in y]
    dataset = SequencePairDataset(source, target)
    loader = bucket_loader(dataset, batch_size=model.batch_size, shuffle=True)
    module, criterion = model.module_, model.net_.criterion_
    module.train()
    for inputs, target_output in loader:
        criterion(module(**inputs), target_output)
    module.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n_test, runs = (500, 3) if args.quick else (2000, 7)
    X, y = make_dates(3000 + n_test, random_state=0)
    model = AttentionSeq2Seq(cell="gru", hidden_size=128, beam_size=5, max_epochs=3,
                             validation_fraction=None, early_stopping=False,
                             random_state=0).fit(X[:3000], y[:3000])
    X_test, y_test = X[3000:], y[3000:]
    print(f"dates, {n_test} held-out pairs, {runs} runs, one torch thread; "
          f"exact match (beam 5): {model.score(X_test, y_test):.3f}")
    predict, nbest, scoring, forward = [], [], [], []
    for _ in range(runs):
        predict.append(cpu_seconds(lambda: model.predict(X_test)))
        nbest.append(cpu_seconds(lambda: model.predict_nbest(X_test, n_best=5)))
        scoring.append(cpu_seconds(lambda: model.score_samples(X_test, y_test)))
        forward.append(cpu_seconds(lambda: training_forward(model, X_test, y_test)))
    predict, nbest = statistics.median(predict), statistics.median(nbest)
    scoring, forward = statistics.median(scoring), statistics.median(forward)
    print(f"predict, beam 5:                {predict:7.3f} CPU-s")
    print(f"predict_nbest, beam 5, n_best 5: {nbest:7.3f} CPU-s "
          f"({nbest / predict:.2f}x predict)")
    print(f"score_samples:          {n_test / scoring:9.0f} pairs/CPU-s")
    print(f"training forward pass:  {n_test / forward:9.0f} pairs/CPU-s "
          f"(score_samples {forward / scoring:.2f}x faster)")


if __name__ == "__main__":
    main()
