"""
n-best lists, scores and a confidence that means something
==========================================================

:meth:`~sk_attention.AttentionSeq2Seq.predict_nbest` returns, for every
input, the best outputs of one beam search, best first, with the total
log-probability of each and the length-normalised score the beam ranks
them by. :meth:`~sk_attention.AttentionSeq2Seq.score_samples` gives the
log-probability of any output you name.

Is the probability of the top output a confidence one can act on? We check
it on held-out words of the spelling-to-sound task of
:func:`~sk_attention.datasets.make_transliteration`, with a model trained
briefly so that it is often wrong: a reliability diagram (how often the top
output is right, per bin of its probability), and how well the margin
between the first and the second output separates right from wrong.
"""

# %%
# Train a small model for a few epochs, then ask for the 5 best outputs of a
# beam of 5 for each of 1,000 test words.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score

from sk_attention import AttentionSeq2Seq
from sk_attention.datasets import make_transliteration

X, y = make_transliteration(3000, random_state=1)
X_train, y_train, X_test, y_test = X[:2000], y[:2000], X[2000:], y[2000:]
model = AttentionSeq2Seq(
    target_tokenizer="word",
    embedding_dim=32,
    hidden_size=64,
    max_epochs=6,
    lr=0.005,
    beam_size=5,
    random_state=0,
).fit(X_train, y_train)

outputs, log_probs, scores = model.predict_nbest(X_test, n_best=5)
right = outputs[:, 0] == np.array(y_test, dtype=object)
print(f"top output right for {right.mean():.3f} of the test words")
for word, candidates, total in zip(X_test[:3], outputs[:3], log_probs[:3]):
    print(word, "->", [f"{c} ({p:.2f})" for c, p in zip(candidates[:3], total[:3])])

# %%
# The log-probability of a given output is one teacher-forced pass, and the
# n-best list reports the same number for its outputs.
print("score_samples of the top outputs equals their log_probs:",
      np.allclose(model.score_samples(X_test, outputs[:, 0]), log_probs[:, 0],
                  atol=1e-4))
print("mean log-probability of the right answers:",
      f"{model.score_samples(X_test, y_test).mean():.3f}")

# %%
# Reliability diagram. The confidence of a prediction is the probability
# the model gives its top output, ``exp(log_probs[:, 0])``. Within each bin
# of confidence, a calibrated model is right as often as it says.
confidence = np.exp(log_probs[:, 0])
edges = np.linspace(0, 1, 11)
bins = np.clip(np.digitize(confidence, edges) - 1, 0, 9)
centres, accuracy, counts = [], [], []
for b in range(10):
    if np.any(bins == b):
        centres.append(confidence[bins == b].mean())
        accuracy.append(right[bins == b].mean())
        counts.append(int(np.sum(bins == b)))
calibration_error = sum(
    n * abs(a - c) for n, a, c in zip(counts, accuracy, centres)
) / len(right)
print(f"expected calibration error: {calibration_error:.3f}")

# %%
# The margin of the top output over the second, in length-normalised score,
# separates right from wrong predictions: the area under the ROC curve of
# the margin as a detector of right answers. (A row whose beam found one
# output only has ``-inf`` second scores, so an infinite margin.)
margin = scores[:, 0] - scores[:, 1]
print(f"ROC AUC of the margin for right answers: {roc_auc_score(right, margin):.3f}")
print(f"ROC AUC of the top probability:          "
      f"{roc_auc_score(right, confidence):.3f}")

fig, (left, mid) = plt.subplots(1, 2, figsize=(9, 3.5))
left.plot([0, 1], [0, 1], "--", color="grey", label="calibrated")
left.plot(centres, accuracy, "o-", label="model")
left.set(xlabel="probability of the top output", ylabel="fraction right",
         title="Reliability diagram")
left.legend()
bins_margin = np.linspace(0, np.percentile(margin[np.isfinite(margin)], 99), 25)
mid.hist(margin[right], bins=bins_margin, alpha=0.6, label="right")
mid.hist(margin[~right], bins=bins_margin, alpha=0.6, label="wrong")
mid.set(xlabel="score margin, first - second", ylabel="test words",
        title="Margin of the best output")
mid.legend()
fig.tight_layout()
plt.show()

# %%
# Acting on it: keep only the predictions whose margin clears a threshold,
# and trade coverage for accuracy.
for threshold in np.quantile(margin, [0.0, 0.25, 0.5, 0.75]):
    kept = margin >= threshold
    print(f"margin >= {threshold:.3f}: {kept.mean():.0%} of words kept, "
          f"{right[kept].mean():.3f} of them right")
