"""Speed of AttentionSeq2Seq against hand-tuned plain-PyTorch twins.

Every side trains the same encoder and attention (bidirectional LSTM
encoder, additive attention, LSTM decoder, or GRUs with ``--cell gru``;
embedding 64, hidden 128, one layer, dropout 0.1, batch 64, Adam,
gradient-norm clipping at 1) on the same generated dates, in one process,
with one torch thread:

- ours: the public estimator (``AttentionSeq2Seq.fit`` / ``.predict``) with
  its default decoder (no input feeding), so skorch's and the estimator's
  overhead is included. 20,000 pairs are the threshold of the large-data
  defaults, so the settings that would resolve to that model are pinned
  (one layer, width 128, no label smoothing, float32; checked after the
  first epoch);
- the old twin (``_twin.TwinSeq2Seq``): a plain PyTorch loop of the
  input-feeding design, the decoder stepped by hand;
- the new twin (``_twin.TwinParallelSeq2Seq``): a plain PyTorch loop of the
  design without input feeding, the decoder one ``nn.GRU`` call over the
  whole target and the attention of all steps batched, its weights updated
  by torch's fused Adam kernel, as ours are;
- where the CPU computes bfloat16 natively, ours again with
  ``precision="bfloat16"`` (autocast in training; what ``"auto"`` resolves
  to there from 20,000 pairs on), and the new twin trained under
  :func:`torch.autocast` to bfloat16 as a careful engineer would write it.
  Ours in bfloat16 is compared with the old twin in float32 (the design
  and precision it replaces) and with the new twin in bfloat16 (like for
  like).

Epochs and decoding runs of the sides alternate, the side that goes first
rotating, so that a change in the machine's load hits all of them.

Printed, with the ratios ours / old twin and ours / new twin (higher is
better for throughputs):

1. training: target tokens per CPU-second, median of the epochs
   (``time.process_time`` around each epoch: skorch's ``on_epoch_begin`` /
   ``on_epoch_end`` for ours, the loop for the twins);
2. decoding: sequences per CPU-second of greedy and beam-5 search, batch
   256, strings in and strings out, median of the runs;
3. peak resident memory while each side trains and decodes (the kernel's
   high-water mark, reset before each phase);
4. scaling: CPU-seconds of training per 1,000 sequences and per 1,000 target
   tokens on a reversal task of source length 10, 20, 40, 80 and 160, the
   median of 3 epochs per length and side.

Every side uses an LSTM, the estimator's default cell, or with ``--cell
gru`` a GRU (on CPUs, oneDNN runs a whole ``nn.LSTM`` layer, forward and
backward, as one kernel; ``nn.GRU`` steps a loop of small operations).

Run::

    python benchmarks/bench_seq2seq.py               # about 15 minutes
    python benchmarks/bench_seq2seq.py --cell gru    # every side with GRUs
    python benchmarks/bench_seq2seq.py --quick       # a smoke run, ~1 minute
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
    TwinParallelSeq2Seq,
    TwinSeq2Seq,
    beam_decode,
    greedy_decode,
    train_epoch,
)
from skorch.callbacks import Callback

from sk_attention import AttentionSeq2Seq
from sk_attention._seq2seq._sizing import native_bfloat16
from sk_attention.datasets import make_dates, make_reversal

#: Pinned: 20,000 pairs would otherwise resolve the "auto" settings to the
#: large-data model (two layers, width 256, label smoothing, bfloat16).
SETTINGS = dict(
    input_feeding=False,
    embedding_dim=64,
    hidden_size=128,
    num_layers=1,
    dropout=0.1,
    label_smoothing=0.0,
)


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
    max_epochs,
    timer,
    lr,
    random_state=0,
    device="cpu",
    estimator=AttentionSeq2Seq,
    precision="float32",
    cell="lstm",
):
    return estimator(
        cell=cell,
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
        precision=precision,
        **SETTINGS,
    )


def make_twin(X, y, lr, seed=0, device="cpu", twin_class=TwinSeq2Seq, cell="lstm"):
    torch.manual_seed(seed)
    source_vocab, target_vocab = CharVocabulary(X), CharVocabulary(y)
    model = twin_class(
        len(source_vocab), len(target_vocab), 64, 128, 128, 0.1, cell=cell
    )
    model = model.to(device)
    # The new twin updates its weights with torch's fused Adam kernel, as
    # ours does and as a careful engineer would today; the old twin keeps
    # the loop over parameters of the design it stands for.
    fused = twin_class is TwinParallelSeq2Seq and torch.__version__ >= "2.4"
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=fused)
    return model, optimizer, source_vocab, target_vocab


def twin_predict(twin, X, max_length, beam_size, device="cpu"):
    model, _, source_vocab, target_vocab = twin
    sources = [source_vocab.encode(text) for text in X]
    if beam_size == 1:
        ids = greedy_decode(model, sources, max_length, device=device)
    else:
        ids = beam_decode(model, sources, max_length, beam_size, device=device)
    return [target_vocab.decode(row) for row in ids]


class Ours:
    """Our side: the public estimator, one more epoch per ``fit``."""

    def __init__(self, lr, device, meter, estimator, precision="float32",
                 cell="lstm"):
        self.timer = EpochCPUTime(meter.clock)
        self.model = make_ours(
            1, self.timer, lr, device=device, estimator=estimator,
            precision=precision, cell=cell,
        )
        self.precision, self.lr, self.clock = precision, lr, meter.clock

    def train_epoch(self, X, y):
        """CPU seconds of one epoch (skorch's epoch, timed by a callback)."""
        self.model.fit(X, y)  # warm_start: one more epoch
        if len(self.timer.seconds) == 1:
            self.check_settings()
        return self.timer.seconds[-1]

    def check_settings(self):
        """20,000 pairs are the large-data threshold: check what was pinned."""
        model = self.model
        expected = dict(SETTINGS, precision=self.precision, lr=self.lr)
        wrong = {
            f"{name}_": getattr(model, f"{name}_")
            for name, value in expected.items()
            if getattr(model, f"{name}_") != value
        }
        if wrong:
            raise RuntimeError(f"not the benchmarked network: {wrong}")

    def predict(self, X, max_length, beam_size):
        """CPU seconds of ``predict`` and the predicted strings."""
        self.model.set_params(beam_size=beam_size)
        return cpu_seconds(self.model.predict, X, clock=self.clock)


class Twin:
    """A plain-PyTorch twin (``_twin.py``) and its own data order."""

    def __init__(self, X, y, lr, device, meter, twin_class, autocast=None,
                 cell="lstm"):
        self.twin = make_twin(
            X, y, lr, device=device, twin_class=twin_class, cell=cell
        )
        self.ids = (
            [self.twin[2].encode(text) for text in X],
            [self.twin[3].encode(text) for text in y],
        )
        self.generator = np.random.default_rng(0)
        self.device, self.clock, self.autocast = device, meter.clock, autocast

    def train_epoch(self, X, y):
        seconds, _ = cpu_seconds(
            train_epoch,
            *self.twin[:2],
            *self.ids,
            64,
            self.generator,
            device=self.device,
            autocast_dtype=self.autocast,
            clock=self.clock,
        )
        return seconds

    def predict(self, X, max_length, beam_size):
        seconds, predicted = cpu_seconds(
            twin_predict,
            self.twin,
            X,
            max_length,
            beam_size,
            self.device,
            clock=self.clock,
        )
        return seconds, np.array(predicted, dtype=object)


#: Row labels of the sides (``twin`` is the input-feeding twin).
SIDES = {
    "ours": "ours",
    "twin": "old twin (input feeding)",
    "new_twin": "new twin (no input feeding)",
    "ours_bf16": "ours, bfloat16 autocast",
    "new_twin_bf16": "new twin, bfloat16 autocast",
}


def rotated(names, turn):
    """``names`` starting at ``turn``: each side goes first in turn."""
    turn %= len(names)
    return names[turn:] + names[:turn]


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
    bfloat16=False,
    cell="lstm",
):
    """Train and decode every side, alternating; return the measurements.

    The sides: ``ours`` (the default decoder, float32), ``twin`` (the
    input-feeding twin), ``new_twin`` (the twin without input feeding) and,
    with ``bfloat16``, ``ours_bf16`` and ``new_twin_bf16`` (ours and the new
    twin trained under bfloat16 autocast). ``estimator`` is our side's class
    (``AttentionSeq2Seq`` or one of ``sk_attention.distributed``);
    ``twin_autocast`` a dtype the twins train under with
    :func:`torch.autocast`; ``cell`` every side's recurrent cell. Each
    result is a dict keyed by side.
    """
    n_tokens = sum(len(target) + 1 for target in y)  # the end token counts
    sides = {
        "ours": Ours(lr, device, meter, estimator, cell=cell),
        "twin": Twin(X, y, lr, device, meter, TwinSeq2Seq, twin_autocast, cell),
        "new_twin": Twin(X, y, lr, device, meter, TwinParallelSeq2Seq,
                         twin_autocast, cell),
    }
    if bfloat16:
        sides["ours_bf16"] = Ours(lr, device, meter, estimator, "bfloat16", cell)
        sides["new_twin_bf16"] = Twin(
            X, y, lr, device, meter, TwinParallelSeq2Seq, torch.bfloat16, cell
        )
    names = list(sides)
    peak = dict.fromkeys(names, 0.0)
    train = {name: [] for name in names}
    for epoch in range(epochs):
        for name in rotated(names, epoch):
            meter.reset_peak()
            train[name].append(n_tokens / sides[name].train_epoch(X, y))
            peak[name] = max(peak[name], meter.peak())
        print(f"epoch {epoch + 1}:", {k: round(v[-1]) for k, v in train.items()},
              flush=True)
    max_length = sides["ours"].model.max_output_length_
    decode = {}
    accuracy = {}
    for beam_size in (1, 5):
        speeds = {name: [] for name in names}
        for run in range(runs):
            for name in rotated(names, run):
                meter.reset_peak()
                seconds, predicted = sides[name].predict(X_test, max_length, beam_size)
                speeds[name].append(len(X_test) / seconds)
                peak[name] = max(peak[name], meter.peak())
                accuracy[(name, beam_size)] = np.mean(predicted == np.array(y_test))
        decode[beam_size] = speeds
    return train, decode, peak, accuracy


def scaling(lengths, n_sequences, lr, repeats=3, cell="lstm"):
    """CPU seconds of one training epoch per source length, every side.

    Each length is measured ``repeats`` times, the side that goes first
    rotating (the first to touch a larger size pays the page faults of
    growing the heap), and the medians are returned.
    """
    twins = {"twin": TwinSeq2Seq, "new_twin": TwinParallelSeq2Seq}
    rows = []
    for length in lengths:
        X, y = make_reversal(
            n_sequences, min_length=length, max_length=length, random_state=0
        )
        n_tokens = sum(len(target) + 1 for target in y)
        seconds = {"ours": [], **{name: [] for name in twins}}
        for repeat in range(repeats):
            for side in rotated(list(seconds), repeat):
                if side == "ours":
                    timer = EpochCPUTime()
                    make_ours(1, timer, lr, cell=cell).fit(X, y)
                    seconds["ours"].append(timer.seconds[-1])
                    continue
                twin = Twin(X, y, lr, "cpu", CPUMeter, twins[side], cell=cell)
                seconds[side].append(twin.train_epoch(X, y))
        medians = {side: median(values) for side, values in seconds.items()}
        rows.append((length, medians, n_sequences, n_tokens))
    return rows


def median(values):
    return statistics.median(values)


def report(
    train, decode, peak, accuracy, scale_rows, unit="CPU-s", memory="peak RSS (MB)"
):
    """Print the throughput tables (and, given rows, the scaling table)."""
    names = [name for name in SIDES if name in train]
    print(f"\nThroughput per {unit} (median; higher is better)")
    short = {"twin": "old twin", "new_twin": "new twin", "ours_bf16": "ours bf16",
             "new_twin_bf16": "new bf16"}
    print(
        f"{'measure':<26}"
        + "".join(f"{short.get(name, name):>11}" for name in names)
    )
    lines = [("training target tokens", train)]
    lines += [("greedy sequences", decode[1])]
    lines += [("beam-5 sequences", decode[5])]
    for label, values in lines:
        print(
            f"{label:<26}"
            + "".join(f"{median(values[name]):>11.0f}" for name in names)
        )
    print(f"{memory:<26}" + "".join(f"{peak[name]:>11.0f}" for name in names))
    print("\nRatios ours / twin (higher is better)")
    print(f"{'measure':<26}{'/ old twin':>12}{'/ new twin':>12}")
    for label, values in lines:
        ours = median(values["ours"])
        print(
            f"{label:<26}{ours / median(values['twin']):>12.2f}"
            f"{ours / median(values['new_twin']):>12.2f}"
        )
    if "ours_bf16" in train:
        bf16 = median(train["ours_bf16"])
        print(
            f"\ntraining in bfloat16, ours / old twin (float32): "
            f"{bf16 / median(train['twin']):.2f}; ours / new twin (bfloat16): "
            f"{bf16 / median(train['new_twin_bf16']):.2f}; ours in bfloat16 / "
            f"ours in float32: {bf16 / median(train['ours']):.2f}"
        )
    print("\nall values:", {"train": train, "greedy": decode[1], "beam5": decode[5]})
    for name in names:
        beam_cost = median(decode[1][name]) / median(decode[5][name])
        print(
            f"{SIDES[name]}: beam-5 costs {beam_cost:.2f}x greedy per sequence; "
            f"exact match greedy {accuracy[(name, 1)]:.3f}, "
            f"beam-5 {accuracy[(name, 5)]:.3f}"
        )
    if scale_rows:
        report_scaling(scale_rows, unit)


def report_scaling(scale_rows, unit="CPU-s"):
    print(f"\nScaling with source length (reversal, one epoch, {unit})")
    print(
        f"{'length':>6}{'ours/1k seq':>13}{'ours/1k tok':>13}"
        f"{'per tok vs 10':>15}{'old twin/ours':>15}{'new twin/ours':>15}"
    )
    first = None
    for length, seconds, n_seq, n_tok in scale_rows:
        ours = seconds["ours"]
        per_token = 1000 * ours / n_tok
        first = first or per_token
        print(
            f"{length:>6}{1000 * ours / n_seq:>13.2f}{per_token:>13.3f}"
            f"{per_token / first:>15.2f}{seconds['twin'] / ours:>15.2f}"
            f"{seconds['new_twin'] / ours:>15.2f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--cell", choices=["gru", "lstm"], default="lstm",
        help="every side's recurrent cell (lstm: the estimator's default)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n_train, n_test, epochs, runs, n_scale = (
        (2_000, 512, 2, 2, 128) if args.quick else (20_000, 2_048, 3, 3, 1_280)
    )
    print(
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__},"
        f" {torch.get_num_threads()} thread(s), cell={args.cell}"
    )
    X, y = make_dates(n_train, random_state=0)
    X_test, y_test = make_dates(n_test, random_state=1)
    lr = 3e-3
    bfloat16 = native_bfloat16("cpu")
    train, decode, peak, accuracy = compare(
        X, y, X_test, y_test, epochs, runs, lr, bfloat16=bfloat16, cell=args.cell
    )
    report(train, decode, peak, accuracy, scale_rows=[])
    if not bfloat16:
        print("\nThis CPU has no native bfloat16: no bfloat16 line.")
    scale_rows = scaling(
        (10, 20, 40, 80, 160), n_scale, lr, repeats=1 if args.quick else 3,
        cell=args.cell,
    )
    report_scaling(scale_rows)


if __name__ == "__main__":
    main()
