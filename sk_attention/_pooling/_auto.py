"""The rules that resolve the pooling estimators' ``"auto"`` settings.

:data:`AUTO_RULES` is the one table of them, in the order they run. Each
rule has the signature of
:attr:`~sk_attention._base.AttentionEstimator._auto_rules`,
``rule(estimator, encoding, training) -> value``, and is written out in the
parameter's docstring (:mod:`._docs`). The training settings depend on the
kind of input ``fit`` got (:func:`input_kind`):

- text (strings or token lists): training sized from the number of texts,
  so that a few thousand sentences and forty thousand words both train in
  minutes;
- numeric sequences read by an encoder (time series): the recipe of
  :mod:`._recipe`, small batches and thousands of updates, a cosine
  schedule and the best epoch's weights;
- numeric bags and sets (``encoder=None``): the fixed values these settings
  had before they could be ``"auto"``, so that models of bags train as
  they always did.

The network settings (``encoder_size``, ``attention``, ``dropout``,
``scaling``) follow the encoder: ``encoder="fcn"`` gets the published
network of the time-series literature, every other encoder what the
settings were before. ``label_smoothing`` smooths the targets of text
classifiers only; ``linear_ngrams`` adds a bag of word n-grams to the
predictions of texts read as words.
"""

import math

from sklearn.base import TransformerMixin

from .._base import AUTO
from ._linear_ngrams import BUCKETS
from ._recipe import series_batch_size, series_max_epochs

__all__ = [
    "AUTO_RULES",
    "BAGS",
    "SERIES",
    "TEXT",
    "batch_order_params",
    "embedding_param_groups",
    "input_kind",
    "text_embedding_dim",
]

#: The kinds of input the rules tell apart.
TEXT, SERIES, BAGS = "text", "series", "bags"

#: Numeric bags and sets: the fixed values of earlier versions.
BAG_SETTINGS = {
    "batch_size": 32,
    "max_epochs": 100,
    "early_stopping": False,
    "n_iter_no_change": 10,
    "lr_schedule": "constant",
    "keep_best": False,
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


def input_kind(estimator, encoding):
    """:data:`TEXT`, :data:`SERIES` (numeric input read by an encoder) or
    :data:`BAGS` (numeric input with ``encoder=None``)."""
    if encoding.get("vocabulary_") is not None:
        return TEXT
    return BAGS if estimator.encoder is None else SERIES


def _n_samples(training):
    return 0 if training.dataset is None else len(training.dataset)


def _n_steps(training):
    """Steps (time points, tokens) of all training sequences together."""
    return 0 if training.dataset is None else int(training.dataset.lengths.sum())


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


# -- the network ----------------------------------------------------------------


def embedding_dim_rule(estimator, encoding, training):
    return text_embedding_dim(estimator)


def scaling_rule(estimator, encoding, training):
    # A univariate series' shape (its z-normalised values, as the UCR
    # literature prepares series) and its level and amplitude (the global
    # view) can each be what tells the classes apart; the channels of
    # multivariate series already tell by their relative levels.
    univariate = encoding.get("n_features_in_") == 1
    if estimator.encoder == "fcn" and univariate:
        return "series_and_global"
    return "global"


#: ``encoder_size="auto"``: the published FCN's width for ``"fcn"``.
FCN_ENCODER_SIZE, ENCODER_SIZE = 128, 64


def encoder_size_rule(estimator, encoding, training):
    return FCN_ENCODER_SIZE if estimator.encoder == "fcn" else ENCODER_SIZE


def attention_rule(estimator, encoding, training):
    return "mean" if estimator.encoder == "fcn" else "gated"


def dropout_rule(estimator, encoding, training):
    return 0.0 if estimator.encoder == "fcn" else 0.2


#: ``linear_ngrams="auto"`` for texts read as words: unigrams and bigrams,
#: the n-grams of a TF-IDF model.
TEXT_LINEAR_NGRAMS = 2
#: ``linear_ngrams="auto"``: no term with more weights than this (64 MB of
#: float32), since the optimizer updates every one of them at every step.
MAX_NGRAM_WEIGHTS = 2**24


def linear_ngrams_rule(estimator, encoding, training):
    if input_kind(estimator, encoding) != TEXT or estimator.tokenizer == "char":
        return None  # character n-grams are what the encoder reads already
    if isinstance(estimator, TransformerMixin):
        return None  # its output, the pooled vector, would not see the term
    rows = len(encoding["vocabulary_"]) + BUCKETS
    if rows * encoding["_n_outputs"] > MAX_NGRAM_WEIGHTS:
        return None  # many classes: the term would cost more than the network
    return TEXT_LINEAR_NGRAMS


# -- the loss -------------------------------------------------------------------

#: Text classification: the share of each target spread over all classes.
TEXT_LABEL_SMOOTHING = 0.1


def label_smoothing_rule(estimator, encoding, training):
    # A text classifier fits its few thousand training texts within a few
    # epochs and grows over-confident on new ones, which a soft vote with a
    # linear model pays for; numeric input keeps the plain cross-entropy.
    text = input_kind(estimator, encoding) == TEXT
    classes = encoding["_task"] == "classification"
    return TEXT_LABEL_SMOOTHING if text and classes else 0.0


# -- training -------------------------------------------------------------------


def text_batch_size(n_samples):
    """Text: a power of two near ``n_samples / TEXT_BATCHES_PER_EPOCH``,
    within ``TEXT_BATCH_SIZES``.

    Examples
    --------
    >>> text_batch_size(300), text_batch_size(40_000)
    (32, 128)
    """
    smallest, largest = TEXT_BATCH_SIZES
    power = 2 ** math.floor(math.log2(max(1.0, n_samples / TEXT_BATCHES_PER_EPOCH)))
    return int(min(largest, max(smallest, power)))


def text_max_epochs(n_samples, batch_size):
    """Text: epochs for about ``TEXT_UPDATES`` updates, within ``TEXT_EPOCHS``.

    Examples
    --------
    >>> text_max_epochs(300, 32), text_max_epochs(40_000, 128)
    (100, 13)
    """
    batches = math.ceil(n_samples / batch_size)
    fewest, most = TEXT_EPOCHS
    return int(min(most, max(fewest, math.ceil(TEXT_UPDATES / batches))))


def batch_size_rule(estimator, encoding, training):
    kind = input_kind(estimator, encoding)
    if kind == BAGS:
        return BAG_SETTINGS["batch_size"]
    n = max(1, _n_samples(training))
    return series_batch_size(n) if kind == SERIES else text_batch_size(n)


def early_stopping_rule(estimator, encoding, training):
    if input_kind(estimator, encoding) != TEXT:
        return BAG_SETTINGS["early_stopping"]
    if estimator.validation_fraction is None:
        return False  # nothing to watch
    return _n_samples(training) >= TEXT_EARLY_STOPPING_FROM


def validation_fraction_rule(estimator, encoding, training):
    return 0.1 if estimator.early_stopping else None


def n_iter_no_change_rule(estimator, encoding, training):
    if input_kind(estimator, encoding) == TEXT:
        return 3
    return BAG_SETTINGS["n_iter_no_change"]


def embedding_lr_rule(estimator, encoding, training):
    text = input_kind(estimator, encoding) == TEXT
    return (TEXT_EMBEDDING_LR_SCALE if text else 1) * estimator.lr


def embedding_param_groups(estimator, encoding):
    """The skorch ``optimizer__param_groups`` setting that gives the token
    and n-gram embeddings of a text network, and its bag-of-n-grams term,
    their own learning rate."""
    text = input_kind(estimator, encoding) == TEXT
    if not text or estimator.embedding_lr == estimator.lr:
        return {}
    group = {"lr": estimator.embedding_lr}
    names = ("tokens.*", "subwords.*", "ngrams.*")
    return {"optimizer__param_groups": [(name, group) for name in names]}


def batch_order_params(estimator, encoding):
    """The skorch settings of the order of the training batches.

    Text and bags: batches of similar lengths, cut from shuffled pools of
    50 batches, so that little is padded. Numeric sequences read by an
    encoder: uniformly shuffled batches, as the recipe of :mod:`._recipe`
    trains them. A few dozen series fit in one pool, where sorting by length
    makes the same batches every epoch (of one class each where the length
    follows the class), which batch normalisation's statistics and
    thousands of updates on the same batches cannot afford.
    """
    if input_kind(estimator, encoding) != SERIES:
        return {}
    return {"iterator_train__pool_batches": 1}


def max_epochs_rule(estimator, encoding, training):
    kind = input_kind(estimator, encoding)
    if kind == BAGS:
        return BAG_SETTINGS["max_epochs"]
    n = max(1, _n_samples(training))
    if kind == SERIES:
        return series_max_epochs(n, estimator.batch_size, _n_steps(training))
    return text_max_epochs(n, estimator.batch_size)


def lr_schedule_rule(estimator, encoding, training):
    if input_kind(estimator, encoding) == SERIES:
        return "cosine"
    return BAG_SETTINGS["lr_schedule"]


def keep_best_rule(estimator, encoding, training):
    if input_kind(estimator, encoding) == SERIES:
        return True
    return BAG_SETTINGS["keep_best"]


#: Parameter -> rule, in the order they run (later rules read the values
#: earlier ones resolved: the epochs follow from the batch size, the
#: validation split from early stopping).
AUTO_RULES = {
    "embedding_dim": embedding_dim_rule,
    "scaling": scaling_rule,
    "encoder_size": encoder_size_rule,
    "attention": attention_rule,
    "dropout": dropout_rule,
    "linear_ngrams": linear_ngrams_rule,
    "label_smoothing": label_smoothing_rule,
    "batch_size": batch_size_rule,
    "early_stopping": early_stopping_rule,
    "validation_fraction": validation_fraction_rule,
    "n_iter_no_change": n_iter_no_change_rule,
    "embedding_lr": embedding_lr_rule,
    "max_epochs": max_epochs_rule,
    "lr_schedule": lr_schedule_rule,
    "keep_best": keep_best_rule,
}
