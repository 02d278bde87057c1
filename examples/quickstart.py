"""
Quick start: normalise dates with attention
===========================================

Train an :class:`~sk_attention.AttentionSeq2Seq` on human-written dates
("3rd of march 2021", "03/03/21", "Wednesday, March 3, 2021") mapped to ISO
dates ("2021-03-03"), check it on dates it has never seen, and draw where it
looks while writing one answer.
"""

# %%
# Make the data: 12,000 dates in 19 formats, 10,000 to train on.
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sk_attention import AttentionSeq2Seq, plot_attention  # noqa: E402
from sk_attention.datasets import make_dates  # noqa: E402

X, y = make_dates(12_000, random_state=0)
X_train, y_train, X_test, y_test = X[:10_000], y[:10_000], X[10_000:], y[10_000:]

# %%
# Train. skorch prints one line per epoch; early stopping watches the error
# of the decoded outputs on a 10% validation split and keeps the best epoch.
start = time.perf_counter()
model = AttentionSeq2Seq(max_epochs=6, lr=3e-3, random_state=0, verbose=1)
model.fit(X_train, y_train)
print(f"trained in {time.perf_counter() - start:.0f} s")

# %%
# Predict dates the model has not seen.
examples = ["3rd of march 2021", "03/03/21", "Wednesday, March 3, 2021",
            "1 JAN 2000", "december 24th, 1999"]
for text, prediction in zip(examples, model.predict(examples)):
    print(f"{text!r:>34} -> {prediction}")
print(f"held-out exact match: {model.score(X_test, y_test):.3f} "
      f"on {len(X_test)} dates")

# %%
# Where does it look? Each row is an output character, each column a source
# character: the year digits attend to the year, the month to the month name.
fig, ax = plt.subplots(figsize=(9, 4))
plot_attention(model, "Wednesday, March 3, 2021", ax=ax)
ax.set_title("Attention while writing 2021-03-03")
fig.tight_layout()
fig.savefig("quickstart_attention.png", dpi=120)
print("attention heatmap written to quickstart_attention.png")
