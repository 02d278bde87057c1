"""The seq2seq benchmark on a CUDA GPU: ours against the twin, fp32 and bf16.

The measurements of ``bench_seq2seq.py`` (training target tokens per second,
greedy and beam-5 sequences per second at batch 256, ratios ours/twin) with
``device="cuda"``, timed on the wall clock after synchronising the device,
with the peak of allocated GPU memory instead of the resident set. Then,
where the GPU offers bfloat16, both sides train once more in mixed
precision: the twin under ``torch.autocast``, our side as
``sk_attention.distributed.AcceleratedAttentionSeq2Seq`` with
``ACCELERATE_MIXED_PRECISION=bf16`` (one process; it needs the
``distributed`` extra).

Run on a machine with CUDA (about 2 minutes; it exits with a message and
status 0 where CUDA is absent)::

    python benchmarks/gpu_check.py            # 20,000 dates, 3 epochs
    python benchmarks/gpu_check.py --quick    # 2,000 dates, 2 epochs
"""

import argparse
import os
import sys
import time

import torch
from bench_seq2seq import compare, median, report

from sk_attention.datasets import make_dates


class CUDAMeter:
    """Wall seconds after synchronising, and peak allocated GPU memory (MB)."""

    @staticmethod
    def clock():
        torch.cuda.synchronize()
        return time.perf_counter()

    @staticmethod
    def reset_peak():
        torch.cuda.reset_peak_memory_stats()

    @staticmethod
    def peak():
        return torch.cuda.max_memory_allocated() / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("CUDA is not available on this machine; nothing to measure.")
        return 0
    n_train, n_test, epochs, runs = (
        (2_000, 512, 2, 2) if args.quick else (20_000, 2_048, 3, 3)
    )
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}")
    X, y = make_dates(n_train, random_state=0)
    X_test, y_test = make_dates(n_test, random_state=1)
    results = compare(
        X, y, X_test, y_test, epochs, runs, 3e-3, device="cuda", meter=CUDAMeter
    )
    report(*results, scale_rows=[], unit="second", memory="peak GPU memory (MB)")
    if not torch.cuda.is_bf16_supported():
        print("\nThis GPU does not support bfloat16; no autocast row.")
        return 0
    print("\nbfloat16 mixed precision, both sides")
    print(mixed_precision(X, y, X_test[:256], y_test[:256], epochs, "cuda", CUDAMeter))
    return 0


def mixed_precision(X, y, X_test, y_test, epochs, device, meter):
    """Training throughput of both sides in bf16 mixed precision, as a line."""
    from sk_attention.distributed import AcceleratedAttentionSeq2Seq

    os.environ["ACCELERATE_MIXED_PRECISION"] = "bf16"
    try:
        train, *_ = compare(
            X, y, X_test, y_test, epochs, 1, 3e-3, device=device, meter=meter,
            twin_autocast=torch.bfloat16, estimator=AcceleratedAttentionSeq2Seq,
        )
    except RuntimeError as error:  # e.g. an RNN kernel without bfloat16
        return f"bfloat16 training failed: {error}"
    finally:
        del os.environ["ACCELERATE_MIXED_PRECISION"]
    ours, twin = median(train["ours"]), median(train["twin"])
    return (
        f"training target tokens per second: ours {ours:.0f}, twin {twin:.0f}, "
        f"ratio {ours / twin:.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
