"""Speed of attention pooling against a fused ``torch.einsum`` lower bound.

Three measurements, each taken side by side in one run (best of
``--repeats``):

1. ``AttentionPooling.transform`` on a ``(10_000, 50, 64)`` array against
   the same computation written as a few fused ``torch.einsum`` calls on
   the whole array at once (standardize, per-step MLP, gated scores,
   softmax, weighted sum), with the same weights and no validation or
   bookkeeping. The outputs are checked to agree. The same einsums run on
   cache-sized chunks of rows are shown too: that is the arithmetic alone,
   the tighter bound.
2. ``transform`` throughput as n_samples and the sequence length grow, with
   both einsum references alongside.
3. ``fit`` throughput (sequences per second of training) as n_samples and
   the sequence length grow, against a plain PyTorch loop training the same
   network with the same optimizer, batch size and number of epochs.
4. Each sequence encoder (``encoder="gru"``, ``"lstm"``, ``"conv"``,
   ``"transformer"``) on ragged sequences: ``fit`` and ``transform`` time
   per sample against a plain PyTorch twin of the same network written the
   textbook way (``nn.GRU``/``nn.LSTM`` over packed sequences,
   ``nn.TransformerEncoder`` with a key padding mask, the same convolution
   blocks; random batches padded to their longest member; the same gated
   attention pooling, optimizer, batch size and epochs). The ratio is the
   twin's time over ours: above 1.0, the estimator is faster.

Run::

    python benchmarks/bench_pooling.py --threads 1
"""

import argparse
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sk_attention import AttentionPooling, AttentionPoolingClassifier
from sk_attention._pooling import _base as _pooling_base
from sk_attention._pooling._encoders import ConvEncoder
from sk_attention._pooling._model import AttentionPoolingNet


def einsum_pool(module, X):
    """The pooled vectors of ``module`` (gated attention), fused einsums."""
    Z = (X - module.standardize.mean) / module.standardize.scale  # (n, T, F)
    for layer in module.embedding:
        if isinstance(layer, torch.nn.Linear):
            Z = torch.relu(torch.einsum("ntf,hf->nth", Z, layer.weight) + layer.bias)
    attention = module.attention
    size = attention.attention_size
    W, b = attention.key_layer.weight, attention.key_layer.bias
    projected = torch.einsum("nth,ah->nta", Z, W) + b  # (n, T, 2 * size)
    query = attention.query_layer(module.query)  # (heads, size)
    hidden = torch.tanh(projected[None, :, :, :size] + query[:, None, None, :])
    hidden = hidden * torch.sigmoid(projected[None, :, :, size:])  # (k, n, T, a)
    scores = torch.einsum("knta,a->knt", hidden, attention.energy_layer.weight[0])
    weights = torch.softmax(scores, dim=-1)  # (heads, n, T)
    pooled = torch.einsum("knt,nth->nkh", weights, Z)  # (n, heads, h)
    return pooled.flatten(1)


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def best_times_alternating(functions, repeats):
    """The best time of each function, called in turn ``repeats`` times, so
    that a change in the machine's load falls on all of them alike."""
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, measured in zip(functions, times):
            start = time.perf_counter()
            function()
            measured.append(time.perf_counter() - start)
    return [min(measured) for measured in times]


def fitted_pool(X, y, **params):
    """A pool with trained-looking weights; one short epoch is enough here."""
    return AttentionPooling(max_epochs=1, random_state=0, **params).fit(X, y)


def transform_vs_einsum(shape, repeats, hidden_layer_sizes=(64, 64), dtype="float32"):
    """Best seconds of: transform, whole-array einsum, chunked einsum."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=shape).astype(dtype)
    y = rng.randint(2, size=shape[0])
    pool = fitted_pool(X[:500], y[:500], hidden_layer_sizes=hidden_layer_sizes)
    module = pool.module_.eval()
    X_t = torch.from_numpy(X.astype(np.float32))
    rows = max(1, _pooling_base._CHUNK_ELEMENTS // (shape[1] * module.step_width))

    def whole():
        with torch.inference_mode():
            return einsum_pool(module, X_t)

    def chunked():
        with torch.inference_mode():
            return torch.cat([einsum_pool(module, c) for c in X_t.split(rows)])

    expected = whole().numpy()
    np.testing.assert_allclose(pool.transform(X), expected, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(chunked().numpy(), expected, rtol=1e-3, atol=1e-4)
    ours = best_time(lambda: pool.transform(X), repeats)
    return ours, best_time(whole, repeats), best_time(chunked, repeats)


def twin_fit(X, y, pool, epochs):
    """Plain PyTorch: the same network, optimizer, batch size and epochs."""
    torch.manual_seed(0)
    module = AttentionPoolingNet(
        n_features=X.shape[2],
        n_outputs=2,
        hidden_layer_sizes=pool.hidden_layer_sizes,
        attention=pool.attention,
        num_heads=pool.num_heads,
        attention_size=pool.attention_size,
        dropout=pool.dropout,
        scaling="global",
    )
    optimizer = torch.optim.Adam(module.parameters(), lr=pool.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    lengths = torch.full((len(X),), X.shape[1])
    module.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(X)).split(pool.batch_size):
            optimizer.zero_grad()
            scores, _ = module(X_t[batch], lengths[batch])  # (scores, penalty)
            loss = loss_fn(scores, y_t[batch])
            loss.backward()
            optimizer.step()


class TwinEncoderPooling(nn.Module):
    """Plain PyTorch: a textbook encoder, gated attention pooling, a head."""

    def __init__(self, encoder, n_features, n_outputs, size=64, layers=2, heads=4,
                 attention_size=64, dropout=0.2):
        super().__init__()
        self.kind = encoder
        if encoder in ("gru", "lstm"):
            rnn = nn.GRU if encoder == "gru" else nn.LSTM
            self.encoder = rnn(n_features, size // 2, num_layers=layers,
                               batch_first=True, bidirectional=True,
                               dropout=dropout)
        elif encoder == "conv":  # the same blocks: a convolution is a convolution
            self.encoder = ConvEncoder(n_features, size, layers, 5, dropout)
        else:
            self.projection = nn.Linear(n_features, size)
            layer = nn.TransformerEncoderLayer(
                size, heads, 2 * size, dropout, batch_first=True, norm_first=True
            )
            self.encoder = nn.TransformerEncoder(layer, layers,
                                                 enable_nested_tensor=False)
        self.V = nn.Linear(size, attention_size)
        self.U = nn.Linear(size, attention_size)
        self.w = nn.Linear(attention_size, 1, bias=False)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(size, n_outputs))

    def forward(self, X, lengths):
        mask = torch.arange(X.shape[1])[None, :] < lengths[:, None]
        if self.kind in ("gru", "lstm"):
            packed = pack_padded_sequence(X, lengths, batch_first=True,
                                          enforce_sorted=False)
            H, _ = pad_packed_sequence(self.encoder(packed)[0], batch_first=True,
                                       total_length=X.shape[1])
        elif self.kind == "conv":
            H = self.encoder(X, lengths, mask)
        else:
            steps = torch.arange(X.shape[1])[:, None]
            rates = torch.exp(torch.arange(0, 64, 2) * (-np.log(1e4) / 64))
            positions = torch.zeros(X.shape[1], 64)
            positions[:, 0::2] = torch.sin(steps * rates)
            positions[:, 1::2] = torch.cos(steps * rates)
            H = self.encoder(self.projection(X) + positions,
                             src_key_padding_mask=~mask)
        scores = self.w(torch.tanh(self.V(H)) * torch.sigmoid(self.U(H)))[..., 0]
        weights = torch.softmax(scores.masked_fill(~mask, -torch.inf), dim=1)
        return self.head((weights[..., None] * H).sum(1))


def _padded(X, index):
    lengths = torch.tensor([len(X[i]) for i in index])
    batch = torch.zeros(len(index), int(lengths.max()), X[0].shape[1])
    for row, i in enumerate(index):
        batch[row, : len(X[i])] = torch.from_numpy(X[i])
    return batch, lengths


def twin_encoder_fit(module, X, y, epochs, batch_size=32, lr=1e-3):
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    y_t = torch.from_numpy(y)
    module.train()
    for _ in range(epochs):
        for index in torch.randperm(len(X)).split(batch_size):
            batch, lengths = _padded(X, index.tolist())
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(module(batch, lengths), y_t[index])
            loss.backward()
            optimizer.step()


def twin_encoder_transform(module, X, batch_size=256):
    module.eval()
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            module(*_padded(X, list(range(start, min(start + batch_size, len(X))))))


def encoders_vs_twins(n_samples, repeats, epochs):
    """Rows of (encoder, fit ratio, transform ratio) on ragged sequences."""
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(n, 16)).astype(np.float32)
         for n in rng.randint(20, 61, size=n_samples)]
    y = rng.randint(2, size=n_samples)
    rows = []
    for encoder in ("gru", "lstm", "conv", "transformer"):
        clf = AttentionPoolingClassifier(encoder=encoder, max_epochs=epochs,
                                         random_state=0)
        torch.manual_seed(0)
        twin = TwinEncoderPooling(encoder, 16, 2)
        # Warm up both (first calls of kernels and allocators), untimed.
        clf.set_params(max_epochs=1).fit(X[:64], y[:64]).set_params(max_epochs=epochs)
        twin_encoder_fit(twin, X[:64], y[:64], 1)
        ours_fit, twin_fit_time = best_times_alternating(
            [lambda: clf.fit(X, y), lambda: twin_encoder_fit(twin, X, y, epochs)],
            repeats,
        )
        ours_transform, twin_transform = best_times_alternating(
            [lambda: clf.predict_proba(X), lambda: twin_encoder_transform(twin, X)],
            2 * repeats,
        )
        rows.append((encoder, ours_fit, twin_fit_time, ours_transform,
                     twin_transform))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch.set_num_threads (default: torch's choice)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes, for a smoke run"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)\n")

    n_big = 2_000 if args.quick else 10_000
    print(f"1. transform on ({n_big}, 50, 64) vs fused einsum (seconds)")
    print(
        f"   {'hidden_layer_sizes':>18} {'input':>7} {'ours':>7} {'einsum':>7} "
        f"{'ratio':>6} {'chunked':>7} {'ratio':>6}"
    )
    default = AttentionPooling().hidden_layer_sizes
    for hidden, dtype in [(default, "float32"), ((), "float32"), (default, "float64")]:
        ours, whole, chunked = transform_vs_einsum(
            (n_big, 50, 64), args.repeats, hidden, dtype
        )
        print(
            f"   {hidden!s:>18} {dtype:>7} {ours:7.3f} {whole:7.3f} "
            f"{ours / whole:6.2f} {chunked:7.3f} {ours / chunked:6.2f}"
        )

    print("\n2. transform throughput (sequences/s), 16 features, float32")
    print(
        f"   {'n_samples':>9} {'n_steps':>7} {'ours':>8} {'einsum':>8} "
        f"{'ratio':>6} {'chunked':>8} {'ratio':>6}"
    )
    sizes = [(1000, 50), (4000, 50), (16000, 50), (4000, 10), (4000, 200)]
    if args.quick:
        sizes = [(500, 20), (2000, 20), (500, 80)]
    for n_samples, n_steps in sizes:
        ours, whole, chunked = transform_vs_einsum(
            (n_samples, n_steps, 16), args.repeats
        )
        print(
            f"   {n_samples:>9} {n_steps:>7} {n_samples / ours:>8.0f} "
            f"{n_samples / whole:>8.0f} {ours / whole:>6.2f} "
            f"{n_samples / chunked:>8.0f} {ours / chunked:>6.2f}"
        )

    epochs = 2
    print(f"\n3. fit throughput (sequences/s over {epochs} epochs), 16 features")
    print(f"   {'n_samples':>9} {'n_steps':>7} {'ours':>10} {'torch':>10} {'ratio':>6}")
    sizes = [(1000, 50), (4000, 50), (4000, 10), (4000, 200)]
    if args.quick:
        sizes = [(500, 20), (500, 80)]
    rng = np.random.RandomState(0)
    for n_samples, n_steps in sizes:
        X = rng.normal(size=(n_samples, n_steps, 16)).astype(np.float32)
        y = rng.randint(2, size=n_samples)
        pool = AttentionPooling(max_epochs=epochs, random_state=0)
        ours = best_time(lambda: pool.fit(X, y), args.repeats)
        theirs = best_time(lambda: twin_fit(X, y, pool, epochs), args.repeats)
        rate = epochs * n_samples
        print(
            f"   {n_samples:>9} {n_steps:>7} {rate / ours:>10.0f} "
            f"{rate / theirs:>10.0f} {ours / theirs:>6.2f}"
        )

    n_ragged = 500 if args.quick else 2000
    print(f"\n4. encoders vs plain PyTorch twins: {n_ragged} sequences of 20-60 "
          f"steps, 16 features, fit {epochs} epochs (ms per sample; ratio = "
          "twin / ours)")
    print(f"   {'encoder':>11} {'fit':>7} {'twin':>7} {'ratio':>6} "
          f"{'predict':>8} {'twin':>7} {'ratio':>6}")
    for name, fit, twin_fit_s, predict, twin_predict in encoders_vs_twins(
        n_ragged, args.repeats, epochs
    ):
        per = 1e3 / n_ragged
        print(f"   {name:>11} {fit * per / epochs:7.3f} "
              f"{twin_fit_s * per / epochs:7.3f} {twin_fit_s / fit:6.2f} "
              f"{predict * per:8.4f} {twin_predict * per:7.4f} "
              f"{twin_predict / predict:6.2f}")


if __name__ == "__main__":
    main()
