"""
Attention pooling in a scikit-learn Pipeline
============================================

Each sample here is a *set* of 2-D points of varying size (4 to 15 points).
A sample is positive when one of its points falls in a small disc around
``(1.5, 1.5)``; the other points are noise. Only samples are labelled.

Mean pooling blurs the one point that matters into the noise.
:class:`~sk_attention.AttentionPooling` learns to weigh it up, and as a
transformer it is a Pipeline step like any other: its output feeds a
:class:`~sklearn.linear_model.LogisticRegression`, and
:class:`~sklearn.model_selection.GridSearchCV` tunes both together.
"""

# %%
# Sets of points, ragged: a list of arrays of shape ``(n_points, 2)``.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sk_attention import AttentionPooling, plot_attention

CENTRE = np.array([1.5, 1.5])


def make_sets(n_samples, rng):
    X, y = [], []
    for _ in range(n_samples):
        points = rng.uniform(-3, 3, size=(rng.randint(4, 16), 2))
        points = points[np.linalg.norm(points - CENTRE, axis=1) > 0.8]
        positive = rng.rand() < 0.5
        if positive:  # one point inside the disc
            angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.5)
            key = CENTRE + radius * np.array([np.cos(angle), np.sin(angle)])
            points = np.insert(points, rng.randint(len(points) + 1), key, axis=0)
        X.append(points)
        y.append(int(positive))
    return X, np.array(y)


rng = np.random.RandomState(0)
X_train, y_train = make_sets(400, rng)
X_test, y_test = make_sets(400, rng)

# %%
# A baseline: the mean of each set's points, then logistic regression.
mean_pooling = make_pipeline(
    FunctionTransformer(lambda X: np.stack([x.mean(axis=0) for x in X])),
    LogisticRegression(),
)
print(
    f"mean pooling + LR:      accuracy "
    f"{mean_pooling.fit(X_train, y_train).score(X_test, y_test):.3f}"
)

# %%
# Attention pooling + logistic regression, with the scoring rule chosen by
# 3-fold cross-validation. Any step's parameter can join the grid, e.g.
# ``"logisticregression__C": [0.1, 1.0]``.
pipe = make_pipeline(
    AttentionPooling(hidden_layer_sizes=(16,), max_epochs=30, lr=0.01, random_state=0),
    LogisticRegression(),
)
search = GridSearchCV(
    pipe,
    {"attentionpooling__attention": ["gated", "scaled_dot"]},
    cv=3,
).fit(X_train, y_train)
print(
    f"attention pooling + LR: accuracy {search.score(X_test, y_test):.3f} "
    f"with {search.best_params_}"
)

# %%
# Where does it look? The weights of a positive test set: the point in the
# disc (red) should take most of them. The dashed line is the weight mean
# pooling gives every point.
pool = search.best_estimator_.named_steps["attentionpooling"]
index = int(np.flatnonzero(y_test)[0])
points = X_test[index]
inside = np.linalg.norm(points - CENTRE, axis=1) < 0.8
weights = pool.attention_weights([points])[0][0]
print(
    f"weight on the point in the disc: {weights[inside].sum():.2f} "
    f"(uniform would be {inside.sum() / len(points):.2f})"
)

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
colours = np.where(inside, "tab:red", "tab:blue")
left.scatter(*points.T, s=20 + 600 * weights, c=colours)
left.add_patch(plt.Circle(CENTRE, 0.8, fill=False, linestyle=":"))
left.set_xlim(-3.5, 3.5)
left.set_ylim(-3.5, 3.5)
left.set_aspect("equal")
left.set_title("a positive set (marker area grows with weight)")
plot_attention(pool, points, ax=right)
right.patches[int(np.flatnonzero(inside)[0])].set_color("tab:red")
right.set_title("attention weight per point")
fig.tight_layout()
