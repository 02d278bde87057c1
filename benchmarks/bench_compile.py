"""Does ``torch.compile`` speed up training of the seq2seq network?

Trains the network of ``bench_seq2seq.py`` (GRU, additive attention, no
input feeding, embedding 64, hidden 128) on 4,096 generated dates in
batches of 64 sorted by length, forward and backward, once eagerly and once through
``torch.compile(dynamic=True)``, alternating, with one torch thread. Prints
the time the first compiled pass took (compilation included) and the
median eager / compiled time of the passes after it (higher than 1 means
compiling helps).

Run::

    python benchmarks/bench_compile.py   # 1-2 minutes here, most of it compiling
"""

import statistics
import time

import torch
import torch.nn.functional as F

from sk_attention._ragged import pad_sequences, sorted_batches
from sk_attention._seq2seq._model import Seq2SeqModule
from sk_attention._text import BOS, EOS, PAD, Vocabulary
from sk_attention.datasets import make_dates


def make_batches(n_samples=4096, batch_size=64):
    X, y = make_dates(n_samples, random_state=0)
    sources, targets = [list(text) for text in X], [list(text) for text in y]
    source_vocab, target_vocab = Vocabulary.build(sources), Vocabulary.build(targets)
    source_ids = [source_vocab.encode(tokens) for tokens in sources]
    target_ids = [target_vocab.encode(tokens) for tokens in targets]
    batches = []
    for batch in sorted_batches([len(ids) for ids in source_ids], batch_size):
        source, lengths = pad_sequences([source_ids[i] for i in batch], PAD)
        target_input, _ = pad_sequences([[BOS, *target_ids[i]] for i in batch], PAD)
        target_output, _ = pad_sequences([[*target_ids[i], EOS] for i in batch], PAD)
        batches.append(
            [torch.as_tensor(a, dtype=torch.long)
             for a in (source, lengths, target_input, target_output)]
        )
    return batches, len(source_vocab), len(target_vocab)


def train_pass(model, batches):
    """CPU seconds of one forward and backward pass over ``batches``."""
    start = time.process_time()
    for source, lengths, target_input, target_output in batches:
        logits = model(source, lengths, target_input)
        loss = F.cross_entropy(
            logits.flatten(0, 1), target_output.flatten(), ignore_index=PAD
        )
        model.zero_grad()
        loss.backward()
    return time.process_time() - start


def main():
    torch.set_num_threads(1)
    batches, source_vocab_size, target_vocab_size = make_batches()
    torch.manual_seed(0)
    eager = Seq2SeqModule(
        source_vocab_size, target_vocab_size, embedding_dim=64, hidden_size=128,
        num_layers=1, bidirectional=True, dropout=0.1, cell="gru",
        attention="additive", attention_size=128, attention_dropout=0.0,
        input_feeding=False, training_precision="float32",
    )
    compiled = torch.compile(eager, dynamic=True)
    wall = time.perf_counter()
    first = train_pass(compiled, batches)
    wall = time.perf_counter() - wall
    print(f"first compiled pass: {wall:.1f} s wall, {first:.1f} CPU-s")
    times = {"eager": [], "compiled": []}
    for _ in range(3):
        times["eager"].append(train_pass(eager, batches))
        times["compiled"].append(train_pass(compiled, batches))
    ratio = statistics.median(times["eager"]) / statistics.median(times["compiled"])
    print(f"CPU-s per pass: {times}")
    print(f"eager / compiled: {ratio:.2f} (above 1: compiling helps)")


if __name__ == "__main__":
    main()
