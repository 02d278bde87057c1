"""Subword n-gram embeddings of text input (fastText-style).

With ``subword_ngrams=(min_n, max_n)`` a token's vector is its own
embedding plus the mean of the embeddings of its character n-grams: the
n-grams of lengths ``min_n`` to ``max_n`` of the token between boundary
marks, ``"<film>"`` -> ``"<fi"``, ``"fil"``, ``"ilm"``, ``"lm>"``, ... (the
marks alone are no n-gram). The n-grams are hashed into a fixed number of
buckets (CRC-32 of their UTF-8 bytes, the same on every machine), so that
tokens never seen in ``fit`` get a vector from the n-grams they share with
the training tokens, where the token's own embedding is the unknown one
(Bojanowski et al., 2017).

The data side (:func:`subword_sequences`) gives each step the row of its
token in a table of the distinct tokens of the input, which holds the
token id and its n-gram ids; a batch is looked up in that table when it is
gathered (:class:`SubwordSequences`), so each distinct token's n-grams are
hashed and stored once. The network side (:class:`SubwordEmbedding`) sums
each step's n-gram embeddings in one :class:`torch.nn.EmbeddingBag` call.
Text models with n-grams save, load and pickle; ONNX export refuses every
text model (its runtime would have to tokenize and hash without torch).
"""

import zlib

import numpy as np
from torch import nn

from .._ragged import RaggedArray

__all__ = [
    "DEFAULT_BUCKETS",
    "SubwordEmbedding",
    "SubwordSequences",
    "check_subword_ngrams",
    "subword_sequences",
    "token_ngrams",
]

#: Hash buckets of the n-grams when ``subword_ngrams`` gives none: 65,536
#: rows, the size of a 50,000-word embedding.
DEFAULT_BUCKETS = 2**16


def check_subword_ngrams(value):
    """``(min_n, max_n, buckets)`` of the ``subword_ngrams`` parameter, or None.

    Examples
    --------
    >>> check_subword_ngrams((3, 5))
    (3, 5, 65536)
    >>> check_subword_ngrams([2, 4, 1000])
    (2, 4, 1000)
    """
    if value is None:
        return None
    message = (
        "subword_ngrams must be None, (min_n, max_n) or (min_n, max_n, "
        "n_buckets) with integers 1 <= min_n <= max_n and n_buckets >= 1"
    )
    values = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) not in (2, 3) or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
    ):
        raise ValueError(f"{message}; got {value!r}.")
    min_n, max_n, *rest = (int(v) for v in values)
    buckets = rest[0] if rest else DEFAULT_BUCKETS
    if not 1 <= min_n <= max_n or buckets < 1:
        raise ValueError(f"{message}; got {value!r}.")
    return min_n, max_n, buckets


def token_ngrams(token, min_n, max_n):
    """The character n-grams of ``token`` between the marks ``<`` and ``>``.

    Examples
    --------
    >>> token_ngrams("film", 3, 4)
    ['<fi', 'fil', 'ilm', 'lm>', '<fil', 'film', 'ilm>']
    >>> token_ngrams("a", 1, 2)
    ['a', '<a', 'a>']
    """
    marked = f"<{token}>"
    grams = []
    for n in range(min_n, max_n + 1):
        for start in range(len(marked) - n + 1):
            gram = marked[start : start + n]
            if gram not in ("<", ">"):
                grams.append(gram)
    return grams


def _ngram_ids(token, min_n, max_n, buckets):
    """Bucket ids (1 to ``buckets``; 0 is no n-gram) of a token's n-grams."""
    return [
        1 + zlib.crc32(gram.encode("utf-8")) % buckets
        for gram in token_ngrams(token, min_n, max_n)
    ]


class SubwordSequences(RaggedArray):
    """Token sequences whose steps are looked up in a table of distinct tokens.

    Parameters
    ----------
    rows : ndarray of shape (total_steps,), int64
        Each step's row in ``table`` (row 0 is padding: all zeros).
    lengths : ndarray of shape (n_samples,), int64
    table : ndarray of shape (n_rows, 1 + n_ngrams), int64
        Per distinct token: its vocabulary id, then its n-gram bucket ids,
        padded with 0.
    """

    def __init__(self, rows, lengths, table):
        super().__init__(rows[:, None], lengths)
        self.table = table

    @property
    def n_features(self):
        return self.table.shape[1]

    def gather(self, indices):
        """``(b, max_len, 1 + n_ngrams)`` ids of the sequences at ``indices``."""
        rows, lengths = super().gather(indices)  # (b, max_len, 1), padding row 0
        return self.table[rows[..., 0]], lengths

    def chunks(self, width, elements):
        dense, self.dense = self.dense, None  # every chunk is gathered
        try:
            yield from super().chunks(width, elements)
        finally:
            self.dense = dense


def subword_sequences(token_lists, vocabulary, subword_ngrams):
    """Token lists as :class:`SubwordSequences`.

    Parameters
    ----------
    token_lists : list of list of str
    vocabulary : Vocabulary
        Tokens it does not hold get the unknown id, and their n-grams.
    subword_ngrams : (int, int, int)
        ``(min_n, max_n, buckets)``, from :func:`check_subword_ngrams`.

    Returns
    -------
    SubwordSequences

    Examples
    --------
    >>> from sk_attention._text import Vocabulary
    >>> ids = subword_sequences([["film"], ["zzz", "film"]], Vocabulary(["film"]),
    ...                         (3, 3, 100))
    >>> ids.gather(np.array([1]))[0][0, :, 0]  # token ids: unknown, "film"
    array([3, 4])
    >>> int((ids.gather(np.array([1]))[0][0, 0, 1:] > 0).sum())  # "zzz": 3 n-grams
    3
    """
    min_n, max_n, buckets = subword_ngrams
    row_of = {}
    steps = np.fromiter(
        (
            row_of.setdefault(token, len(row_of) + 1)
            for tokens in token_lists
            for token in tokens
        ),
        dtype=np.int64,
    )
    distinct = list(row_of)  # in row order, from row 1
    grams = [_ngram_ids(token, min_n, max_n, buckets) for token in distinct]
    width = max(1, max((len(g) for g in grams), default=1))
    table = np.zeros((len(distinct) + 1, 1 + width), dtype=np.int64)
    table[1:, 0] = vocabulary.encode(distinct)
    for row, ids in enumerate(grams, 1):
        table[row, 1 : 1 + len(ids)] = ids
    lengths = np.array([len(tokens) for tokens in token_lists], dtype=np.int64)
    return SubwordSequences(steps, lengths, table)


class SubwordEmbedding(nn.Module):
    """Each step's token vector plus the mean of its n-gram vectors.

    The n-gram vectors are summed in one fused :class:`torch.nn.EmbeddingBag`
    call; a step's vector is ``token + sum of n-grams / n_ngrams``. fastText
    averages the word's vector in with its n-grams instead, which would
    shrink a pretrained word vector by the number of n-grams; here a
    pretrained vector keeps its scale, and the network starts the token
    embeddings it learns at a tenth of their usual scale, so that the
    n-grams, shared between words, carry what a rare word's own vector has
    not learned.

    Parameters
    ----------
    buckets : int
        Hash buckets; ids run from 1 to ``buckets``, 0 is no n-gram.
    embedding_dim : int
    """

    def __init__(self, buckets, embedding_dim):
        super().__init__()
        self.bag = nn.EmbeddingBag(
            buckets + 1, embedding_dim, mode="sum", padding_idx=0
        )

    def forward(self, tokens, ids):
        """``tokens`` (batch, n_steps, embedding_dim), the token vectors, and
        ``ids`` (batch, n_steps, n_ngrams) -> (batch, n_steps, embedding_dim).

        A step without n-grams (padding) keeps its token vector.
        """
        batch, n_steps, width = ids.shape
        sums = self.bag(ids.reshape(batch * n_steps, width))  # (batch*steps, dim)
        counts = (ids != 0).sum(-1, keepdim=True)  # (batch, n_steps, 1)
        return tokens + sums.view(batch, n_steps, -1) / counts.clamp(min=1)
