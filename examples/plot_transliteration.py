"""
Spelling to sound: a grapheme-to-phoneme-like task
===================================================

Learn to pronounce made-up English-like words: ``"cape"`` is ``"K EY P"``,
``"cap"`` is ``"K AE P"``, ``"cell"`` is ``"S EH L"``. The words and their
phonemes come from :func:`~sk_attention.datasets.make_transliteration`,
whose rules look at neighbouring letters (a final ``e`` lengthens the vowel
before it, ``c`` is soft before ``e``), so the model must learn context
rather than a letter-by-letter map.

The source is read as characters, the target as space-separated phonemes
(``target_tokenizer="word"``), and the model is scored by its phoneme error
rate (:func:`~sk_attention.metrics.token_error_rate`) as well as by exact
match.
"""

# %%
# Data: 2,500 words to train on, 500 unseen words to test on.
import matplotlib.pyplot as plt

from sk_attention import AttentionSeq2Seq, plot_attention
from sk_attention.datasets import make_transliteration
from sk_attention.metrics import token_error_rate

X, y = make_transliteration(3000, random_state=0)
X_train, y_train, X_test, y_test = X[:2500], y[:2500], X[2500:], y[2500:]
for word, phonemes in zip(X[:4], y[:4]):
    print(f"{word:>12} -> {phonemes}")

# %%
# Train a small model: characters in, phonemes out.
model = AttentionSeq2Seq(
    source_tokenizer="char",
    target_tokenizer="word",
    embedding_dim=32,
    hidden_size=64,
    max_epochs=10,
    lr=0.005,
    random_state=0,
)
model.fit(X_train, y_train)
print(
    f"{len(model.history_)} epochs, {len(model.source_vocab_)} letters and "
    f"{len(model.target_vocab_)} phonemes in the vocabularies "
    "(4 special tokens each)"
)

# %%
# Score on unseen words: the phoneme error rate counts the edits needed to
# turn each prediction into the reference, per reference phoneme.
y_pred = model.predict(X_test)
print(f"phoneme error rate: {token_error_rate(y_test, y_pred):.3f}")
print(f"exact match:        {model.score(X_test, y_test):.3f}")
for word, truth, guess in list(zip(X_test, y_test, y_pred))[:6]:
    mark = "ok" if truth == guess else f"expected {truth}"
    print(f"{word:>12} -> {guess:<20} {mark}")

# %%
# Attention follows the letters: F reads "p" (and a little of "h": two
# letters, one sound), EY reads "a", S reads "s". The final "e" is silent and gets no
# weight of its own, yet it is what makes the "a" long: the bidirectional
# encoder has already carried it into its reading of "a". The weights show
# where the decoder reads, not everything the model has used.
fig, ax = plt.subplots(figsize=(5, 4))
plot_attention(model, "phase", ax=ax)
ax.set_title("Attention while pronouncing 'phase'")
fig.tight_layout()
