"""Attention scoring rules, the masked softmax, and the registry of names.

Every scoring rule is a :class:`torch.nn.Module` with the same interface:

``project_keys(keys)``
    The part of the score that depends only on the keys (``W x_i`` for
    additive attention). It is computed once per sequence and passed back in
    at every query, never cached on the module.
``forward(query, projected_keys, values, mask, need_weights=True)``
    Scores every query against every valid key, takes the softmax over the
    key axis with padding masked out, and returns ``(context, weights)``.

Shapes: ``query`` is ``(batch, n_queries, query_size)``, ``keys`` and
``values`` are ``(batch, n_keys, key_size)``, ``mask`` is a boolean
``(batch, n_keys)`` tensor that is ``True`` on real steps. ``context`` is
``(batch, n_queries, key_size)`` and ``weights`` ``(batch, n_queries, n_keys)``.

The same modules serve the decoder of :class:`AttentionSeq2Seq` (the query
is the decoder state) and the attention pooling estimators (the query is a
learned vector per head).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ATTENTION_SCORES",
    "AdditiveAttention",
    "DotAttention",
    "GatedAttention",
    "GeneralAttention",
    "ScaledDotAttention",
    "make_attention",
    "masked_softmax",
]


def masked_softmax(scores, mask):
    """Softmax over the last axis where padded keys get weight exactly 0.

    Parameters
    ----------
    scores : torch.Tensor of shape (batch, n_queries, n_keys)
    mask : torch.BoolTensor of shape (batch, n_keys)
        ``True`` for real steps. Every row must hold at least one.

    Returns
    -------
    torch.Tensor of shape (batch, n_queries, n_keys)
    """
    scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
    return torch.softmax(scores, dim=-1)


class _Attention(nn.Module):
    """Shared forward: score, masked softmax, weighted sum of the values."""

    def project_keys(self, keys):
        """Return the query-independent part of the score (default: keys)."""
        return keys

    def score(self, query, projected_keys):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(
        self, query, projected_keys, values, mask, need_weights=True, dropout=0.0
    ):
        """Attend from ``query`` over ``values``.

        Parameters
        ----------
        query : torch.Tensor of shape (batch, n_queries, query_size)
        projected_keys : torch.Tensor
            What :meth:`project_keys` returned for this batch.
        values : torch.Tensor of shape (batch, n_keys, value_size)
        mask : torch.BoolTensor of shape (batch, n_keys)
        need_weights : bool, default=True
            Return the weights; some rules run a fused kernel without them.
        dropout : float, default=0.0
            In training mode, drop this fraction of the weights (and scale
            the rest) before the weighted sum; the returned weights are
            the undropped ones.

        Returns
        -------
        context : torch.Tensor of shape (batch, n_queries, value_size)
        weights : torch.Tensor of shape (batch, n_queries, n_keys) or None
        """
        weights = masked_softmax(self.score(query, projected_keys), mask)
        dropped = F.dropout(weights, dropout, self.training)
        context = torch.bmm(dropped, values)  # (batch, n_queries, value_size)
        return context, weights


class AdditiveAttention(_Attention):
    """Additive attention, ``s(x_i, h) = v^T tanh(W x_i + U h + b)``.

    Bahdanau, Cho and Bengio (2015), "Neural machine translation by jointly
    learning to align and translate", appendix A.1.2. With a learned constant
    query it is the attention pooling of Ilse et al. (2018), Eq. 8.

    Parameters
    ----------
    query_size : int
        Size of ``h``.
    key_size : int
        Size of ``x_i``.
    attention_size : int
        Size of the hidden layer of the scoring network.
    """

    def __init__(self, query_size, key_size, attention_size):
        super().__init__()
        self.key_layer = nn.Linear(key_size, attention_size)  # W, b
        self.query_layer = nn.Linear(query_size, attention_size, bias=False)  # U
        self.energy_layer = nn.Linear(attention_size, 1, bias=False)  # v

    def project_keys(self, keys):
        return self.key_layer(keys)  # (batch, n_keys, attention_size)

    def score(self, query, projected_keys):
        query = self.query_layer(query)  # (batch, n_queries, attention_size)
        # v^T tanh(z) = 2 v^T sigmoid(2 z) - sum(v): the same scores, but
        # torch's CPU sigmoid is about ten times faster than its tanh on the
        # largest tensor here, (batch, n_queries, n_keys, attention_size).
        hidden = torch.add(
            2 * query[:, :, None, :], projected_keys[:, None, :, :], alpha=2
        ).sigmoid_()
        energy = self.energy_layer.weight[0]  # (attention_size,)
        return hidden.matmul(2 * energy) - energy.sum()  # (batch, n_queries, n_keys)


class DotAttention(_Attention):
    """Dot-product attention, ``s(x_i, h) = x_i . h``.

    Luong, Pham and Manning (2015), "Effective approaches to attention-based
    neural machine translation", Eq. 8 ("dot"). It has no parameters, so
    ``query_size`` must equal ``key_size``.
    """

    def __init__(self, query_size, key_size, attention_size=None):
        super().__init__()
        _check_equal_sizes("dot", query_size, key_size)

    def score(self, query, projected_keys):
        return torch.bmm(query, projected_keys.transpose(1, 2))


class GeneralAttention(_Attention):
    """Bilinear attention, ``s(x_i, h) = x_i^T W h``.

    Luong, Pham and Manning (2015), Eq. 8 ("general"). ``W x_i`` is the
    projected key.
    """

    def __init__(self, query_size, key_size, attention_size=None):
        super().__init__()
        self.key_layer = nn.Linear(key_size, query_size, bias=False)  # W

    def project_keys(self, keys):
        return self.key_layer(keys)  # (batch, n_keys, query_size)

    def score(self, query, projected_keys):
        return torch.bmm(query, projected_keys.transpose(1, 2))


class ScaledDotAttention(_Attention):
    """Scaled dot-product attention, ``s(x_i, h) = x_i . h / sqrt(d)``.

    Vaswani et al. (2017), "Attention is all you need", Eq. 1. When the
    weights are not needed the context comes from
    :func:`torch.nn.functional.scaled_dot_product_attention`, which runs a
    fused kernel where the hardware offers one.
    """

    def __init__(self, query_size, key_size, attention_size=None):
        super().__init__()
        _check_equal_sizes("scaled_dot", query_size, key_size)
        self.scale = 1.0 / math.sqrt(key_size)

    def score(self, query, projected_keys):
        return torch.bmm(query, projected_keys.transpose(1, 2)) * self.scale

    def forward(
        self, query, projected_keys, values, mask, need_weights=True, dropout=0.0
    ):
        if need_weights:
            return super().forward(query, projected_keys, values, mask, dropout=dropout)
        context = F.scaled_dot_product_attention(
            query,
            projected_keys,
            values,
            attn_mask=mask[:, None, :],
            dropout_p=dropout if self.training else 0.0,
        )  # (batch, n_queries, value_size)
        return context, None


class GatedAttention(_Attention):
    """Gated attention, ``s(x_i, h) = w^T (tanh(V x_i + U h) * sigm(G x_i))``.

    Ilse, Tomczak and Welling (2018), "Attention-based deep multiple instance
    learning", Eq. 9. The query term ``U h`` extends it to decoder queries;
    with a learned constant query it is exactly the paper's pooling.
    """

    def __init__(self, query_size, key_size, attention_size):
        super().__init__()
        self.attention_size = attention_size
        # V and G in one matmul: both only depend on the keys.
        self.key_layer = nn.Linear(key_size, 2 * attention_size)
        self.query_layer = nn.Linear(query_size, attention_size, bias=False)  # U
        self.energy_layer = nn.Linear(attention_size, 1, bias=False)  # w

    def project_keys(self, keys):
        return self.key_layer(keys)  # (batch, n_keys, 2 * attention_size)

    def score(self, query, projected_keys):
        content, gate = projected_keys.split(self.attention_size, dim=-1)
        gate = torch.sigmoid(gate)  # (batch, n_keys, attention_size)
        query = self.query_layer(query)  # (batch, n_queries, attention_size)
        # With tanh(a) = 2 sigmoid(2 a) - 1, w^T (tanh(a) * g) is
        # 2 w^T (sigmoid(2 a) * g) - w^T g: the same scores without a tanh
        # (about ten times slower than sigmoid on the CPU) on the largest
        # tensor; the correction w^T g has no query dimension.
        hidden = torch.add(
            2 * query[:, :, None, :], content[:, None, :, :], alpha=2
        ).sigmoid_()
        energy = self.energy_layer.weight[0]  # (attention_size,)
        scores = (hidden * gate[:, None, :, :]).matmul(2 * energy)
        return scores - gate.matmul(energy)[:, None, :]  # (batch, n_queries, n_keys)


def _check_equal_sizes(name, query_size, key_size):
    if query_size != key_size:
        raise ValueError(
            f"attention={name!r} has no parameters, so the query size "
            f"({query_size}) must equal the key size ({key_size})."
        )


#: Name -> scoring module. Both estimators select their attention from here.
ATTENTION_SCORES = {
    "additive": AdditiveAttention,
    "dot": DotAttention,
    "general": GeneralAttention,
    "scaled_dot": ScaledDotAttention,
    "gated": GatedAttention,
}


def make_attention(name, query_size, key_size, attention_size):
    """Build the scoring module registered under ``name``.

    Parameters
    ----------
    name : str
        One of ``ATTENTION_SCORES``.
    query_size, key_size, attention_size : int
        Sizes of the query, of the keys, and of the scoring network's hidden
        layer (ignored by the rules without one).

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    ValueError
        If ``name`` is not registered; the message lists the valid names.
    """
    try:
        attention_class = ATTENTION_SCORES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"attention must be one of {sorted(ATTENTION_SCORES)}, got {name!r}."
        ) from None
    return attention_class(query_size, key_size, attention_size)
