"""The training recipe of the pooling estimators, sized from the data.

The ``"auto"`` rules of :attr:`BaseAttentionPooling._auto_rules` and the
skorch callbacks they switch on. Numeric sequences read by an encoder (time
series) are trained as the deep time-series classifiers of the UCR/UEA
literature are (Wang et al., 2017; Ismail Fawaz et al., 2019): each series
z-normalised on its own (univariate series), averaged over time and trained
without dropout (for ``encoder="fcn"``, the network of that literature),
small batches, thousands of
updates however few the series, the learning rate halved when the loss stops
improving, and the weights of the best epoch kept. Bags and sets
(``encoder=None``) and text keep the settings they had before the rules:
batches of 32 for 100 epochs, a constant learning rate, the last epoch's
weights. Every rule is a pure function of the estimator's settings, the
fitted encoding and the training data.
"""

import math

from skorch.callbacks import EarlyStopping, LRScheduler
from torch.optim.lr_scheduler import ReduceLROnPlateau

__all__ = [
    "BAG_BATCH_SIZE",
    "BAG_EPOCHS",
    "SERIES_STEPS",
    "SERIES_UPDATES",
    "recipe_callbacks",
    "resolve_attention",
    "resolve_batch_size",
    "resolve_dropout",
    "resolve_keep_best",
    "resolve_lr_schedule",
    "resolve_max_epochs",
    "resolve_scaling",
]

#: Batches and epochs of bags, sets and text (the settings before the rules).
BAG_BATCH_SIZE = 32
BAG_EPOCHS = 100

#: Updates (batches) aimed at for numeric sequences...
SERIES_UPDATES = 3000
#: ... unless the epochs they take would show the network more than this
#: many steps (time points) in all; at least ``MIN_SERIES_EPOCHS`` epochs.
SERIES_STEPS = 5_000_000
MIN_SERIES_EPOCHS = 10
#: Largest batch of numeric sequences (dl-4-tsc's ``min(n / 10, 16)``).
MAX_SERIES_BATCH = 16


def _series(estimator, encoding):
    """Whether the input is numeric sequences read by an encoder."""
    return estimator.encoder is not None and encoding["vocabulary_"] is None


def _dataset(training):
    return None if training is None else training.dataset


def resolve_scaling(estimator, encoding, training):
    """``"series"`` for univariate series and ``encoder="fcn"``, else
    ``"global"``.

    The univariate UCR archive is published z-normalised and its literature
    z-normalises every series; in multivariate series the channels' levels
    and relative amplitudes can be what tells classes apart (z-normalising
    each channel of Japanese Vowels cost 0.18 accuracy, see
    :doc:`/benchmarks`), so they keep one scale for all values.
    """
    univariate = encoding["n_features_in_"] == 1
    return "series" if estimator.encoder == "fcn" and univariate else "global"


def resolve_attention(estimator, encoding, training):
    """``"mean"`` for ``encoder="fcn"``, else ``"gated"``."""
    return "mean" if estimator.encoder == "fcn" else "gated"


def resolve_dropout(estimator, encoding, training):
    """0 for ``encoder="fcn"``, else 0.2."""
    return 0.0 if estimator.encoder == "fcn" else 0.2


def resolve_batch_size(estimator, encoding, training):
    """``min(16, max(2, n_samples // 10))`` for numeric sequences, else 32."""
    dataset = _dataset(training)
    if dataset is None or not _series(estimator, encoding):
        return BAG_BATCH_SIZE
    return min(MAX_SERIES_BATCH, max(2, len(dataset) // 10))


def resolve_max_epochs(estimator, encoding, training):
    """Epochs of about :data:`SERIES_UPDATES` updates, within
    :data:`SERIES_STEPS` steps seen, for numeric sequences; else 100.

    Examples
    --------
    36 series of 251 steps in batches of 3: 12 batches an epoch, 250 epochs
    for 3,000 updates (2.3 million steps seen); 10,000 series of 500 steps
    in batches of 16: the step budget allows one epoch, so 10.
    """
    dataset = _dataset(training)
    if dataset is None or not _series(estimator, encoding):
        return BAG_EPOCHS
    batches = math.ceil(len(dataset) / estimator.batch_size)
    epochs = math.ceil(SERIES_UPDATES / batches)
    affordable = SERIES_STEPS // max(1, int(dataset.lengths.sum()))
    return max(MIN_SERIES_EPOCHS, min(epochs, affordable))


def resolve_lr_schedule(estimator, encoding, training):
    """``"plateau"`` for numeric sequences, else ``"constant"``."""
    if _dataset(training) is None or not _series(estimator, encoding):
        return "constant"
    return "plateau"


def resolve_keep_best(estimator, encoding, training):
    """True for numeric sequences, else False."""
    return _dataset(training) is not None and _series(estimator, encoding)


def recipe_callbacks(estimator):
    """Named skorch callbacks of ``lr_schedule`` and ``keep_best``.

    ``estimator`` holds resolved values. Both watch the validation loss
    when there is a validation split, else the training loss. The plateau
    schedule halves the learning rate after ``max(5, max_epochs // 40)``
    epochs without a relative improvement of 1e-4, down to ``lr / 10``
    (the patience of dl-4-tsc is 50 epochs of 2,000). Keeping the best
    epoch is skorch's :class:`~skorch.callbacks.EarlyStopping` with a
    patience longer than training, so it never stops; with
    ``early_stopping=True`` that callback already restores the best epoch.
    """
    monitor = "valid_loss" if estimator.validation_fraction else "train_loss"
    callbacks = []
    if estimator.lr_schedule == "plateau":
        plateau = LRScheduler(
            policy=ReduceLROnPlateau,
            monitor=monitor,
            factor=0.5,
            patience=max(5, estimator.max_epochs // 40),
            min_lr=estimator.lr / 10,
        )
        callbacks.append(("lr_schedule", plateau))
    if estimator.keep_best and not estimator.early_stopping:
        best = EarlyStopping(
            monitor=monitor,
            patience=estimator.max_epochs + 1,
            load_best=True,
            sink=_silent,
        )
        callbacks.append(("keep_best", best))
    return callbacks


def _silent(*args, **kwargs):
    pass
