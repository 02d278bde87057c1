"""Attention scoring rules, the masked softmax, and the registry of names.

Every scoring rule is a :class:`torch.nn.Module` with the same interface:

``project_keys(keys)``
    The part of the score that depends only on the keys (``W x_i`` for
    additive attention), in the form the rule scores with. It is computed
    once per sequence and passed back in at every query, never cached on
    the module.
``forward(query, projected_keys, values, mask, need_weights=True)``
    Scores every query against every valid key, takes the softmax over the
    key axis with padding masked out, and returns ``(context, weights)``.

Each rule also declares what its callers need to know, so that no caller
tests a rule's type or name:

``query_size(key_size, attention_size)`` (class method)
    The query size to build the rule with when the caller is free to choose
    it, as for a learned query.
``fused_query()``
    Where the rule has one, a :class:`FusedAdditiveQuery`: the query
    projection, for a caller to fold into a matmul of its own, and the
    scoring from the projected query. None for the other rules.

Shapes: ``query`` is ``(batch, n_queries, query_size)``, ``keys`` and
``values`` are ``(batch, n_keys, key_size)``, ``mask`` is a boolean
``(batch, n_keys)`` tensor that is ``True`` on real steps. ``context`` is
``(batch, n_queries, key_size)`` and ``weights`` ``(batch, n_queries, n_keys)``.

The same modules serve the decoder of :class:`AttentionSeq2Seq` (the query
is the decoder state) and the attention pooling estimators (the query is a
learned vector per head).
"""

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ATTENTION_SCORES",
    "AdditiveAttention",
    "DotAttention",
    "FusedAdditiveQuery",
    "GatedAttention",
    "GeneralAttention",
    "ScaledDotAttention",
    "attention_class",
    "make_attention",
    "masked_softmax",
    "shifted_tanh",
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


def shifted_tanh(doubled_query, doubled_keys):
    """``(1 + tanh(q + k)) / 2`` of every query-key pair, as ``sigmoid(2 q + 2 k)``.

    Additive scores are ``v^T tanh(z)``. As ``tanh(z) = 2 sigmoid(2 z) - 1``,
    ``v^T tanh(z) = 2 v^T sigmoid(2 z) - sum(v)``: the same scores without a
    tanh, which on the CPU is several times slower than a sigmoid, on the
    largest tensor of the rule. The callers fold the factors 2 into their
    projections, so doubling costs nothing.

    Parameters
    ----------
    doubled_query : torch.Tensor
        ``2 q``, broadcastable against ``doubled_keys``.
    doubled_keys : torch.Tensor
        ``2 k``.

    Returns
    -------
    torch.Tensor
        Of the broadcast shape, e.g. ``(batch, n_queries, n_keys, size)``.
    """
    # In place: the largest tensor is allocated once, not twice.
    return torch.add(doubled_query, doubled_keys).sigmoid_()


def _doubled_linear(inputs, layer, rows=None):
    """``2 * layer(inputs)`` on the first ``rows`` outputs, in the matmul itself.

    Scaling by 2 is exact in floating point, so this is bitwise the layer's
    output doubled, without another pass over it.
    """
    weight, bias = 2 * layer.weight, 2 * layer.bias
    if rows is not None:
        weight = torch.cat([weight[:rows], layer.weight[rows:]])
        bias = torch.cat([bias[:rows], layer.bias[rows:]])
    return F.linear(inputs, weight, bias)


class _Attention(nn.Module):
    """Shared forward: score, masked softmax, weighted sum of the values."""

    @classmethod
    def query_size(cls, key_size, attention_size):
        """The query size to build the rule with, where the caller may choose.

        Rules with a query projection take ``attention_size``; rules without
        parameters override this with ``key_size``, the only size they take.
        """
        return attention_size

    def fused_query(self):
        """The rule's query projection, for a caller to fold into its own matmul.

        Returns
        -------
        FusedAdditiveQuery or None
            None (the default) where the rule has no such path; the caller
            then calls :meth:`forward`.
        """
        return None

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
        """``2 (W x_i + b)``, the form :func:`shifted_tanh` takes."""
        return _doubled_linear(keys, self.key_layer)  # (batch, n_keys, attention)

    def score(self, query, projected_keys):
        query = self.query_layer(query)  # (batch, n_queries, attention_size)
        hidden = shifted_tanh(
            2 * query[:, :, None, :], projected_keys[:, None, :, :]
        )  # (batch, n_queries, n_keys, attention_size)
        energy = self.energy_layer.weight[0]  # (attention_size,)
        return hidden.matmul(2 * energy) - energy.sum()  # (batch, n_queries, n_keys)

    def fused_query(self):
        """``2 U`` and ``2 v``, see :class:`FusedAdditiveQuery`."""
        return FusedAdditiveQuery(
            2 * self.query_layer.weight, 2 * self.energy_layer.weight[0]
        )


class FusedAdditiveQuery(NamedTuple):
    """Additive scoring from a query projected by the caller's own matmul.

    A recurrent decoder projects its new state for several purposes at each
    step; with ``weight`` among the rows of that one matmul, the query
    projection costs no call of its own. The scores drop the constant
    ``-sum(v)`` of :func:`shifted_tanh`, which the softmax ignores.

    Attributes
    ----------
    weight : torch.Tensor of shape (attention_size, query_size)
        ``2 U``: rows that map a query ``h`` to ``2 U h``.
    energy : torch.Tensor of shape (attention_size,)
        ``2 v``.
    """

    weight: torch.Tensor
    energy: torch.Tensor

    def weights(self, projected_query, projected_keys, mask):
        """Attention weights of one query per row.

        Parameters
        ----------
        projected_query : torch.Tensor of shape (batch, attention_size)
            ``2 U h``, the query through :attr:`weight`.
        projected_keys : torch.Tensor of shape (batch, n_keys, attention_size)
            What :meth:`AdditiveAttention.project_keys` returned.
        mask : torch.BoolTensor of shape (batch, n_keys)

        Returns
        -------
        torch.Tensor of shape (batch, n_keys)
        """
        hidden = shifted_tanh(projected_query[:, None], projected_keys)
        scores = hidden.matmul(self.energy)  # (batch, n_keys)
        scores = torch.where(mask, scores, float("-inf"))
        return torch.softmax(scores, dim=-1)  # (batch, n_keys)


class DotAttention(_Attention):
    """Dot-product attention, ``s(x_i, h) = x_i . h``.

    Luong, Pham and Manning (2015), "Effective approaches to attention-based
    neural machine translation", Eq. 8 ("dot"). It has no parameters, so
    ``query_size`` must equal ``key_size``.
    """

    def __init__(self, query_size, key_size, attention_size=None):
        super().__init__()
        _check_equal_sizes("dot", query_size, key_size)

    @classmethod
    def query_size(cls, key_size, attention_size):
        """``key_size``: without parameters, the query must match the keys."""
        return key_size

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

    @classmethod
    def query_size(cls, key_size, attention_size):
        """``key_size``: without parameters, the query must match the keys."""
        return key_size

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
        """``[2 (V x_i + b_V); G x_i + b_G]``: the content half doubled for
        :func:`shifted_tanh`."""
        return _doubled_linear(
            keys, self.key_layer, self.attention_size
        )  # (batch, n_keys, 2 * attention_size)

    def score(self, query, projected_keys):
        content, gate = projected_keys.split(self.attention_size, dim=-1)
        gate = torch.sigmoid(gate)  # (batch, n_keys, attention_size)
        query = self.query_layer(query)  # (batch, n_queries, attention_size)
        # w^T (tanh(a) * g) = 2 w^T (shifted_tanh * g) - w^T g, and the
        # correction w^T g has no query dimension.
        hidden = shifted_tanh(
            2 * query[:, :, None, :], content[:, None, :, :]
        )  # (batch, n_queries, n_keys, attention_size)
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


def attention_class(name):
    """The scoring class registered under ``name``.

    Callers ask the class for its capabilities, e.g.
    ``attention_class(name).query_size(key_size, attention_size)``, before
    building it.

    Parameters
    ----------
    name : str
        One of ``ATTENTION_SCORES``.

    Returns
    -------
    type

    Raises
    ------
    ValueError
        If ``name`` is not registered; the message lists the valid names.
    """
    try:
        return ATTENTION_SCORES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"attention must be one of {sorted(ATTENTION_SCORES)}, got {name!r}."
        ) from None


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
    return attention_class(name)(query_size, key_size, attention_size)
