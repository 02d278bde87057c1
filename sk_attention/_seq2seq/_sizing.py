"""The size-aware defaults of :class:`AttentionSeq2Seq`.

A setting left at ``"auto"`` is resolved in ``fit`` from the number of
training pairs (see ``AttentionEstimator._auto_rules``). Below
:data:`LARGE_DATA` pairs the model stays small and quick: a few thousand
pairs learn in a minute or two and a larger network only overfits them.
From :data:`LARGE_DATA` pairs on, a wider, two-layer network with label
smoothing learns more per CPU-minute, and a higher peak learning rate
gets there sooner; a time budget of an hour or more (:data:`LONG_BUDGET`)
in bfloat16 buys a still wider recurrent network. The decoder feeds its
attentional vector back on small data, where that learns more per epoch
and per CPU-second, and trains all steps at once from :data:`LARGE_DATA`
pairs on, where epochs are what cost (the sizing section of the user guide
and the benchmarks page measure both sides of the rule).

With ``max_time`` the time budget, not an epoch count, ends training, and
the learning rate anneals to zero at its end, so the last epoch is the one
to keep: on large data the tenth held out to choose an epoch is then worth
more as training pairs, and the defaults train on every pair.

Training in bfloat16 pays where the matmuls of a larger model dominate and
the hardware computes bfloat16 natively; on small data a fit stays in
float32, so that its results do not depend on the machine.
"""

import torch

from .._base import _is_auto

__all__ = ["LARGE_DATA", "LONG_BUDGET", "SIZE_RULES", "native_bfloat16"]

#: Training pairs (before the validation split) from which the larger model
#: is the default.
LARGE_DATA = 20_000


def _is_large(training):
    return len(training.dataset) >= LARGE_DATA


def _by_size(small, large):
    """A rule giving ``small`` below :data:`LARGE_DATA` pairs, else ``large``."""

    def rule(estimator, encoding, training):
        return large if _is_large(training) else small

    return rule


def _learning_rate(estimator, encoding, training):
    # The Transformer's peak follows its warm-up, whatever the data size.
    if estimator.architecture == "transformer" or not _is_large(training):
        return 1e-3
    return 2e-3


#: ``max_time`` (seconds) from which the recurrent model on large data,
#: trained in bfloat16, is :data:`LONG_BUDGET_WIDTH` wide instead of 256.
#: An hour of bfloat16 trains the wider network for enough epochs to pay
#: (the benchmarks page compares 256, 384 and 512 in the hour; shorter
#: budgets were measured at 256). In float32 an epoch of the wider network
#: costs 2.8 times as much, and it was not measured there.
LONG_BUDGET = 3600
LONG_BUDGET_WIDTH = 512


_width_by_size = _by_size(128, 256)


def _hidden_size(estimator, encoding, training):
    long_budget = estimator.max_time is not None and estimator.max_time >= LONG_BUDGET
    recurrent_bfloat16 = (
        estimator.architecture == "rnn" and estimator.precision == "bfloat16"
    )
    if _is_large(training) and long_budget and recurrent_bfloat16:
        return LONG_BUDGET_WIDTH
    return _width_by_size(estimator, encoding, training)


def _dropout(estimator, encoding, training):
    # The same at every size: on 100,000 CMUdict pairs 0.2 cost WER within
    # 20 and 60 CPU-minutes, 0.3 and 0.0 within 60 (the benchmarks page).
    return 0.1


def native_bfloat16(device):
    """Whether ``device`` computes bfloat16 matmuls natively.

    A CPU with the AVX512-BF16 or AMX instructions, or a CUDA GPU that
    supports bfloat16; elsewhere autocast to bfloat16 emulates it slowly.

    Parameters
    ----------
    device : str or torch.device

    Returns
    -------
    bool
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def _precision(estimator, encoding, training):
    if estimator.architecture == "rnn" and _is_large(training):
        if native_bfloat16(estimator.device):
            return "bfloat16"
    return "float32"


def _max_epochs(estimator, encoding, training):
    return 20 if estimator.max_time is None else UNTIL_MAX_TIME


#: The epoch bound under ``max_time``: in practice, none.
UNTIL_MAX_TIME = 100_000


def _validation_fraction(estimator, encoding, training):
    stopping = estimator.early_stopping
    asked_to_stop = not _is_auto(stopping) and bool(stopping)
    timed = estimator.max_time is not None
    return None if timed and _is_large(training) and not asked_to_stop else 0.1


def _early_stopping(estimator, encoding, training):
    return estimator.validation_fraction is not None


#: Parameter name -> rule, in the order they resolve.
SIZE_RULES = {
    "input_feeding": _by_size(True, False),
    "embedding_dim": _by_size(64, 128),
    # Before the width, which it sets on a long budget.
    "precision": _precision,
    "hidden_size": _hidden_size,
    "num_layers": _by_size(1, 2),
    "dropout": _dropout,
    "label_smoothing": _by_size(0.0, 0.1),
    "lr": _learning_rate,
    # A validation split of thousands of pairs has a steady error, so
    # every epoch without a new best is worth a halving.
    "lr_patience": _by_size(2, 0),
    "max_epochs": _max_epochs,
    # Before early stopping, which watches the split.
    "validation_fraction": _validation_fraction,
    "early_stopping": _early_stopping,
}
