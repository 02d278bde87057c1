"""
Multiple-instance learning: find the 9 in a bag of digits
==========================================================

A *bag* is a set of 8x8 digit images from scikit-learn's bundled digits; it
is positive if and only if it holds a 9. Only the bags are labelled, never
the digits. Averaging or max-pooling the pixels of a bag hides the one digit
that matters; attention pooling learns which digit to look at.

We compare, by ROC AUC on 1,000 test bags, mean over 3 seeds:

- mean pooling + LogisticRegression,
- max pooling + LogisticRegression,
- :class:`~sk_attention.AttentionPooling` + LogisticRegression (the pooled
  embedding as features),
- :class:`~sk_attention.AttentionPoolingClassifier` (the network predicting
  directly),

at 50, 100 and 200 training bags, and then draw the attention one model pays
to the digits of a test bag.
"""

# %%
# Bags of digits
# --------------
# Training and test bags are drawn from disjoint halves of the images, so a
# test bag holds digits no model has seen. Bag sizes are about 10 (normal,
# standard deviation 2, at least 2). Half the bags are positive: random
# digits with at least one 9 among them (a 9 replaces a random digit if none
# was drawn); the others hold no 9.
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402

from sk_attention import AttentionPooling, AttentionPoolingClassifier  # noqa: E402

# Networks this small gain almost nothing from a second thread, and threads
# that wait on each other cost a lot when the machine is busy.
torch.set_num_threads(1)
DIGITS = load_digits()


def make_bags(images, labels, n_bags, rng, key=9):
    """Bags of digit images, positive iff one of them is ``key``."""
    keys, others = np.flatnonzero(labels == key), np.flatnonzero(labels != key)
    bags, y, key_masks = [], [], []
    for positive in rng.rand(n_bags) < 0.5:
        size = max(2, int(round(rng.normal(10, 2))))
        if positive:  # any digits, at least one of them a 9
            picks = rng.randint(len(labels), size=size)
            if not (labels[picks] == key).any():
                picks[rng.randint(size)] = rng.choice(keys)
        else:
            picks = rng.choice(others, size=size)
        bags.append(images[picks])
        y.append(int(positive))
        key_masks.append(labels[picks] == key)
    return bags, np.array(y), key_masks


def train_and_test_bags(n_train, seed, n_test=1000):
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(DIGITS.target))
    train, test = order[: len(order) // 2], order[len(order) // 2 :]
    X_train, y_train, _ = make_bags(
        DIGITS.data[train], DIGITS.target[train], n_train, rng
    )
    X_test, y_test, keys = make_bags(
        DIGITS.data[test], DIGITS.target[test], n_test, rng
    )
    return X_train, y_train, X_test, y_test, keys


def pooled(statistic):
    """Pool each bag with a fixed statistic over its digits."""
    return FunctionTransformer(lambda X: np.stack([statistic(b, axis=0) for b in X]))


def models(seed):
    return {
        "mean pooling + LR": make_pipeline(
            pooled(np.mean), StandardScaler(), LogisticRegression(max_iter=2000)
        ),
        "max pooling + LR": make_pipeline(
            pooled(np.max), StandardScaler(), LogisticRegression(max_iter=2000)
        ),
        "AttentionPooling + LR": make_pipeline(
            AttentionPooling(random_state=seed), LogisticRegression(max_iter=2000)
        ),
        "AttentionPoolingClassifier": AttentionPoolingClassifier(random_state=seed),
    }


# %%
# ROC AUC as the number of training bags grows
# --------------------------------------------
# Every model uses its defaults; only ``random_state`` changes with the seed.
start = time.perf_counter()
sizes, seeds = [50, 100, 200], range(3)
auc = {}
for n_train in sizes:
    for seed in seeds:
        X_train, y_train, X_test, y_test, _ = train_and_test_bags(n_train, seed)
        for name, model in models(seed).items():
            model.fit(X_train, y_train)
            score = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
            auc.setdefault(name, {}).setdefault(n_train, []).append(score)

header = f"{f'ROC AUC, mean ± sd of {len(seeds)} seeds':<30}" + "".join(
    f"{f'{n} bags':>16}" for n in sizes
)
print(header)
print("-" * len(header))
for name, by_size in auc.items():
    cells = "".join(
        f"{np.mean(by_size[n]):>10.3f} ± {np.std(by_size[n]):.2f}" for n in sizes
    )
    print(f"{name:<30}{cells}")
print(
    f"({len(sizes) * len(seeds)} train/test draws in "
    f"{time.perf_counter() - start:.0f} s)"
)

# %%
# Where does the classifier look?
# -------------------------------
# Train on 100 bags and draw a positive test bag, each digit titled with the
# attention weight it gets. The weights of a bag sum to 1; the 9 takes most of
# them, although no digit was ever labelled.
X_train, y_train, X_test, y_test, keys = train_and_test_bags(100, 0)
clf = AttentionPoolingClassifier(random_state=0).fit(X_train, y_train)
weights = clf.attention_weights(X_test)

on_keys = np.concatenate([w[0, k] for w, k, t in zip(weights, keys, y_test) if t])
on_others = np.concatenate([w[0, ~k] for w, k, t in zip(weights, keys, y_test) if t])
print(
    f"mean weight on the 9s: {on_keys.mean():.3f}, on the other digits: "
    f"{on_others.mean():.3f} ({on_keys.mean() / on_others.mean():.0f}x)"
)

bag = int(np.flatnonzero(y_test)[0])
fig, axes = plt.subplots(1, len(X_test[bag]), figsize=(1.3 * len(X_test[bag]), 1.9))
for ax, image, weight, is_key in zip(axes, X_test[bag], weights[bag][0], keys[bag]):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{weight:.2f}", color="tab:red" if is_key else "black")
    ax.set_axis_off()
fig.suptitle(
    f"A positive test bag: attention per digit, the 9 in red "
    f"(P(positive) = {clf.predict_proba(X_test[bag : bag + 1])[0, 1]:.2f})"
)
fig.tight_layout()
fig.savefig("mil_digits_bags_attention.png", dpi=120)
