"""Peak memory of inference on 10,000 and 1,000,000 short inputs.

``predict``, ``transform`` and ``attention_weights`` should stream their
input in batches (seq2seq: ``predict_batch_size`` sequences at a time;
pooling: chunks of a bounded number of values), so that the memory a call
adds is about one batch plus the output, whatever the number of inputs.

Each measurement runs in its own process. A process fits a tiny model on
64 samples, builds the input, resets the kernel's peak resident set size
(Linux ``/proc/self/clear_refs``), records the resident size, calls one
method once and reads the peak (``VmHWM``). The table gives the sizes of
the input and of the output (bytes of an array, or an estimate from a sample
for a list of Python objects), the resident size before the call, the peak
during it and the difference: what the call added at its worst, for 10,000
and 1,000,000 inputs side by side. A streaming call adds about its output
plus one batch; a call that materialises per-sample intermediates for the
whole input adds a multiple of the input.

Run::

    python benchmarks/bench_memory.py            # both sizes, every method
    python benchmarks/bench_memory.py --sizes 10000 100000
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

CASES = [
    ("AttentionSeq2Seq", "predict"),
    ("AttentionSeq2Seq", "attention_weights"),
    ("AttentionPooling", "transform"),
    ("AttentionPoolingClassifier", "predict"),
    ("AttentionPoolingClassifier", "attention_weights"),
]


def status_mib(field):
    """A memory field of /proc/self/status (``VmRSS``, ``VmHWM``), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak():
    """Make the peak resident size start again from the current size."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def object_mib(value):
    """Approximate size of an array, or of a list of strings/arrays, in MiB."""
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value.nbytes / 2**20
    items = list(value)
    sample = items[:: max(1, len(items) // 1000)]
    each = np.mean([sys.getsizeof(item) for item in sample])
    return (8 * len(items) + each * len(items)) / 2**20


def measure(estimator, method, n_samples):
    """Fit a tiny model, then report the memory one call on n_samples adds."""
    import torch

    torch.set_num_threads(1)
    rng = np.random.RandomState(0)
    if estimator == "AttentionSeq2Seq":
        from sk_attention import AttentionSeq2Seq

        train = ["".join(rng.choice(list("abcdef"), 5)) for _ in range(64)]
        model = AttentionSeq2Seq(
            embedding_dim=8, hidden_size=8, max_epochs=1, max_output_length=6,
            validation_fraction=None, early_stopping=False, random_state=0,
        ).fit(train, [x[::-1] for x in train])
        # Short strings of 5 characters.
        codes = rng.randint(0, 6, size=(n_samples, 5)).astype(np.uint8)
        X = ["".join("abcdef"[c] for c in row) for row in codes]
        del codes
    else:
        import sk_attention

        Estimator = getattr(sk_attention, estimator)
        model = Estimator(
            hidden_layer_sizes=(8,), attention_size=8, max_epochs=1, random_state=0
        ).fit(rng.normal(size=(64, 5, 3)), np.arange(64) % 2)
        # Short sequences: 5 steps of 3 features.
        X = np.random.default_rng(0).standard_normal((n_samples, 5, 3), np.float32)
    reset_peak()
    before = status_mib("VmRSS")
    output = getattr(model, method)(X)
    peak = status_mib("VmHWM")
    return {
        "input_mib": object_mib(X),
        "output_mib": object_mib(output),
        "rss_before_mib": before,
        "peak_mib": peak,
    }


def run_child(estimator, method, n_samples):
    """One measurement in a fresh interpreter; its JSON result."""
    command = [
        sys.executable, __file__, "--child", estimator, method, str(n_samples)
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 1_000_000])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        estimator, method, n_samples = args.child
        print(json.dumps(measure(estimator, method, int(n_samples))))
        return
    small, large = args.sizes
    header = (
        f"{'estimator.method':46} {'n':>9} {'input':>8} {'output':>8} "
        f"{'RSS before':>11} {'peak':>8} {'call adds':>10}"
    )
    print("Resident memory in MiB, one process per row\n")
    print(header)
    print("-" * len(header))
    for estimator, method in CASES:
        for n_samples in (small, large):
            result = run_child(estimator, method, n_samples)
            adds = result["peak_mib"] - result["rss_before_mib"]
            print(
                f"{estimator + '.' + method:46} {n_samples:>9,} "
                f"{result['input_mib']:>8.1f} {result['output_mib']:>8.1f} "
                f"{result['rss_before_mib']:>11.1f} "
                f"{result['peak_mib']:>8.1f} {adds:>10.1f}"
            )
        print()


if __name__ == "__main__":
    main()
