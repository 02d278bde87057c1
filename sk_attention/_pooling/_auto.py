"""The rules that resolve the pooling estimators' ``"auto"`` settings.

Each rule has the signature of
:attr:`~sk_attention._base.AttentionEstimator._auto_rules`,
``rule(estimator, encoding, training) -> value``, and is written out in the
parameter's docstring (:mod:`._docs`). For text input the rules size
training from the number of training texts, so that a few thousand
sentences and forty thousand words both train in minutes; for numeric input
the batch size and epochs follow the training recipe of ``_recipe.py``, and
the other settings keep the values they had before they could be
``"auto"``.
"""

import math

from .._base import AUTO
from ._recipe import resolve_batch_size, resolve_max_epochs

__all__ = ["AUTO_RULES", "embedding_param_groups", "text_embedding_dim"]

#: What numeric input gets: the fixed defaults of earlier versions (its
#: batch size and epochs follow the recipe of ``_recipe.py``).
_NUMERIC = {
    "early_stopping": False,
    "n_iter_no_change": 10,
}

#: Text: early stopping from this many training texts on.
TEXT_EARLY_STOPPING_FROM = 2000
#: Text: about this many batches per epoch, within the batch size bounds.
TEXT_BATCHES_PER_EPOCH = 250
TEXT_BATCH_SIZES = (32, 256)
#: Text: about this many updates in all, within the epoch bounds.
TEXT_UPDATES = 4000
TEXT_EPOCHS = (10, 100)
#: Text: the width of the embedding without pretrained vectors.
TEXT_EMBEDDING_DIM = 64
#: Text: the token and n-gram embeddings learn this many times faster than
#: the rest of the network. A word seen once an epoch gets one update an
#: epoch, which at the network's rate barely moves a pretrained vector.
TEXT_EMBEDDING_LR_SCALE = 10


def _is_text(encoding):
    return encoding.get("vocabulary_") is not None


def _n_samples(training):
    return 0 if training.dataset is None else len(training.dataset)


def text_embedding_dim(estimator):
    """The embedding width of ``embedding_dim="auto"``: that of the
    pretrained vectors when there are any."""
    if estimator.embedding_dim != AUTO:
        return estimator.embedding_dim
    pretrained = estimator.pretrained_embeddings
    try:
        return int(len(pretrained[1][0]))
    except (TypeError, IndexError, KeyError):
        return TEXT_EMBEDDING_DIM  # no vectors, or a malformed pair refused later


def embedding_dim_rule(estimator, encoding, training):
    return text_embedding_dim(estimator)


def batch_size_rule(estimator, encoding, training):
    if not _is_text(encoding):
        return resolve_batch_size(estimator, encoding, training)
    n = max(1, _n_samples(training))
    smallest, largest = TEXT_BATCH_SIZES
    power = 2 ** math.floor(math.log2(max(1.0, n / TEXT_BATCHES_PER_EPOCH)))
    return int(min(largest, max(smallest, power)))


def early_stopping_rule(estimator, encoding, training):
    if not _is_text(encoding):
        return _NUMERIC["early_stopping"]
    if estimator.validation_fraction is None:
        return False  # nothing to watch
    return _n_samples(training) >= TEXT_EARLY_STOPPING_FROM


def validation_fraction_rule(estimator, encoding, training):
    return 0.1 if estimator.early_stopping else None


def n_iter_no_change_rule(estimator, encoding, training):
    return 3 if _is_text(encoding) else _NUMERIC["n_iter_no_change"]


def embedding_lr_rule(estimator, encoding, training):
    scale = TEXT_EMBEDDING_LR_SCALE if _is_text(encoding) else 1
    return scale * estimator.lr


def embedding_param_groups(estimator, encoding):
    """The skorch ``optimizer__param_groups`` setting that gives the token
    and n-gram embeddings of a text network their own learning rate."""
    if not _is_text(encoding) or estimator.embedding_lr == estimator.lr:
        return {}
    group = {"lr": estimator.embedding_lr}
    return {"optimizer__param_groups": [("tokens.*", group), ("subwords.*", group)]}


def max_epochs_rule(estimator, encoding, training):
    if not _is_text(encoding):
        return resolve_max_epochs(estimator, encoding, training)
    batches = math.ceil(max(1, _n_samples(training)) / estimator.batch_size)
    fewest, most = TEXT_EPOCHS
    return int(min(most, max(fewest, math.ceil(TEXT_UPDATES / batches))))


#: Parameter -> rule, in the order they run (later rules read the values
#: earlier ones resolved).
AUTO_RULES = {
    "embedding_dim": embedding_dim_rule,
    "batch_size": batch_size_rule,
    "early_stopping": early_stopping_rule,
    "validation_fraction": validation_fraction_rule,
    "n_iter_no_change": n_iter_no_change_rule,
    "embedding_lr": embedding_lr_rule,
    "max_epochs": max_epochs_rule,
}
