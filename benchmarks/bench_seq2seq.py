"""Speed of AttentionSeq2Seq against a hand-tuned plain-PyTorch twin.

Both sides train the identical network (bidirectional GRU encoder, additive
attention GRU decoder with input feeding; embedding 64, hidden 128, batch
64, Adam, gradient-norm clipping at 1) on the same generated dates, in one
process, with one torch thread. Our side runs through the public estimator
(``AttentionSeq2Seq.fit`` / ``.predict``), so skorch's and the estimator's
overhead is included; the twin (``_twin.py``) is a plain PyTorch loop.
Epochs and decoding runs of the two sides alternate, so that a change in
the machine's load hits both.

Printed, with the ratio ours/twin (higher is better for throughputs):

1. training: target tokens per CPU-second, median of the epochs
   (``time.process_time`` around each epoch: skorch's ``on_epoch_begin`` /
   ``on_epoch_end`` for ours, the loop for the twin);
2. decoding: sequences per CPU-second of greedy and beam-5 search, batch
   256, strings in and strings out, median of the runs;
3. peak resident memory while each side trains and decodes (the kernel's
   high-water mark, reset before each phase);
4. scaling: CPU-seconds of training per 1,000 sequences and per 1,000 target
   tokens on a reversal task of source length 10, 20, 40, 80 and 160, the
   median of 3 epochs per length and side.

Run::

    python benchmarks/bench_seq2seq.py            # about 12 minutes
    python benchmarks/bench_seq2seq.py --quick    # a smoke run, ~1 minute
"""

import argparse
import datetime
import platform
import re
import statistics
import time

import numpy as np
import torch
from _twin import (
    CharVocabulary,
    TwinSeq2Seq,
    beam_decode,
    greedy_decode,
    train_epoch,
)
from skorch.callbacks import Callback

from sk_attention import AttentionSeq2Seq
from sk_attention.datasets import make_dates, make_reversal

SETTINGS = dict(embedding_dim=64, hidden_size=128, dropout=0.1)


class EpochCPUTime(Callback):
    """Record the seconds of every training epoch on ``clock``."""

    def __init__(self, clock=time.process_time):
        self.clock = clock
        self.seconds = []

    def on_epoch_begin(self, net, **kwargs):
        self._start = self.clock()

    def on_epoch_end(self, net, **kwargs):
        self.seconds.append(self.clock() - self._start)


def cpu_seconds(function, *args, clock=time.process_time, **kwargs):
    start = clock()
    result = function(*args, **kwargs)
    return clock() - start, result


def reset_peak_rss():
    """Reset the kernel's resident-set high-water mark of this process."""
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")


def peak_rss_mb():
    with open("/proc/self/status") as file:
        return int(re.search(r"VmHWM:\s+(\d+)", file.read()).group(1)) / 1024


class CPUMeter:
    """CPU seconds and the resident-set high-water mark of this process."""

    clock = staticmethod(time.process_time)
    reset_peak = staticmethod(reset_peak_rss)
    peak = staticmethod(peak_rss_mb)


def make_ours(
    max_epochs, timer, lr, random_state=0, device="cpu", estimator=AttentionSeq2Seq
):
    return estimator(
        cell="gru",
        attention="additive",
        batch_size=64,
        predict_batch_size=256,
        max_epochs=max_epochs,
        lr=lr,
        validation_fraction=None,
        early_stopping=False,
        gradient_clip=1.0,
        callbacks=[timer],
        warm_start=True,
        random_state=random_state,
        device=device,
        **SETTINGS,
    )


def make_twin(X, y, lr, seed=0, device="cpu"):
    torch.manual_seed(seed)
    source_vocab, target_vocab = CharVocabulary(X), CharVocabulary(y)
    model = TwinSeq2Seq(len(source_vocab), len(target_vocab), 64, 128, 128, 0.1)
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    return model, optimizer, source_vocab, target_vocab


def twin_predict(twin, X, max_length, beam_size, device="cpu"):
    model, _, source_vocab, target_vocab = twin
    sources = [source_vocab.encode(text) for text in X]
    if beam_size == 1:
        ids = greedy_decode(model, sources, max_length, device=device)
    else:
        ids = beam_decode(model, sources, max_length, beam_size, device=device)
    return [target_vocab.decode(row) for row in ids]


def compare(
    X,
    y,
    X_test,
    y_test,
    epochs,
    runs,
    lr,
    device="cpu",
    meter=CPUMeter,
    twin_autocast=None,
    estimator=AttentionSeq2Seq,
):
    """Train and decode both sides, alternating; return the measurements.

    ``estimator`` is our side's class (``AttentionSeq2Seq`` or one of
    ``sk_attention.distributed``); ``twin_autocast`` a dtype the twin trains
    under with :func:`torch.autocast`.
    """
    n_tokens = sum(len(target) + 1 for target in y)  # the end token counts
    timer = EpochCPUTime(meter.clock)
    ours = make_ours(1, timer, lr, device=device, estimator=estimator)
    twin = make_twin(X, y, lr, device=device)
    twin_ids = (
        [twin[2].encode(text) for text in X],
        [twin[3].encode(text) for text in y],
    )
    generator = np.random.default_rng(0)
    peak = {"ours": 0.0, "twin": 0.0}
    train = {"ours": [], "twin": []}
    for epoch in range(epochs):
        meter.reset_peak()
        ours.fit(X, y)  # warm_start: one more epoch
        train["ours"].append(n_tokens / timer.seconds[-1])
        peak["ours"] = max(peak["ours"], meter.peak())
        meter.reset_peak()
        seconds, _ = cpu_seconds(
            train_epoch,
            twin[0],
            twin[1],
            *twin_ids,
            64,
            generator,
            device=device,
            autocast_dtype=twin_autocast,
            clock=meter.clock,
        )
        train["twin"].append(n_tokens / seconds)
        peak["twin"] = max(peak["twin"], meter.peak())
    max_length = ours.max_output_length_
    decode = {}
    accuracy = {}
    for beam_size in (1, 5):
        ours.set_params(beam_size=beam_size)
        speeds = {"ours": [], "twin": []}
        for _ in range(runs):
            meter.reset_peak()
            seconds, predicted = cpu_seconds(ours.predict, X_test, clock=meter.clock)
            speeds["ours"].append(len(X_test) / seconds)
            peak["ours"] = max(peak["ours"], meter.peak())
            accuracy[("ours", beam_size)] = np.mean(predicted == np.array(y_test))
            meter.reset_peak()
            seconds, predicted = cpu_seconds(
                twin_predict,
                twin,
                X_test,
                max_length,
                beam_size,
                device,
                clock=meter.clock,
            )
            speeds["twin"].append(len(X_test) / seconds)
            peak["twin"] = max(peak["twin"], meter.peak())
            accuracy[("twin", beam_size)] = np.mean(
                np.array(predicted, dtype=object) == np.array(y_test)
            )
        decode[beam_size] = speeds
    return train, decode, peak, accuracy


def scaling(lengths, n_sequences, lr, repeats=3):
    """CPU seconds of one training epoch per source length, both sides.

    Each length is measured ``repeats`` times, the side that goes first
    alternating (the first to touch a larger size pays the page faults of
    growing the heap), and the medians are returned.
    """
    rows = []
    for length in lengths:
        X, y = make_reversal(
            n_sequences, min_length=length, max_length=length, random_state=0
        )
        n_tokens = sum(len(target) + 1 for target in y)
        seconds = {"ours": [], "twin": []}
        for repeat in range(repeats):
            for side in ("ours", "twin") if repeat % 2 == 0 else ("twin", "ours"):
                if side == "ours":
                    timer = EpochCPUTime()
                    make_ours(1, timer, lr).fit(X, y)
                    seconds["ours"].append(timer.seconds[-1])
                    continue
                twin = make_twin(X, y, lr)
                ids = (
                    [twin[2].encode(text) for text in X],
                    [twin[3].encode(text) for text in y],
                )
                twin_seconds, _ = cpu_seconds(
                    train_epoch, twin[0], twin[1], *ids, 64, np.random.default_rng(0)
                )
                seconds["twin"].append(twin_seconds)
        rows.append(
            (length, median(seconds["ours"]), median(seconds["twin"]), n_sequences,
             n_tokens)
        )
    return rows


def median(values):
    return statistics.median(values)


def report(
    train, decode, peak, accuracy, scale_rows, unit="CPU-s", memory="peak RSS (MB)"
):
    print(f"\nThroughput per {unit} (median; ratio = ours / twin, higher is better)")
    print(f"{'measure':<38}{'ours':>10}{'twin':>10}{'ratio':>8}")
    lines = [("training target tokens", train)]
    lines += [("greedy sequences", decode[1])]
    lines += [("beam-5 sequences", decode[5])]
    for name, values in lines:
        ours, twin = median(values["ours"]), median(values["twin"])
        print(f"{name:<38}{ours:>10.0f}{twin:>10.0f}{ours / twin:>8.2f}")
    print(
        f"{memory:<38}{peak['ours']:>10.0f}{peak['twin']:>10.0f}"
        f"{peak['ours'] / peak['twin']:>8.2f}"
    )
    print("\nall values:", {"train": train, "greedy": decode[1], "beam5": decode[5]})
    for side in ("ours", "twin"):
        beam_cost = median(decode[1][side]) / median(decode[5][side])
        print(
            f"{side}: beam-5 costs {beam_cost:.2f}x greedy per sequence; "
            f"exact match greedy {accuracy[(side, 1)]:.3f}, "
            f"beam-5 {accuracy[(side, 5)]:.3f}"
        )
    if not scale_rows:
        return
    print(f"\nScaling with source length (reversal, one epoch, {unit})")
    print(
        f"{'length':>6}{'ours/1k seq':>13}{'ours/1k tok':>13}"
        f"{'per tok vs 10':>15}{'twin/1k tok':>13}{'ratio':>8}"
    )
    first = None
    for length, ours, twin, n_seq, n_tok in scale_rows:
        per_token = 1000 * ours / n_tok
        first = first or per_token
        print(
            f"{length:>6}{1000 * ours / n_seq:>13.2f}{per_token:>13.3f}"
            f"{per_token / first:>15.2f}{1000 * twin / n_tok:>13.3f}"
            f"{twin / ours:>8.2f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n_train, n_test, epochs, runs, n_scale = (
        (2_000, 512, 2, 2, 128) if args.quick else (20_000, 2_048, 3, 3, 1_280)
    )
    print(
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__},"
        f" {torch.get_num_threads()} thread(s)"
    )
    X, y = make_dates(n_train, random_state=0)
    X_test, y_test = make_dates(n_test, random_state=1)
    lr = 3e-3
    train, decode, peak, accuracy = compare(X, y, X_test, y_test, epochs, runs, lr)
    scale_rows = scaling(
        (10, 20, 40, 80, 160), n_scale, lr, repeats=1 if args.quick else 3
    )
    report(train, decode, peak, accuracy, scale_rows)


if __name__ == "__main__":
    main()
