"""Speed of AttentionSeq2Seq(architecture="transformer") against a plain
PyTorch twin built on ``torch.nn.Transformer``.

Both sides train the same network shape (pre-norm encoder and decoder of
``--layers`` layers, model size 128, 4 heads, feed-forward 512, dropout 0.1
on embeddings and block outputs, sinusoidal positions, Adam at a constant
learning rate, gradient-norm clipping at 1, batch 64) on the same generated
dates, in one process, with one torch thread. Ours runs through the public
estimator (``fit`` / ``predict``: skorch, validation, strings in and out
included); the twin is ``torch.nn.Transformer(norm_first=True,
batch_first=True)`` in a plain loop over the same kind of length-bucketed
batches. Epochs and decoding runs alternate between the sides so that a
change in machine load hits both.

Greedy decoding: ours steps the decoder one position at a time on its
key/value cache; ``nn.Transformer`` has no cache, so the twin re-runs its
decoder over the whole prefix at every step (with the encoder run once per
batch and finished rows dropped), which is how it is used by hand.

Printed: target tokens per CPU-second in training (median over epochs) and
sequences per CPU-second in greedy decoding (median over runs) for both
sides, and the ratios ours/twin (higher is better for ours).

Run::

    python benchmarks/bench_transformer.py            # about 3 minutes
    python benchmarks/bench_transformer.py --quick    # a smoke run
"""

import argparse
import math
import statistics
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from skorch.callbacks import Callback
from torch import nn

from sk_attention import AttentionSeq2Seq
from sk_attention.datasets import make_dates

PAD, BOS, EOS, UNK = 0, 1, 2, 3
MODEL_SIZE, HEADS, FEEDFORWARD, DROPOUT, BATCH = 128, 4, 512, 0.1, 64


class EpochCPUTime(Callback):
    """Record the CPU seconds of every training epoch."""

    def __init__(self):
        self.seconds = []

    def on_epoch_begin(self, net, **kwargs):
        self._start = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        self.seconds.append(time.process_time() - self._start)


class CharVocabulary:
    """Characters <-> ids, ids 0..3 reserved for pad, start, end, unknown."""

    def __init__(self, texts):
        self.itos = ["<pad>", "<s>", "</s>", "<unk>", *sorted(set("".join(texts)))]
        self.stoi = {char: index for index, char in enumerate(self.itos)}

    def encode(self, text):
        return np.array([self.stoi.get(char, UNK) for char in text], np.int64)

    def decode(self, ids):
        return "".join(self.itos[index] for index in ids)


def pad(arrays, before=(), after=()):
    """A padded (batch, longest) LongTensor."""
    rows = [np.concatenate((before, a, after)).astype(np.int64) for a in arrays]
    out = np.zeros((len(rows), max(len(row) for row in rows)), np.int64)
    for index, row in enumerate(rows):
        out[index, : len(row)] = row
    return torch.from_numpy(out)


def bucketed_batches(lengths, generator, pool_batches=50):
    """Shuffle, sort pools of batches by length, shuffle the batches."""
    order = generator.permutation(len(lengths))
    pool_size = BATCH * pool_batches
    batches = []
    for start in range(0, len(order), pool_size):
        pool = order[start : start + pool_size]
        pool = pool[np.argsort(-lengths[pool], kind="stable")]
        batches.extend(pool[i : i + BATCH] for i in range(0, len(pool), BATCH))
    return [batches[i] for i in generator.permutation(len(batches))]


def sinusoids(length, size):
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, size, 2) * (-math.log(10000.0) / size))
    table = torch.zeros(length, size)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


class TwinTransformer(nn.Module):
    """Embeddings + ``nn.Transformer`` (pre-norm) + output projection."""

    def __init__(self, source_vocab, target_vocab, num_layers):
        super().__init__()
        self.source_embedding = nn.Embedding(source_vocab, MODEL_SIZE, PAD)
        self.target_embedding = nn.Embedding(target_vocab, MODEL_SIZE, PAD)
        for embedding in (self.source_embedding, self.target_embedding):
            nn.init.normal_(embedding.weight, std=MODEL_SIZE**-0.5)
        self.register_buffer("positions", sinusoids(512, MODEL_SIZE))
        self.transformer = nn.Transformer(
            MODEL_SIZE,
            HEADS,
            num_layers,
            num_layers,
            FEEDFORWARD,
            DROPOUT,
            batch_first=True,
            norm_first=True,
        )
        # Ours drops no units inside the feed-forward blocks; nor does the twin.
        layers = (*self.transformer.encoder.layers, *self.transformer.decoder.layers)
        for layer in layers:
            layer.dropout = nn.Identity()
        self.dropout = nn.Dropout(DROPOUT)
        self.output = nn.Linear(MODEL_SIZE, target_vocab)

    def embed(self, embedding, tokens):
        scaled = embedding(tokens) * math.sqrt(MODEL_SIZE)
        return self.dropout(scaled + self.positions[: tokens.size(1)])

    def encode(self, source):
        padding = source == PAD
        memory = self.transformer.encoder(
            self.embed(self.source_embedding, source), src_key_padding_mask=padding
        )
        return memory, padding

    def decode(self, target_input, memory, padding):
        causal = nn.Transformer.generate_square_subsequent_mask(
            target_input.size(1), dtype=memory.dtype
        )
        hidden = self.transformer.decoder(
            self.embed(self.target_embedding, target_input),
            memory,
            tgt_mask=causal,
            tgt_is_causal=True,
            memory_key_padding_mask=padding,
        )
        return self.output(hidden)

    def forward(self, source, target_input):
        return self.decode(target_input, *self.encode(source))


def twin_epoch(model, optimizer, sources, targets, generator):
    model.train()
    lengths = np.array([len(source) for source in sources])
    for batch in bucketed_batches(lengths, generator):
        source = pad([sources[i] for i in batch])
        target_input = pad([targets[i] for i in batch], before=[BOS])
        target_output = pad([targets[i] for i in batch], after=[EOS])
        logits = model(source, target_input)
        loss = F.cross_entropy(
            logits.flatten(0, 1), target_output.flatten(), ignore_index=PAD
        )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()


@torch.inference_mode()
def twin_greedy(model, sources, max_length, batch_size=256):
    model.eval()
    results = [None] * len(sources)
    order = np.argsort([-len(source) for source in sources], kind="stable")
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        memory, padding = model.encode(pad([sources[i] for i in chunk]))
        prefix = torch.full((len(chunk), 1), BOS)
        active = torch.arange(len(chunk))
        output = torch.full((len(chunk), max_length), EOS)
        for position in range(max_length):
            logits = model.decode(prefix, memory, padding)[:, -1]
            logits[:, [PAD, BOS]] = float("-inf")
            tokens = logits.argmax(-1)
            output[active, position] = tokens
            live = tokens != EOS
            keep = live.nonzero()[:, 0]
            if len(keep) == 0:
                break
            active, memory, padding = active[keep], memory[keep], padding[keep]
            prefix = torch.cat([prefix[keep], tokens[keep, None]], dim=1)
        for row, index in zip(output.tolist(), chunk):
            results[index] = row[: row.index(EOS)] if EOS in row else row
    return results


def cpu_seconds(function, *args):
    start = time.process_time()
    result = function(*args)
    return time.process_time() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--layers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    # norm_first layers cannot use nested tensors; torch says so once per model.
    warnings.filterwarnings("ignore", message="enable_nested_tensor")
    n_train, n_test, epochs, runs = (
        (1000, 200, 2, 1) if args.quick else (5000, 1000, 4, 3)
    )
    X, y = make_dates(n_train + n_test, random_state=0)
    X_train, y_train = X[:n_train], y[:n_train]
    X_test, y_test = X[n_train:], y[n_train:]
    n_tokens = sum(len(target) + 1 for target in y_train)  # end token counts

    timer = EpochCPUTime()
    ours = AttentionSeq2Seq(
        architecture="transformer",
        hidden_size=MODEL_SIZE,
        num_heads=HEADS,
        num_layers=args.layers,
        feedforward_size=FEEDFORWARD,
        dropout=DROPOUT,
        warmup_steps=0,
        batch_size=BATCH,
        predict_batch_size=256,
        max_epochs=1,
        lr=1e-3,
        validation_fraction=None,
        early_stopping=False,
        callbacks=[timer],
        warm_start=True,
        random_state=0,
    )
    torch.manual_seed(0)
    source_vocab, target_vocab = CharVocabulary(X_train), CharVocabulary(y_train)
    twin = TwinTransformer(len(source_vocab.itos), len(target_vocab.itos), args.layers)
    optimizer = torch.optim.Adam(twin.parameters(), lr=1e-3)
    sources = [source_vocab.encode(text) for text in X_train]
    targets = [target_vocab.encode(text) for text in y_train]
    generator = np.random.default_rng(0)

    train = {"ours": [], "twin": []}
    for _ in range(epochs):
        ours.fit(X_train, y_train)  # warm_start: one more epoch
        train["ours"].append(n_tokens / timer.seconds[-1])
        seconds, _ = cpu_seconds(
            twin_epoch, twin, optimizer, sources, targets, generator
        )
        train["twin"].append(n_tokens / seconds)

    decode = {"ours": [], "twin": []}
    accuracy = {}
    test_sources = [source_vocab.encode(text) for text in X_test]
    for _ in range(runs):
        seconds, predicted = cpu_seconds(ours.predict, X_test)
        decode["ours"].append(len(X_test) / seconds)
        accuracy["ours"] = np.mean(predicted == np.array(y_test, dtype=object))
        seconds, ids = cpu_seconds(
            twin_greedy, twin, test_sources, ours.max_output_length_
        )
        decode["twin"].append(len(X_test) / seconds)
        accuracy["twin"] = np.mean(
            [target_vocab.decode(row) == text for row, text in zip(ids, y_test)]
        )

    print(
        f"torch {torch.__version__}, 1 thread; dates, {n_train} train / "
        f"{n_test} test pairs; {args.layers}+{args.layers} layers, model "
        f"{MODEL_SIZE}, {HEADS} heads, batch {BATCH}; {epochs} epochs"
    )
    rows = [
        ("training, target tokens / CPU-s", train),
        ("greedy decoding, sequences / CPU-s (batch 256)", decode),
    ]
    print(f"{'':48} {'ours':>10} {'twin':>10} {'ours/twin':>10}")
    for label, values in rows:
        ours_value = statistics.median(values["ours"])
        twin_value = statistics.median(values["twin"])
        print(
            f"{label:48} {ours_value:10.0f} {twin_value:10.0f} "
            f"{ours_value / twin_value:10.2f}"
        )
    print(
        f"exact match after {epochs} epochs: ours {accuracy['ours']:.3f}, "
        f"twin {accuracy['twin']:.3f}"
    )


if __name__ == "__main__":
    main()
