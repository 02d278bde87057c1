"""
Greedy search or beam search?
=============================

:class:`~sk_attention.AttentionSeq2Seq` writes its output one token at a
time. Greedy search (``beam_size=1``, the default) takes the most likely
token at each step; beam search (``beam_size=k``) keeps the ``k`` most
likely partial outputs and returns the best finished one, its
log-probability divided by ``length ** length_penalty``.

Beam search helps when the model is unsure, so we compare both on a model
that is deliberately trained briefly, on the spelling-to-sound task of
:func:`~sk_attention.datasets.make_transliteration`. ``beam_size`` is read at
prediction time, so one fitted model is decoded every way with
``set_params``.
"""

# %%
# Train one small model for a few epochs.
import time

import matplotlib.pyplot as plt

from sk_attention import AttentionSeq2Seq
from sk_attention.datasets import make_transliteration
from sk_attention.metrics import token_error_rate

X, y = make_transliteration(2500, random_state=1)
X_train, y_train, X_test, y_test = X[:2000], y[:2000], X[2000:], y[2000:]
model = AttentionSeq2Seq(
    target_tokenizer="word",
    embedding_dim=32,
    hidden_size=64,
    max_epochs=5,
    lr=0.005,
    random_state=0,
).fit(X_train, y_train)

# %%
# Decode the 500 test words greedily and with beams of 2, 4 and 8.
beam_sizes = [1, 2, 4, 8]
exact, errors, seconds = [], [], []
for beam_size in beam_sizes:
    model.set_params(beam_size=beam_size)
    start = time.perf_counter()
    y_pred = model.predict(X_test)
    seconds.append(time.perf_counter() - start)
    exact.append(model.score(X_test, y_test))  # decodes again, same result
    errors.append(token_error_rate(y_test, y_pred))
    print(
        f"beam_size={beam_size}: exact match {exact[-1]:.3f}, phoneme error "
        f"rate {errors[-1]:.3f}, {seconds[-1]:.2f} s to decode {len(X_test)}"
    )

# %%
# Accuracy against decoding time. Whether beams pay off depends on the model:
# the less sure it is, the more there is to gain; a well-trained model on a
# task with one right answer usually gains little, for several times the
# decoding cost.
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
left.plot(beam_sizes, exact, "o-")
left.set_xlabel("beam_size")
left.set_ylabel("exact match")
left.set_xticks(beam_sizes)
right.plot(beam_sizes, seconds, "o-", color="tab:orange")
right.set_xlabel("beam_size")
right.set_ylabel("seconds to decode")
right.set_xticks(beam_sizes)
fig.tight_layout()
