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

Run::

    python benchmarks/bench_pooling.py --threads 1
"""

import argparse
import time

import numpy as np
import torch

from sk_attention import AttentionPooling
from sk_attention._pooling import _base as _pooling_base
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
    )
    optimizer = torch.optim.Adam(module.parameters(), lr=pool.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    lengths = torch.full((len(X),), X.shape[1])
    module.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(X)).split(pool.batch_size):
            optimizer.zero_grad()
            loss = loss_fn(module(X_t[batch], lengths[batch]), y_t[batch])
            loss.backward()
            optimizer.step()


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


if __name__ == "__main__":
    main()
