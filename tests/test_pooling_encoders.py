"""Sequence encoders of the pooling family: they read order, padding never
changes an output, and the time axis of aeon's layout is read right."""

import numpy as np
import pytest
import torch
from _tiny_modules import tiny_pooling_net
from sklearn.model_selection import GridSearchCV

from sk_attention import AttentionPooling, AttentionPoolingClassifier
from sk_attention._pooling._encoders import SEQUENCE_ENCODERS

ENCODERS = sorted(SEQUENCE_ENCODERS)
SMALL = dict(
    encoder_size=16,
    encoder_layers=2,
    encoder_heads=2,
    hidden_layer_sizes=(16,),
    attention_size=16,
    dropout=0.0,
    # At a constant 1e-2 the Transformer's last epochs bounce, and where it
    # ends moved with the thread count and the CPU (0.94 to 1.0 over seeds);
    # at 5e-3 every encoder ends at 0.98 or more for seeds 0 to 5, on one
    # thread and on two.
    lr=5e-3,
    # The training the comment above was measured with (numeric sequences
    # would otherwise get the time-series recipe: twice the batches).
    batch_size=32,
    lr_schedule="constant",
    keep_best=False,
    random_state=0,
)


def order_task(n_samples, seed):
    """Is the step marked A (feature 0) before the step marked B (feature 1)?

    Both classes hold the same bag of steps, so only order tells them apart.
    """
    rng = np.random.RandomState(seed)
    X, y = [], []
    for _ in range(n_samples):
        length = rng.randint(8, 13)
        x = rng.normal(scale=0.1, size=(length, 2)).astype(np.float32)
        a, b = rng.choice(length, 2, replace=False)
        x[a, 0] += 1.0
        x[b, 1] += 1.0
        X.append(x)
        y.append(int(a < b))
    return X, np.array(y)


@pytest.fixture(scope="module")
def order_data():
    return order_task(300, seed=0), order_task(300, seed=1)


@pytest.mark.parametrize("encoder", [*ENCODERS, None])
def test_encoders_learn_order_that_pooling_alone_cannot(encoder, order_data):
    (X, y), (X_test, y_test) = order_data
    clf = AttentionPoolingClassifier(encoder=encoder, max_epochs=40, **SMALL)
    accuracy = clf.fit(X, y).score(X_test, y_test)
    if encoder is None:
        assert accuracy < 0.6  # the two classes hold the same bags
    else:
        assert accuracy >= 0.95


@pytest.mark.parametrize("encoder", [*ENCODERS, None])
@pytest.mark.parametrize("grad", [True, False], ids=["training", "inference"])
def test_padding_never_changes_a_sample(encoder, grad):
    torch.manual_seed(0)
    net = tiny_pooling_net(
        3, 2, encoder=encoder, encoder_size=8, encoder_heads=2, encoder_layers=3,
        kernel_size=3, num_heads=2,
    ).eval()
    lengths = torch.tensor([4, 9, 1, 7])
    X = torch.randn(4, 9, 3)
    X[torch.arange(9)[None, :] >= lengths[:, None]] = 1e3  # loud padding
    with torch.set_grad_enabled(grad):
        pooled, weights = net.pool(X, lengths)
        for row, length in enumerate(lengths.tolist()):
            one = slice(row, row + 1)
            alone, alone_weights = net.pool(X[one, :length], lengths[one])
            torch.testing.assert_close(pooled[row], alone[0], rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(
                weights[row, :, :length], alone_weights[0], rtol=1e-4, atol=1e-6
            )
            assert torch.all(weights[row, :, length:] == 0)


@pytest.mark.parametrize("encoder", [*ENCODERS, None])
def test_an_encoder_is_a_torch_module_like_any_other(encoder):
    # Its declared estimator settings must not hide nn.Module.parameters():
    # users and optimizers reach the weights of a part of the network.
    net = tiny_pooling_net(3, 2, encoder=encoder, encoder_size=8, encoder_heads=2,
                           encoder_layers=2, kernel_size=3)
    weights = list(net.embedding.parameters())
    assert weights and all(w.requires_grad for w in weights)
    assert {id(w) for w in weights} <= {id(w) for w in net.parameters()}


@pytest.mark.parametrize("encoder", ENCODERS)
def test_a_sample_alone_equals_it_among_longer_ones(encoder, order_data):
    (X, y), _ = order_data
    pool = AttentionPooling(encoder=encoder, max_epochs=1, **SMALL).fit(X[:40], y[:40])
    longest = max(X[:40], key=len)
    batch = pool.transform([X[0], longest, longest])
    np.testing.assert_allclose(pool.transform([X[0]])[0], batch[0], rtol=1e-5,
                               atol=1e-6)
    weights = pool.attention_weights([X[0], longest])[0]
    assert weights.shape == (1, len(X[0]))


def test_channels_first_reads_aeons_layout():
    rng = np.random.RandomState(0)
    panel = rng.normal(size=(30, 3, 20))  # (n_samples, n_channels, n_timepoints)
    y = (panel[:, 0, :10].mean(axis=1) > 0).astype(int)
    settings = dict(encoder="conv", max_epochs=2, **SMALL)
    ours = AttentionPoolingClassifier(**settings).fit(panel.transpose(0, 2, 1), y)
    theirs = AttentionPoolingClassifier(input_layout="channels_first", **settings)
    theirs.fit(panel, y)
    assert theirs.n_features_in_ == 3
    np.testing.assert_allclose(
        theirs.predict_proba(panel), ours.predict_proba(panel.transpose(0, 2, 1)),
        rtol=1e-5,
    )
    assert theirs.attention_weights(panel[:1])[0].shape == (1, 20)
    ragged = [panel[0, :, :12], panel[1]]  # aeon's unequal-length collections
    assert [w.shape for w in theirs.attention_weights(ragged)] == [(1, 12), (1, 20)]


def test_grid_search_over_the_encoder(order_data):
    (X, y), _ = order_data
    search = GridSearchCV(
        AttentionPoolingClassifier(max_epochs=3, **SMALL),
        {"encoder": [None, "conv"]},
        cv=2,
    ).fit(X[:80], y[:80])
    assert search.best_params_["encoder"] in (None, "conv")
    assert len(search.cv_results_["mean_test_score"]) == 2


def test_the_attention_penalty_is_lins():
    torch.manual_seed(0)
    net = tiny_pooling_net(2, 2, num_heads=3, attention_penalty=0.5)
    X, lengths = torch.randn(4, 6, 2), torch.tensor([6, 5, 3, 1])
    _, penalty = net(X, lengths)
    _, A = net.pool(X, lengths)
    gram = A @ A.transpose(1, 2)
    expected = 0.5 * ((gram - torch.eye(3)) ** 2).sum((1, 2)).mean()
    torch.testing.assert_close(penalty, expected)
    assert net.attention_penalty and tiny_pooling_net(2, 2)(X, lengths)[1] == 0


def test_a_transformer_needs_heads_that_divide_its_size():
    X, y = order_task(10, seed=0)
    clf = AttentionPoolingClassifier(encoder="transformer", encoder_size=10,
                                     encoder_heads=4)
    with pytest.raises(ValueError, match="multiple of encoder_heads"):
        clf.fit(X, y)
    assert not hasattr(clf, "module_")


def test_fit_without_y_refuses_an_encoder():
    X, _ = order_task(10, seed=0)
    with pytest.raises(ValueError, match="needs y"):
        AttentionPooling(encoder="gru").fit(X)


def test_no_hidden_layer_pools_the_inputs_themselves():
    X, y = order_task(20, seed=0)
    pool = AttentionPooling(hidden_layer_sizes=(), max_epochs=1, random_state=0)
    assert pool.fit(X, y).transform(X).shape == (20, 2)
