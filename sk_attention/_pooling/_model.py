"""Torch modules of the attention pooling estimators.

Both modules take a whole padded batch at once, ``X`` of shape
``(batch, n_steps, n_features)`` with the true ``lengths`` of shape
``(batch,)``, and know nothing of scikit-learn. Padding steps get weight
exactly zero, so a sequence pools to the same vector whatever it is padded to.

:class:`AttentionPoolingNet`
    Learned attention: a step encoder (the per-step MLP, or a recurrent,
    convolutional or Transformer encoder), ``num_heads`` learned queries
    scored by a rule from the shared registry, and a linear prediction head
    trained through skorch.
:class:`MeanQueryPooling`
    The parameter-free attention used when no target is given: each sequence
    attends with its own mean as the query.
"""

import torch
from torch import nn

from .._attention import ScaledDotAttention, attention_class
from .._sequences import length_mask
from .._text import PAD
from ._encoders import encoder_class
from ._linear_ngrams import NgramScores
from ._ngrams import SubwordEmbedding

__all__ = ["AttentionPoolingNet", "MeanQueryPooling", "PoolingLoss"]


# Standardized inputs are clipped to this magnitude: a million training
# standard deviations is far outside anything the network has seen, and the
# bound keeps products of such values (attention scores, layer sums) finite
# in float32 for any finite input.
STANDARDIZED_LIMIT = 1e6


class _Standardize(nn.Module):
    """Per-feature ``(x - mean) / scale`` with statistics fixed in ``fit``.

    They are buffers, not parameters: saved with the weights, never trained.
    ``scaling`` is the estimator's setting the statistics come from
    (:func:`~._data.scaling_statistics`); with ``"series"`` each feature of
    each sequence is first z-normalised on its own, over the sequence's real
    steps (as the UCR/UEA literature prepares time series), and the fixed
    statistics stay 0 and 1. With ``"series_and_global"`` the network gets
    both: the z-normalised features, then the globally standardized ones
    (``output_size`` is twice ``n_features``). The result is clipped to
    ``±STANDARDIZED_LIMIT``.
    """

    def __init__(self, n_features, scaling="global"):
        super().__init__()
        self.scaling = scaling
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.output_size = n_features * (2 if scaling == "series_and_global" else 1)

    def set_statistics(self, mean, scale):
        """Copy the training statistics in (arrays of shape (n_features,))."""
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.scale.copy_(torch.as_tensor(scale, dtype=self.scale.dtype))

    def forward(self, X, mask):
        """``X`` (batch, n_steps, n_features), ``mask`` (batch, n_steps) bool;
        returns ``(batch, n_steps, output_size)``."""
        if self.scaling == "series":
            X = series_standardized(X, mask)
        standardized = (X - self.mean) / self.scale  # (batch, n_steps, n_features)
        if self.scaling == "series_and_global":
            shapes = series_standardized(X, mask)
            standardized = torch.cat([shapes, standardized], -1)
        return standardized.clamp(-STANDARDIZED_LIMIT, STANDARDIZED_LIMIT)


def series_standardized(X, mask):
    """Each feature of each sequence z-normalised over its real steps.

    Padding steps come out as 0. A feature whose standard deviation over a
    sequence is below a millionth of its typical magnitude (constant, up to
    float32 rounding) becomes 0 there.

    Parameters
    ----------
    X : torch.Tensor of shape (batch, n_steps, n_features)
    mask : torch.Tensor of shape (batch, n_steps), bool

    Returns
    -------
    torch.Tensor of shape (batch, n_steps, n_features)

    Examples
    --------
    >>> X = torch.tensor([[[1.0], [3.0], [0.0]], [[5.0], [5.0], [5.0]]])
    >>> mask = torch.tensor([[True, True, False], [True, True, True]])
    >>> series_standardized(X, mask)[..., 0]
    tensor([[-1.,  1.,  0.],
            [ 0.,  0.,  0.]])
    """
    keep = mask[..., None].to(X.dtype)  # (batch, n_steps, 1)
    count = keep.sum(1, keepdim=True).clamp(min=1)  # (batch, 1, 1)
    mean = (X * keep).sum(1, keepdim=True) / count  # (batch, 1, n_features)
    centred = (X - mean) * keep
    std = ((centred**2).sum(1, keepdim=True) / count).sqrt()  # (batch, 1, F)
    typical = (X.abs() * keep).sum(1, keepdim=True) / count
    flat = std <= 1e-6 * typical + 1e-30
    return centred / torch.where(flat, torch.ones_like(std), std)


class AttentionPoolingNet(nn.Module):
    """Encode the steps, pool them with learned attention, predict.

    ``h = encoder(input)`` gives one state per step: the per-step MLP
    (``encoder=None``, order-free) or a sequence encoder from
    :data:`~._encoders.SEQUENCE_ENCODERS`; the input is the standardized
    features, or the embedded tokens when ``vocabulary_size`` is given.
    Head ``k`` has a learned query ``q_k`` and weights
    ``alpha_k = softmax_i(s(h_i, q_k))`` over the real steps; the pooled
    vector is the concatenation of ``sum_i alpha_ki h_i`` over the heads, and
    a linear layer maps it to the outputs. The heads share the key
    projection of the scoring rule and differ by their query, so all heads
    are scored in one batched operation.

    The estimator passes every setting (``_base.py``); its docstring is
    where each is explained and defaulted. The defaults here mean "absent":
    no sequence encoder, numeric input, no penalty. An encoder's sizes are
    required when it declares them (:func:`~._encoders.encoder_class`), and
    never read otherwise.

    Parameters
    ----------
    n_features : int
        Features per step of numeric input (1 for token ids).
    n_outputs : int
        Width of the prediction (classes, or regression targets).
    attention : str
        A name from the shared registry,
        :data:`~sk_attention._attention.ATTENTION_SCORES`: ``"additive"``,
        ``"gated"``, ``"scaled_dot"``, ``"dot"`` or ``"general"``; or
        ``"mean"``, every real step weighted ``1 / length`` (average
        pooling, nothing learned). With a
        learned query, ``"dot"`` is a plain linear score; ``"scaled_dot"``
        divides it by ``sqrt(d)``, which keeps the softmax from saturating
        as the embedding grows (Vaswani et al., Eq. 1).
    num_heads : int
    attention_size : int
        Hidden width of the additive and gated scoring networks.
    dropout : float
        Dropout in the encoder and on the pooled vector.
    encoder : str or None, default=None
        A name from :data:`~._encoders.SEQUENCE_ENCODERS`, or None.
    hidden_layer_sizes : tuple of int, default=None
        Widths of the per-step MLP (linear + ReLU each) of ``encoder=None``;
        empty pools the standardized input features themselves.
    encoder_size, encoder_layers, kernel_size, encoder_heads : int, \
default=None
        The sizes of the sequence encoders.
    vocabulary_size : int or None, default=None
        Token input: ids below this are embedded; None for numeric input.
    embedding_dim : int, default=None
        Width of the token embedding (token input).
    subword_ngrams : (int, int, int) or None, default=None
        Token input: ``(min_n, max_n, buckets)`` adds to each token's
        embedding the mean embedding of its hashed character n-grams, whose
        ids follow the token id in ``X[..., 1:]``; the token embeddings then
        start at a tenth of their usual scale
        (:class:`~._ngrams.SubwordEmbedding`).
    linear_ngrams : int or None, default=None
        Token input: adds to the head's output a linear model of the bag of
        token n-grams of 1 to ``linear_ngrams`` tokens
        (:class:`~._linear_ngrams.NgramScores`).
    attention_penalty : float, default=0.0
        Weight of Lin et al.'s (2017) penalty ``||A A^T - I||_F^2`` on the
        ``(num_heads, n_steps)`` weights ``A`` of each sample, which pushes
        the heads to attend to different steps.
    scaling : {"global", "feature", "series", "series_and_global"}, \
default=None
        The estimator's ``scaling``, required for numeric input; ``"series"``
        z-normalises each feature of each sequence over its real steps, and
        ``"series_and_global"`` gives the encoder those beside the globally
        standardized features.
    """

    def __init__(
        self, n_features, n_outputs, *, attention, num_heads, attention_size,
        dropout, encoder=None, hidden_layer_sizes=None, encoder_size=None,
        encoder_layers=None, kernel_size=None, encoder_heads=None,
        vocabulary_size=None, embedding_dim=None, subword_ngrams=None,
        linear_ngrams=None, attention_penalty=0.0, scaling=None,
    ):
        super().__init__()
        self.token_input = vocabulary_size is not None
        encoder_type = encoder_class(encoder)
        settings = dict(
            hidden_layer_sizes=hidden_layer_sizes,
            dropout=dropout,
            encoder_size=encoder_size,
            encoder_layers=encoder_layers,
            kernel_size=kernel_size,
            encoder_heads=encoder_heads,
            embedding_dim=embedding_dim,
            scaling=scaling,
        )
        needed = [
            "embedding_dim" if self.token_input else "scaling",
            *encoder_type.estimator_parameters,
        ]
        missing = [name for name in needed if settings[name] is None]
        if missing:
            kind = "token" if self.token_input else "numeric"
            raise TypeError(
                f"AttentionPoolingNet with encoder={encoder!r} and {kind} input "
                f"needs {', '.join(missing)}."
            )
        if not self.token_input:
            self.standardize = _Standardize(n_features, scaling)
            width = self.standardize.output_size
        else:
            self.tokens = nn.Embedding(vocabulary_size, embedding_dim, padding_idx=PAD)
            width = embedding_dim
            self.subwords = None
            if subword_ngrams is not None:
                self.subwords = SubwordEmbedding(subword_ngrams[2], embedding_dim)
                # A tenth: at full scale a word's own random vector let the
                # network memorise words, and unseen ones learned nothing.
                with torch.no_grad():
                    self.tokens.weight.mul_(0.1)
        # Named "embedding" for every encoder: files of the per-step MLP
        # saved before encoders existed keep loading.
        sizes = encoder_type.estimator_parameters
        self.embedding = encoder_type(width, **{name: settings[name] for name in sizes})
        width = self.embedding.output_size
        self.embedding_size = width
        self.num_heads = num_heads
        self.attention_penalty = attention_penalty
        if attention == "mean":
            self.attention = _MeanPooling()
            query_size = 0
        else:
            rule = attention_class(attention)
            query_size = rule.query_size(width, attention_size)
            self.attention = rule(query_size, width, attention_size)
        # Random, not zero: heads that start equal get equal gradients forever.
        self.query = nn.Parameter(torch.randn(num_heads, query_size))
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(num_heads * width, n_outputs)
        )
        self.ngrams = None
        if self.token_input and linear_ngrams is not None:
            self.ngrams = NgramScores(vocabulary_size, linear_ngrams, n_outputs)
        # Widest per-step intermediate, used to size inference chunks.
        self.step_width = max(
            self.embedding.step_width, 2 * attention_size, num_heads * attention_size
        )

    @property
    def chunk_scale(self):
        """The encoder's inference chunk size, in multiples of the default."""
        return self.embedding.chunk_scale

    @property
    def n_pooled(self):
        """Width of the pooled vector, ``num_heads * embedding_size``."""
        return self.num_heads * self.embedding_size

    def _inputs(self, X, mask):
        """Standardized features, or embedded tokens: ``(batch, n_steps, F)``."""
        if self.token_input:
            ids = X.long()
            vectors = self.tokens(ids[..., 0])  # (batch, n_steps, embedding_dim)
            if self.subwords is not None:
                vectors = self.subwords(vectors, ids[..., 1:])  # same shape
            return vectors
        return self.standardize(X, mask)

    def pool(self, X, lengths, need_weights=True):
        """Pool each sequence to one vector per head.

        Parameters
        ----------
        X : torch.Tensor of shape (batch, n_steps, n_features)
            Token ids in ``X[..., 0]`` for token input.
        lengths : torch.Tensor of shape (batch,)
        need_weights : bool, default=True

        Returns
        -------
        pooled : torch.Tensor of shape (batch, num_heads * embedding_size)
        weights : torch.Tensor of shape (batch, num_heads, n_steps) or None
        """
        mask = length_mask(lengths, X.shape[1])  # (batch, n_steps)
        inputs = self._inputs(X, mask)  # (batch, n_steps, F)
        steps = self.embedding(inputs, lengths, mask)  # (batch, n_steps, h)
        keys = self.attention.project_keys(steps)  # (batch, n_steps, ...)
        query = self.query.expand(X.shape[0], -1, -1)  # (batch, heads, query)
        context, weights = self.attention(query, keys, steps, mask, need_weights)
        return context.flatten(1), weights  # (batch, heads * embedding)

    def scores(self, pooled, X, lengths):
        """The ``(batch, n_outputs)`` predictions from the pooled vectors,
        plus the bag-of-n-grams term of the token ids ``X[..., 0]``."""
        scores = self.head(pooled)
        if self.ngrams is not None:
            scores = scores + self.ngrams(X[..., 0].long(), lengths)
        return scores

    def forward(self, X, lengths):
        """``(scores, penalty)``: the ``(batch, n_outputs)`` predictions and
        the batch mean of the weighted attention penalty (0 without one)."""
        penalized = self.attention_penalty > 0
        pooled, weights = self.pool(X, lengths, need_weights=penalized)
        penalty = pooled.new_zeros(())
        if penalized:
            eye = torch.eye(self.num_heads, device=X.device, dtype=weights.dtype)
            gram = weights @ weights.transpose(1, 2)  # (batch, heads, heads)
            penalty = self.attention_penalty * ((gram - eye) ** 2).sum((1, 2)).mean()
        return self.scores(pooled, X, lengths), penalty  # (batch, n_outputs), ()


class _MeanPooling(nn.Module):
    """Every real step weighs the same, ``1 / length``: average pooling.

    The interface of the registry's scoring modules, with nothing to learn.
    """

    def project_keys(self, steps):
        return steps

    def forward(self, query, keys, values, mask, need_weights=True):
        """``(context, weights)``: ``(batch, heads, F)``, ``(batch, heads,
        n_steps)``."""
        weights = mask.to(values.dtype)  # (batch, n_steps)
        weights = weights / weights.sum(1, keepdim=True)
        weights = weights[:, None, :].expand(-1, query.shape[1], -1)
        return weights @ values, weights


class PoolingLoss(nn.Module):
    """The task's loss on the scores, plus the network's attention penalty.

    Parameters
    ----------
    task : {"classification", "regression"}
        Cross-entropy on class codes, or mean squared error.
    label_smoothing : float, default=0.0
        Of the cross-entropy: the share of each target spread uniformly over
        the classes. Unused for regression.
    """

    def __init__(self, task="classification", label_smoothing=0.0):
        super().__init__()
        if task == "classification":
            self.loss = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        else:
            self.loss = nn.MSELoss()

    def forward(self, output, target):
        scores, penalty = output
        return self.loss(scores, target) + penalty


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
    scaling : {"global", "feature", "series", "series_and_global"} or None, \
default="global"
        The estimator's ``scaling``, for the keys. With ``"series"`` the
        query (the mean of a sequence's z-normalised steps) is zero, so every
        step of a sequence weighs the same. ``"series_and_global"`` pools as
        ``"global"``: the z-normalised half of its query would be zero.
    """

    chunk_scale = 1  # inference chunks of the default size

    def __init__(self, n_features, scaling="global"):
        super().__init__()
        if scaling == "series_and_global":  # its z-normalised half adds nothing
            scaling = "global"
        self.standardize = _Standardize(n_features, scaling)
        self.attention = ScaledDotAttention(n_features, n_features)
        self.num_heads = 1
        self.n_pooled = n_features
        self.step_width = n_features

    def pool(self, X, lengths, need_weights=True):
        """Same contract as :meth:`AttentionPoolingNet.pool`, with one head."""
        mask = length_mask(lengths, X.shape[1])  # (batch, n_steps)
        keys = self.standardize(X, mask) * mask[:, :, None]  # (batch, n_steps, F)
        query = keys.sum(1, keepdim=True) / lengths[:, None, None]  # (batch, 1, F)
        context, weights = self.attention(query, keys, X, mask, need_weights)
        return context.flatten(1), weights  # (batch, n_features)

    def forward(self, X, lengths):
        """The pooled vectors, ``(batch, n_features)``."""
        return self.pool(X, lengths, need_weights=False)[0]
