"""What the pooling estimators read: numeric sequences in either layout, or text.

Numeric input is validated into a :class:`~sk_attention._ragged.RaggedArray`
of float32 steps, after moving the time axis where the network expects it
(:func:`check_numeric_input`). Text input (strings, or token lists) is
tokenized and mapped to ids through a :class:`~sk_attention._text.Vocabulary`
learned in ``fit`` (:func:`learn_vocabulary`), and stored as a
``RaggedArray`` of int64 ids with one "feature" per step
(:func:`token_sequences`). Every function is pure.
"""

import numpy as np

from .._ragged import RaggedArray, check_sequences
from .._text import (
    SPECIAL_TOKENS,
    Vocabulary,
    check_text_sequences,
    make_tokenizer,
    tokenize_items,
)
from ._ngrams import subword_sequences

__all__ = [
    "INPUT_LAYOUTS",
    "check_numeric_input",
    "is_text_input",
    "learn_vocabulary",
    "pretrained_rows",
    "token_sequences",
]

#: ``input_layout`` value -> the axis of a sample that holds its steps.
INPUT_LAYOUTS = {"steps_first": 0, "channels_first": 1}


def is_text_input(X):
    """Whether ``X`` holds strings or token lists rather than numbers.

    Examples
    --------
    >>> is_text_input(["a short text"]), is_text_input([["a", "b"]])
    (True, True)
    >>> is_text_input(np.zeros((2, 3)))
    False
    """
    if isinstance(X, (str, bytes)):
        return True  # refused by check_text_sequences, with the reason
    if isinstance(X, np.ndarray):
        if X.dtype.kind in "US":
            return True
        if X.dtype.kind != "O" or X.ndim != 1 or not len(X):
            return False
    elif getattr(X, "ndim", 1) != 1:  # a table: numeric sequences
        return False
    try:
        first = next(iter(X))
    except (TypeError, StopIteration):
        return False
    if isinstance(first, str):
        return True
    if isinstance(first, np.ndarray):
        return first.dtype.kind in "US"
    is_list = isinstance(first, (list, tuple)) and len(first) > 0
    return is_list and isinstance(first[0], str)


def check_numeric_input(X, input_layout, n_features=None):
    """Validate numeric sequences into a :class:`RaggedArray`.

    Parameters
    ----------
    X : array-like
        ``(n_samples, n_steps, n_features)`` or a list of ``(n_steps_i,
        n_features)`` arrays for ``"steps_first"``; ``(n_samples,
        n_channels, n_timepoints)`` or a list of ``(n_channels,
        n_timepoints_i)`` arrays for ``"channels_first"`` (the numpy3D
        layout of aeon and sktime). A 2-D array holds univariate sequences
        in both layouts.
    input_layout : {"steps_first", "channels_first"}
    n_features : int, default=None
        If given, the number of features (channels) every step must have.

    Returns
    -------
    RaggedArray

    Examples
    --------
    >>> panel = np.zeros((4, 3, 50))  # 4 series, 3 channels, 50 time points
    >>> sequences = check_numeric_input(panel, "channels_first")
    >>> sequences.n_features, sequences.max_length
    (3, 50)
    """
    if INPUT_LAYOUTS[input_layout]:
        X = _steps_first(X)
    return check_sequences(X, n_features=n_features)


def _steps_first(X):
    """Channels-first samples with their time axis moved first (no copy)."""
    if isinstance(X, np.ndarray) and X.dtype.kind != "O":
        return np.swapaxes(X, 1, 2) if X.ndim == 3 else X
    if hasattr(X, "to_numpy") or isinstance(X, (str, bytes)):
        return X  # a table (univariate sequences), or refused later
    samples = []
    for sample in X:
        sample = np.asarray(sample)
        samples.append(sample.T if sample.ndim == 2 else sample)
    return samples


def learn_vocabulary(items, tokenizer, *, min_frequency, max_vocabulary_size):
    """The fitted tokenizer, vocabulary and token lists of validated text.

    Parameters
    ----------
    items : list of str or list of list of str
        What :func:`~sk_attention._text.check_text_sequences` returned.
    tokenizer : {"char", "word"} or callable
        The ``tokenizer`` parameter.
    min_frequency, max_vocabulary_size : int, int or None
        As for :meth:`Vocabulary.build`.

    Returns
    -------
    tokenizer : Tokenizer
    vocabulary : Vocabulary
    tokens : list of list of str
    """
    tokenizer = make_tokenizer(tokenizer, "tokenizer")
    tokens = tokenize_items(items, tokenizer, "X", require_tokens=True)
    vocabulary = Vocabulary.build(
        tokens, min_frequency=min_frequency, max_size=max_vocabulary_size
    )
    return tokenizer, vocabulary, tokens


def token_sequences(X, tokenizer, vocabulary, tokens=None, subword_ngrams=None):
    """Text as a :class:`RaggedArray` of token ids, shape ``(total_steps, 1)``.

    Tokens unseen in ``fit`` map to the unknown id. ``tokens`` are the token
    lists when already computed; otherwise ``X`` is validated and tokenized.
    With ``subword_ngrams`` (``(min_n, max_n, buckets)``) each step also
    holds its token's n-gram ids
    (:func:`~sk_attention._pooling._ngrams.subword_sequences`).

    Examples
    --------
    >>> from sk_attention._text import make_tokenizer
    >>> vocabulary = Vocabulary(["a", "b"])
    >>> ids = token_sequences(["a b", "b z a"], make_tokenizer("word", "X"),
    ...                       vocabulary)
    >>> ids.flat[:, 0], ids.lengths
    (array([4, 5, 5, 3, 4]), array([2, 3]))
    """
    if tokens is None:
        items, _ = check_text_sequences(X, "X")
        tokens = tokenize_items(items, tokenizer, "X", require_tokens=True)
    if subword_ngrams is not None:
        return subword_sequences(tokens, vocabulary, subword_ngrams)
    ids = [vocabulary.encode(sequence) for sequence in tokens]
    lengths = np.array([len(sequence) for sequence in ids], dtype=np.int64)
    return RaggedArray(np.concatenate(ids)[:, None], lengths)


def pretrained_rows(vocabulary, pretrained, embedding_dim):
    """Rows of the embedding to start from given vectors.

    Parameters
    ----------
    vocabulary : Vocabulary
    pretrained : (list of str, array-like of shape (n_tokens, embedding_dim))
        The ``pretrained_embeddings`` parameter.
    embedding_dim : int

    Returns
    -------
    ids : ndarray of shape (n_found,), int64
        The vocabulary ids of the learned tokens that have a vector.
    vectors : ndarray of shape (n_found, embedding_dim), float32

    Examples
    --------
    >>> vocabulary = Vocabulary(["cat", "dog"])
    >>> pretrained_rows(vocabulary, (["dog", "emu"], [[1.0, 2.0], [3.0, 4.0]]), 2)
    (array([5]), array([[1., 2.]], dtype=float32))
    """
    tokens, vectors = _check_pretrained(pretrained, embedding_dim)
    row_of = {token: row for row, token in enumerate(tokens)}
    # The special tokens keep their own rows (padding stays zero).
    found = [
        (index, row_of[token])
        for index, token in enumerate(vocabulary.tokens, len(SPECIAL_TOKENS))
        if token in row_of
    ]
    ids = np.array([index for index, _ in found], dtype=np.int64)
    rows = np.array([row for _, row in found], dtype=np.int64)
    return ids, vectors[rows]


def _check_pretrained(pretrained, embedding_dim):
    message = (
        "pretrained_embeddings must be a (tokens, vectors) pair: a list of n "
        "token strings and an array of shape (n, embedding_dim)"
    )
    if not isinstance(pretrained, (tuple, list)) or len(pretrained) != 2:
        raise TypeError(f"{message}; got {type(pretrained).__name__}.")
    tokens, vectors = pretrained
    tokens = list(tokens)
    if not all(isinstance(token, str) for token in tokens):
        raise TypeError(f"{message}; the tokens are not all strings.")
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape != (len(tokens), embedding_dim):
        raise ValueError(
            f"{message}, with embedding_dim={embedding_dim}; got {len(tokens)} "
            f"tokens and vectors of shape {vectors.shape}."
        )
    if not np.isfinite(vectors).all():
        raise ValueError("pretrained_embeddings holds NaN or infinite vectors.")
    return tokens, vectors
