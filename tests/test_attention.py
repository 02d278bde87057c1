"""Every scoring rule against a direct loop-over-steps version of its formula."""

import math

import pytest
import torch

from sk_attention._attention import ATTENTION_SCORES, make_attention, masked_softmax

BATCH, N_QUERIES, N_KEYS, SIZE, ATTENTION_SIZE = 3, 2, 5, 6, 4


def _loop_score(name, module, x, h):
    """The score of one key vector ``x`` against one query ``h``."""
    if name == "additive":
        W, b = module.key_layer.weight, module.key_layer.bias
        U, v = module.query_layer.weight, module.energy_layer.weight[0]
        return v @ torch.tanh(W @ x + U @ h + b)
    if name == "dot":
        return x @ h
    if name == "general":
        return x @ (module.key_layer.weight.T @ h)
    if name == "scaled_dot":
        return x @ h / math.sqrt(SIZE)
    if name == "gated":
        weight, bias = module.key_layer.weight, module.key_layer.bias
        V, G = weight[:ATTENTION_SIZE], weight[ATTENTION_SIZE:]
        b_v, b_g = bias[:ATTENTION_SIZE], bias[ATTENTION_SIZE:]
        U, w = module.query_layer.weight, module.energy_layer.weight[0]
        return w @ (torch.tanh(V @ x + b_v + U @ h) * torch.sigmoid(G @ x + b_g))
    raise AssertionError(name)


@pytest.fixture
def inputs():
    generator = torch.Generator().manual_seed(0)
    query = torch.randn(BATCH, N_QUERIES, SIZE, generator=generator)
    keys = torch.randn(BATCH, N_KEYS, SIZE, generator=generator)
    lengths = torch.tensor([5, 3, 1])
    mask = torch.arange(N_KEYS)[None, :] < lengths[:, None]
    return query, keys, mask, lengths


@pytest.mark.parametrize("name", sorted(ATTENTION_SCORES))
def test_matches_loop_over_steps(name, inputs):
    torch.manual_seed(0)
    query, keys, mask, lengths = inputs
    module = make_attention(name, SIZE, SIZE, ATTENTION_SIZE)
    with torch.no_grad():
        context, weights = module(query, module.project_keys(keys), keys, mask)
        for b in range(BATCH):
            for q in range(N_QUERIES):
                n = int(lengths[b])
                scores = torch.stack(
                    [
                        _loop_score(name, module, keys[b, i], query[b, q])
                        for i in range(n)
                    ]
                )
                expected = torch.softmax(scores, dim=0)
                torch.testing.assert_close(weights[b, q, :n], expected)
                torch.testing.assert_close(
                    context[b, q], (expected[:, None] * keys[b, :n]).sum(0)
                )


@pytest.mark.parametrize("name", sorted(ATTENTION_SCORES))
def test_masked_steps_get_zero_weight_and_rows_sum_to_one(name, inputs):
    query, keys, mask, _ = inputs
    module = make_attention(name, SIZE, SIZE, ATTENTION_SIZE)
    with torch.no_grad():
        _, weights = module(query, module.project_keys(keys), keys, mask)
    assert torch.all(weights[~mask[:, None, :].expand_as(weights)] == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(BATCH, N_QUERIES))


def test_scaled_dot_fused_kernel_gives_the_same_context(inputs):
    query, keys, mask, _ = inputs
    module = make_attention("scaled_dot", SIZE, SIZE, ATTENTION_SIZE)
    explicit, _ = module(query, keys, keys, mask, need_weights=True)
    fused, weights = module(query, keys, keys, mask, need_weights=False)
    assert weights is None
    torch.testing.assert_close(fused, explicit)


def test_padding_values_do_not_change_the_result(inputs):
    query, keys, mask, _ = inputs
    module = make_attention("additive", SIZE, SIZE, ATTENTION_SIZE)
    noisy = keys.clone()
    noisy[~mask] = 1e3
    with torch.no_grad():
        clean, _ = module(query, module.project_keys(keys), keys, mask)
        dirty, _ = module(query, module.project_keys(noisy), noisy, mask)
    torch.testing.assert_close(clean, dirty)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="additive.*dot.*gated"):
        make_attention("luong", SIZE, SIZE, ATTENTION_SIZE)


@pytest.mark.parametrize("name", ["dot", "scaled_dot"])
def test_parameter_free_rules_need_equal_sizes(name):
    with pytest.raises(ValueError, match="query size"):
        make_attention(name, 4, 6, 4)


def test_masked_softmax_on_a_single_real_step():
    weights = masked_softmax(torch.randn(1, 1, 3), torch.tensor([[True, False, False]]))
    assert weights.tolist() == [[[1.0, 0.0, 0.0]]]
