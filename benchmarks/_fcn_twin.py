"""A plain-PyTorch fully convolutional network (FCN) for time series: the twin.

The yardstick of ``bench_sequence_classification.py`` and
``ablate_time_series.py``: the FCN of Wang, Yan and Oates (2017) trained as
dl-4-tsc and aeon train it, written without skorch, the estimators or any
library code:

- every series z-normalised on its own (each channel, over its real steps);
- conv 128/k8 -> 256/k5 -> 128/k3, each with BatchNorm and ReLU ("same"
  length), global average pooling over the real steps, a linear layer;
- Adam at 1e-3, halved when the training loss has not improved for
  ``patience`` epochs (floor 1e-4); small shuffled batches
  (``min(n // 10, 16)``); all training data used, no validation split;
- the weights of the lowest training loss kept.

Switches (``norm``, ``pool``, ``dropout``, ``znorm``, ``levels``,
``schedule``, ``keep_best``, ``width``) turn one ingredient at a time into what the
attention pooling estimators did before, or do now (``schedule="cosine"``),
for ablations.
"""

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def steps_first(X):
    """aeon's ``(n, channels, time)`` (or a list of ``(channels, time_i)``)
    as a list of float32 ``(time_i, channels)`` arrays."""
    return [np.asarray(x, dtype=np.float32).T for x in X]


def padded(series, znorm, levels=None):
    """``(X, lengths)``: zero-padded ``(n, T, C)`` float32 and the lengths.

    ``levels``: ``(mean, std)`` of all training values, or None; given, the
    series standardized with them follow as more channels (as
    ``scaling="series_and_global"`` reads them).
    """
    lengths = np.array([len(s) for s in series])
    channels = series[0].shape[1] * (1 if levels is None else 2)
    X = np.zeros((len(series), lengths.max(), channels), np.float32)
    for row, s in enumerate(series):
        values = s
        if znorm:
            std = s.std(axis=0)
            values = (s - s.mean(axis=0)) / np.where(std > 1e-8, std, 1.0)
        if levels is not None:
            values = np.hstack([values, (s - levels[0]) / levels[1]])
        X[row, : len(s)] = values
    return torch.from_numpy(X), torch.from_numpy(lengths)


class FCN(nn.Module):
    """Conv blocks, then average (or gated attention) pooling, then linear.

    ``pool``: "average", "attention", "attention from average" (the
    attention's output weights start at zero: uniform weights) or "both"
    (attention and average pooled vectors side by side).

    ``norm``: "batch" (BatchNorm1d), "layer" (LayerNorm over channels per
    step, as the earlier ``encoder="conv"``) or None.
    """

    def __init__(self, n_channels, n_classes, width=128, norm="batch",
                 pool="average", dropout=0.0, kernels=(8, 5, 3)):
        super().__init__()
        widths = (width, 2 * width, width)
        self.convolutions = nn.ModuleList()
        self.norms = nn.ModuleList()
        previous = n_channels
        for size, kernel in zip(widths, kernels):
            self.convolutions.append(nn.Conv1d(previous, size, kernel))
            if norm == "batch":
                self.norms.append(nn.BatchNorm1d(size))
            elif norm == "layer":
                self.norms.append(_ChannelLayerNorm(size))
            else:
                self.norms.append(nn.Identity())
            previous = size
        self.pool = pool
        if pool.startswith("dot"):  # scaled dot product with a learned query
            self.query = nn.Parameter(
                torch.zeros(previous) if pool == "dot from average"
                else torch.randn(previous))
        elif pool != "average":  # Ilse et al.'s gated attention, one query
            self.V = nn.Linear(previous, 64)
            self.U = nn.Linear(previous, 64)
            self.w = nn.Linear(64, 1)
            if pool == "attention from average":  # uniform weights at first
                nn.init.zeros_(self.w.weight)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(previous * (2 if pool == "both" else 1), n_classes)

    def forward(self, X, lengths):
        mask = (torch.arange(X.shape[1])[None, :] < lengths[:, None])  # (b, T)
        keep = mask[:, None, :].to(X.dtype)  # (b, 1, T)
        h = X.transpose(1, 2)  # (b, C, T)
        for convolution, norm in zip(self.convolutions, self.norms):
            total = convolution.kernel_size[0] - 1
            h = F.pad(h * keep, (total // 2, total - total // 2))
            h = self.dropout(F.relu(norm(convolution(h))))  # (b, width, T)
        h = h.transpose(1, 2)  # (b, T, width)
        average = (h * keep.transpose(1, 2)).sum(1) / lengths[:, None]
        if self.pool == "average":
            pooled = average
        elif self.pool.startswith("dot"):
            scores = (h @ self.query) / h.shape[-1] ** 0.5  # (b, T)
            scores = scores.masked_fill(~mask, float("-inf"))
            pooled = (scores.softmax(1)[..., None] * h).sum(1)
        else:
            scores = self.w(torch.tanh(self.V(h)) * torch.sigmoid(self.U(h)))
            scores = scores[..., 0].masked_fill(~mask, float("-inf"))
            pooled = (scores.softmax(1)[..., None] * h).sum(1)
            if self.pool == "both":
                pooled = torch.cat([pooled, average], 1)
        return self.out(self.dropout(pooled))


class _Ours(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, X, lengths):
        return self.net(X, lengths)[0]


class _ChannelLayerNorm(nn.LayerNorm):
    def forward(self, h):  # (b, C, T): normalise each step over channels
        return super().forward(h.transpose(1, 2)).transpose(1, 2)


def fit_fcn(X, y, *, updates, batch_size=None, lr=1e-3, width=128,
            norm="batch", pool="average", dropout=0.0, znorm=True,
            schedule="plateau", patience=None, keep_best=True, levels=False,
            seed=0, evaluate=None, milestones=()):
    """Train an FCN; ``(model, curve)``.

    ``X`` is a list of ``(time_i, channels)`` arrays and ``y`` integer codes.
    Training runs ``ceil(updates / batches per epoch)`` epochs. ``schedule``:
    "plateau" (the published halving), "cosine" (to zero over the epochs,
    stepped after each, as ``lr_schedule="cosine"``) or None (constant).
    ``evaluate(model)`` is called with the weights that would be returned
    (the best so far with ``keep_best``) after the epoch where each of
    ``milestones`` updates is reached; ``curve`` holds ``(updates, value)``.
    ``levels``: the globally standardized series beside the (z-normalised)
    ones, with the training values' statistics kept as ``model.levels``.
    """
    torch.manual_seed(seed)
    generator = np.random.RandomState(seed)
    n = len(X)
    batch_size = batch_size or max(2, min(16, n // 10))
    statistics = None
    if levels:
        values = np.concatenate(X)
        statistics = (values.mean(), values.std() or 1.0)
    X_t, lengths = padded(X, znorm, statistics)
    y_t = torch.as_tensor(y, dtype=torch.long)
    if norm == "ours":  # the earlier encoder="conv" network, whole
        from sk_attention._pooling._model import AttentionPoolingNet

        # The earlier conv encoder with its estimator defaults of the time.
        model = _Ours(AttentionPoolingNet(
            X_t.shape[2], int(y_t.max()) + 1, encoder="conv", dropout=dropout,
            attention="gated", num_heads=1, attention_size=64, encoder_size=64,
            encoder_layers=2, kernel_size=5, scaling="global"))
    else:
        model = FCN(X_t.shape[2], int(y_t.max()) + 1, width=width, norm=norm,
                    pool=pool, dropout=dropout)
    model.levels = statistics
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = -(-n // batch_size)
    epochs = -(-updates // batches)
    patience = patience or max(5, epochs // 40)
    if schedule == "plateau":
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=0.5, patience=patience, min_lr=1e-4)
    elif schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    best_loss, best_state = np.inf, None
    curve, pending, done = [], sorted(milestones), 0
    for _ in range(epochs):
        model.train()
        total = 0.0
        for batch in np.array_split(generator.permutation(n), batches):
            batch = torch.from_numpy(batch)
            longest = int(lengths[batch].max())
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X_t[batch, :longest], lengths[batch]),
                                   y_t[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
            done += 1
        total /= n
        if schedule == "plateau":
            scheduler.step(total)
        elif schedule == "cosine":
            scheduler.step()
        if total < best_loss:
            best_loss = total
            if keep_best:
                best_state = copy.deepcopy(model.state_dict())
        while pending and done >= pending[0]:
            pending.pop(0)
            curve.append((done, evaluate(_returned(model, best_state))))
    return _returned(model, best_state), curve


def _returned(model, best_state):
    if best_state is None:
        return model.eval()
    model = copy.deepcopy(model)
    model.load_state_dict(best_state)
    return model.eval()


def predict_fcn(model, X, znorm=True, batch_size=256):
    """Predicted class codes of a list of ``(time_i, channels)`` arrays."""
    out = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            X_t, lengths = padded(X[start : start + batch_size], znorm,
                                  model.levels)
            out.append(model.eval()(X_t, lengths).argmax(1).numpy())
    return np.concatenate(out)
