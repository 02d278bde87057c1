"""The training recipe of numeric sequences read by an encoder (time series).

They are trained as the deep time-series classifiers of the UCR/UEA
literature are (Wang et al., 2017; Ismail Fawaz et al., 2019): small
batches, thousands of updates however few the series, and the weights of
the best epoch kept. The learning rate follows a cosine to zero over the
epochs (Loshchilov and Hutter, 2017), where the literature halves it when
the loss stops improving: knowing how long training lasts, the schedule
spends all of it, and with the same updates it ends at a more accurate
network (the comparison is in the benchmarks page of the docs).

This module holds the sizes of that recipe as pure functions of the data,
which the ``"auto"`` rules of :mod:`._auto` call for that kind of input,
and the skorch callbacks it switches on: the learning-rate schedule
(``max_time``'s annealing in its place when given) and keeping the best
epoch.
"""

import math

from skorch.callbacks import EarlyStopping, LRScheduler
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau

from .._training import time_budget_schedule

__all__ = [
    "MAX_SERIES_BATCH",
    "MIN_SERIES_EPOCHS",
    "SERIES_STEPS",
    "SERIES_UPDATES",
    "keep_best_callbacks",
    "learning_rate_schedule",
    "series_batch_size",
    "series_max_epochs",
]

#: Updates (batches) aimed at for numeric sequences...
SERIES_UPDATES = 3000
#: ... unless the epochs they take would show the network more than this
#: many steps (time points) in all; at least ``MIN_SERIES_EPOCHS`` epochs.
#: The published FCN sees a step in about 18 CPU-microseconds on one thread,
#: so this bounds the recipe at about a quarter of an hour there, while
#: sets of a hundred series of a thousand steps still get their updates.
SERIES_STEPS = 50_000_000
MIN_SERIES_EPOCHS = 10
#: Largest batch of numeric sequences (dl-4-tsc's ``min(n / 10, 16)``).
MAX_SERIES_BATCH = 16


def series_batch_size(n_samples):
    """``min(16, max(2, n_samples // 10))``."""
    return min(MAX_SERIES_BATCH, max(2, n_samples // 10))


def series_max_epochs(n_samples, batch_size, n_steps):
    """Epochs of about :data:`SERIES_UPDATES` updates, within
    :data:`SERIES_STEPS` steps seen, at least :data:`MIN_SERIES_EPOCHS`.

    ``n_steps`` is the number of steps (time points) of all training
    sequences together.

    Examples
    --------
    36 series of 251 steps in batches of 3: 12 batches an epoch, 250 epochs
    for 3,000 updates (2.3 million steps seen); 100 series of 1,460 steps in
    batches of 10: 300 epochs (44 million steps); 10,000 series of 500 steps
    in batches of 16: the step budget allows 10 epochs.

    >>> series_max_epochs(36, 3, 36 * 251), series_max_epochs(100, 10, 146_000)
    (250, 300)
    >>> series_max_epochs(10_000, 16, 5_000_000)
    10
    """
    batches = math.ceil(max(1, n_samples) / batch_size)
    epochs = math.ceil(SERIES_UPDATES / batches)
    affordable = SERIES_STEPS // max(1, int(n_steps))
    return max(MIN_SERIES_EPOCHS, min(epochs, affordable))


def learning_rate_schedule(estimator):
    """Named skorch callbacks that set the learning rate.

    ``estimator`` holds resolved values. With ``max_time``, the annealing
    to its deadline (:class:`~sk_attention._training.TimeBudget`). Else,
    with ``lr_schedule="cosine"``, epoch ``k`` of ``E = max_epochs`` trains
    at ``lr * (1 + cos(pi * k / E)) / 2`` (torch's ``CosineAnnealingLR``,
    stepped after each epoch), from ``lr`` down to almost zero in the last
    epoch. With ``lr_schedule="plateau"``, the learning rate halves after
    ``max(5, max_epochs // 40)`` epochs without a relative improvement of
    1e-4 of the validation loss (the training loss without a validation
    split), down to ``lr / 10`` (the patience of dl-4-tsc is 50 epochs of
    2,000).
    """
    if estimator.max_time is not None:
        return time_budget_schedule(estimator)
    if estimator.lr_schedule == "cosine":
        cosine = LRScheduler(policy=CosineAnnealingLR, T_max=estimator.max_epochs)
        return [("lr_schedule", cosine)]
    if estimator.lr_schedule != "plateau":
        return []
    plateau = LRScheduler(
        policy=ReduceLROnPlateau,
        monitor=_monitor(estimator),
        factor=0.5,
        patience=max(5, estimator.max_epochs // 40),
        min_lr=estimator.lr / 10,
    )
    return [("lr_schedule", plateau)]


def keep_best_callbacks(estimator):
    """Named skorch callbacks of ``keep_best``.

    Keeping the best epoch (by the validation loss, or the training loss
    without a validation split) is skorch's
    :class:`~skorch.callbacks.EarlyStopping` with a patience longer than
    training, so it never stops; with ``early_stopping=True`` that callback
    already restores the best epoch.
    """
    if not estimator.keep_best or estimator.early_stopping:
        return []
    best = EarlyStopping(
        monitor=_monitor(estimator),
        patience=estimator.max_epochs + 1,
        load_best=True,
        sink=_silent,
    )
    return [("keep_best", best)]


def _monitor(estimator):
    return "valid_loss" if estimator.validation_fraction else "train_loss"


def _silent(*args, **kwargs):
    pass
