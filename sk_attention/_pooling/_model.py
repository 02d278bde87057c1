"""Torch modules of the attention pooling estimators.

Both modules take a whole padded batch at once, ``X`` of shape
``(batch, n_steps, n_features)`` with the true ``lengths`` of shape
``(batch,)``, and know nothing of scikit-learn. Padding steps get weight
exactly zero, so a sequence pools to the same vector whatever it is padded to.

:class:`AttentionPoolingNet`
    Learned attention: a per-step MLP embedding, ``num_heads`` learned
    queries scored by a rule from the shared registry, and a linear
    prediction head trained through skorch.
:class:`MeanQueryPooling`
    The parameter-free attention used when no target is given: each sequence
    attends with its own mean as the query.
"""

import torch
from torch import nn

from .._attention import ScaledDotAttention, attention_class
from .._sequences import length_mask

__all__ = ["AttentionPoolingNet", "MeanQueryPooling"]


class _Standardize(nn.Module):
    """Per-feature ``(x - mean) / scale`` with statistics fixed in ``fit``.

    They are buffers, not parameters: saved with the weights, never trained.
    """

    def __init__(self, n_features):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def set_statistics(self, mean, scale):
        """Copy the training statistics in (arrays of shape (n_features,))."""
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.scale.copy_(torch.as_tensor(scale, dtype=self.scale.dtype))

    def forward(self, X):
        return (X - self.mean) / self.scale  # (batch, n_steps, n_features)


class AttentionPoolingNet(nn.Module):
    """Embed each step, pool the steps with learned attention, predict.

    ``h_i = MLP(standardize(x_i))``; head ``k`` has a learned query ``q_k``
    and weights ``alpha_k = softmax_i(s(h_i, q_k))`` over the real steps; the
    pooled vector is the concatenation of ``sum_i alpha_ki h_i`` over the
    heads, and a linear layer maps it to the outputs. The heads share the key
    projection of the scoring rule and differ by their query, so all heads
    are scored in one batched operation.

    Parameters
    ----------
    n_features : int
        Features per step of the input.
    n_outputs : int
        Width of the prediction (classes, or regression targets).
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Widths of the per-step MLP (linear + ReLU each); empty pools the
        standardized input features themselves.
    attention : str, default="gated"
        A name from the shared registry,
        :data:`~sk_attention._attention.ATTENTION_SCORES`: ``"additive"``,
        ``"gated"``, ``"scaled_dot"``, ``"dot"`` or ``"general"``. With a
        learned query, ``"dot"`` is a plain linear score; ``"scaled_dot"``
        divides it by ``sqrt(d)``, which keeps the softmax from saturating
        as the embedding grows (Vaswani et al., Eq. 1).
    num_heads : int, default=1
    attention_size : int, default=64
        Hidden width of the additive and gated scoring networks.
    dropout : float, default=0.0
        Dropout after each hidden layer and on the pooled vector.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(64, 64),
        attention="gated",
        num_heads=1,
        attention_size=64,
        dropout=0.0,
    ):
        super().__init__()
        self.standardize = _Standardize(n_features)
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        self.embedding = nn.Sequential(*layers)
        self.embedding_size = width
        self.num_heads = num_heads
        rule = attention_class(attention)
        query_size = rule.query_size(width, attention_size)
        self.attention = rule(query_size, width, attention_size)
        # Random, not zero: heads that start equal get equal gradients forever.
        self.query = nn.Parameter(torch.randn(num_heads, query_size))
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(num_heads * width, n_outputs)
        )
        # Widest per-step intermediate, used to size inference chunks.
        self.step_width = max(
            n_features,
            *hidden_layer_sizes,
            2 * attention_size,
            num_heads * attention_size,
        )

    @property
    def n_pooled(self):
        """Width of the pooled vector, ``num_heads * embedding_size``."""
        return self.num_heads * self.embedding_size

    def pool(self, X, lengths, need_weights=True):
        """Pool each sequence to one vector per head.

        Parameters
        ----------
        X : torch.Tensor of shape (batch, n_steps, n_features)
        lengths : torch.Tensor of shape (batch,)
        need_weights : bool, default=True

        Returns
        -------
        pooled : torch.Tensor of shape (batch, num_heads * embedding_size)
        weights : torch.Tensor of shape (batch, num_heads, n_steps) or None
        """
        mask = length_mask(lengths, X.shape[1])  # (batch, n_steps)
        steps = self.embedding(self.standardize(X))  # (batch, n_steps, embedding)
        keys = self.attention.project_keys(steps)  # (batch, n_steps, ...)
        query = self.query.expand(X.shape[0], -1, -1)  # (batch, heads, query)
        context, weights = self.attention(query, keys, steps, mask, need_weights)
        return context.flatten(1), weights  # (batch, heads * embedding)

    def forward(self, X, lengths):
        """Predict from the pooled vectors: ``(batch, n_outputs)`` scores."""
        pooled, _ = self.pool(X, lengths, need_weights=False)
        return self.head(pooled)  # (batch, n_outputs)


class MeanQueryPooling(nn.Module):
    """Parameter-free attention: each sequence queried by its own mean.

    With ``z_i`` the standardized step and ``m`` the mean of ``z_i`` over the
    real steps of the sequence, the weights are
    ``alpha_i = softmax_i(z_i . m / sqrt(n_features))`` (scaled dot-product
    attention with ``m`` as the query) and the output is ``sum_i alpha_i x_i``
    in the units of the input. Steps that lean the way the whole sequence
    departs from the training average get more weight; a sequence close to
    that average, or one whose steps are all equal, pools to its plain mean.

    Parameters
    ----------
    n_features : int
    """

    def __init__(self, n_features):
        super().__init__()
        self.standardize = _Standardize(n_features)
        self.attention = ScaledDotAttention(n_features, n_features)
        self.num_heads = 1
        self.n_pooled = n_features
        self.step_width = n_features

    def pool(self, X, lengths, need_weights=True):
        """Same contract as :meth:`AttentionPoolingNet.pool`, with one head."""
        mask = length_mask(lengths, X.shape[1])  # (batch, n_steps)
        keys = self.standardize(X) * mask[:, :, None]  # (batch, n_steps, n_features)
        query = keys.sum(1, keepdim=True) / lengths[:, None, None]  # (batch, 1, F)
        context, weights = self.attention(query, keys, X, mask, need_weights)
        return context.flatten(1), weights  # (batch, n_features)

    def forward(self, X, lengths):
        """The pooled vectors, ``(batch, n_features)``."""
        return self.pool(X, lengths, need_weights=False)[0]
