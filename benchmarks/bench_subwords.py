"""Subword, word and character source tokenizers on words unseen in training.

The task is grapheme-to-phoneme conversion of generated pseudo-words
(``sk_attention.datasets.make_transliteration``): every test word is absent
from the training words, so a word-level source vocabulary maps each test
word to the unknown token, a character one reads every letter, and a
byte-pair encoding (``source_tokenizer="bpe"``) reads the subwords it
learned from the training words. The targets are phoneme strings, split into
phonemes (``target_tokenizer="word"``) in every run. The same split, seed
and model settings for the three runs; one torch thread.

Printed: the tokenizer, source vocabulary size, mean source tokens per word,
word accuracy (exact match) and phoneme error rate (edit distance over
reference phonemes) on the test words, and training CPU-seconds.

Run::

    python benchmarks/bench_subwords.py            # about 6 minutes
    python benchmarks/bench_subwords.py --quick    # a smoke run, ~1 minute
"""

import argparse
import time

import numpy as np
import torch

from sk_attention import AttentionSeq2Seq
from sk_attention.datasets import make_transliteration
from sk_attention.metrics import sequence_accuracy, token_error_rate

SEED = 0


def split(n_words):
    """Distinct training and test words; no test word is seen in training."""
    X, y = make_transliteration(3 * n_words, random_state=SEED)
    pairs = dict(zip(X, y))  # one pronunciation per word
    words = sorted(pairs)
    np.random.RandomState(SEED).shuffle(words)
    n_test = len(words) // 5
    test, train = words[:n_test], words[n_test:]
    return (train, [pairs[w] for w in train], test, [pairs[w] for w in test])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    X_train, y_train, X_test, y_test = split(800 if args.quick else 4000)
    assert not set(X_test) & set(X_train)
    epochs = 3 if args.quick else 15
    print(f"make_transliteration, seed {SEED}: {len(X_train)} training words, "
          f"{len(X_test)} test words unseen in training; {epochs} epochs, "
          "greedy decoding, one torch thread")
    print(f"{'source_tokenizer':<18}{'vocabulary':>11}{'tokens/word':>13}"
          f"{'word acc.':>11}{'PER':>8}{'train CPU-s':>13}")
    for tokenizer in ("word", "char", "bpe"):
        model = AttentionSeq2Seq(
            source_tokenizer=tokenizer, target_tokenizer="word",
            subword_vocabulary_size=500, embedding_dim=64, hidden_size=128,
            max_epochs=epochs, batch_size=64, lr=3e-3, validation_fraction=0.1,
            n_iter_no_change=3, random_state=SEED,
        )
        start = time.process_time()
        model.fit(X_train, y_train)
        seconds = time.process_time() - start
        predicted = model.predict(X_test)
        tokens = np.mean([len(model.source_tokenizer_.tokenize(w)) for w in X_test])
        print(f"{tokenizer:<18}{len(model.source_vocab_):>11}{tokens:>13.2f}"
              f"{sequence_accuracy(y_test, predicted):>11.3f}"
              f"{token_error_rate(y_test, predicted, tokenizer='word'):>8.3f}"
              f"{seconds:>13.1f}")


if __name__ == "__main__":
    main()
