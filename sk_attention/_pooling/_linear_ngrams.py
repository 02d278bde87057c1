"""The linear bag-of-n-grams term of text input (``linear_ngrams``).

With ``linear_ngrams=n`` the prediction of a text adds, to the head's
output on the attention-pooled vector, a linear model of the text's token
n-grams of 1 to ``n`` tokens: each n-gram has a learned vector of
``n_outputs`` scores, and the text gets their sum divided by the square
root of their number. It is fastText's bag of word n-grams (Joulin et al.,
2017) and the features of a TF-IDF + logistic regression model, learned
with the network: a phrase that names the class ("random forest",
"n_clusters") counts the way it counts in a linear model, while the
attention model reads the rest.

Unigrams have one row per vocabulary id; longer n-grams are hashed from
their token ids into :data:`BUCKETS` shared rows, so the term needs no
n-gram vocabulary and costs ``(vocabulary_size + BUCKETS) * n_outputs``
weights. The hash is integer arithmetic on the ids, the same on every
machine. The weights start at zero: the term starts as no term at all.
"""

import torch
from torch import nn

from .._sequences import length_mask

__all__ = ["BUCKETS", "NgramScores"]

#: Rows shared by the hashed n-grams of two tokens and more: 65,536.
BUCKETS = 2**16
# The polynomial hash of an n-gram's ids, kept below 2**31 after each step
# so that the product never leaves int64.
_MULTIPLIER, _MODULUS = 1_000_003, 2_147_483_647


class NgramScores(nn.Module):
    """A linear model of the bag of token n-grams, ``(batch, n_outputs)``.

    Parameters
    ----------
    vocabulary_size : int
        Token ids run below it; each has its own row.
    max_n : int
        The longest n-gram, in tokens (1: the bag of words).
    n_outputs : int
    buckets : int, default=BUCKETS
        Hashed rows of the n-grams of two tokens and more.

    Examples
    --------
    >>> import torch
    >>> scores = NgramScores(vocabulary_size=10, max_n=2, n_outputs=3)
    >>> ids = torch.tensor([[4, 5, 6], [4, 5, 0]])  # the second: 2 tokens
    >>> scores(ids, torch.tensor([3, 2])).shape
    torch.Size([2, 3])
    """

    def __init__(self, vocabulary_size, max_n, n_outputs, buckets=BUCKETS):
        super().__init__()
        self.vocabulary_size = vocabulary_size
        self.max_n = max_n
        self.buckets = buckets
        self.weight = nn.EmbeddingBag(
            vocabulary_size + buckets, n_outputs, mode="sum"
        )
        nn.init.zeros_(self.weight.weight)

    def forward(self, ids, lengths):
        """``ids`` (batch, n_steps) token ids, padded past ``lengths``."""
        mask = length_mask(lengths, ids.shape[1]).to(self.weight.weight.dtype)
        rows, real = [ids], [mask]  # the unigrams, then each longer order
        codes = ids
        for n in range(2, self.max_n + 1):
            # codes[:, i] hashes ids[:, i : i + n]; an n-gram is real when
            # its last token is (padding only follows the real steps).
            codes = (codes[:, :-1] * _MULTIPLIER + ids[:, n - 1 :]) % _MODULUS
            rows.append(self.vocabulary_size + (codes + n) % self.buckets)
            real.append(mask[:, n - 1 :])
        rows, real = torch.cat(rows, 1), torch.cat(real, 1)  # (batch, n_ngrams)
        # Evidence grows with the number of n-grams, but slower than their
        # sum would: a long text is not proportionally more certain.
        weights = real / real.sum(1, keepdim=True).clamp(min=1).sqrt()
        return self.weight(rows, per_sample_weights=weights)  # one fused call
