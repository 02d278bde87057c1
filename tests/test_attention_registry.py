"""What the scoring rules declare, and that the models rely on it alone."""

import ast
import pathlib

import pytest
import torch
from _tiny_modules import tiny_pooling_net

from sk_attention._attention import (
    ATTENTION_SCORES,
    attention_class,
    make_attention,
    shifted_tanh,
)

PACKAGE = pathlib.Path(__file__).parents[1] / "sk_attention"
PARAMETER_FREE = {"dot", "scaled_dot"}


@pytest.mark.parametrize("name", sorted(ATTENTION_SCORES))
def test_each_rule_declares_the_query_size_it_is_built_with(name):
    size = attention_class(name).query_size(6, 4)
    assert size == (6 if name in PARAMETER_FREE else 4)
    module = make_attention(name, size, 6, 4)  # the declared size is accepted
    query, keys = torch.randn(2, 3, size), torch.randn(2, 5, 6)
    mask = torch.ones(2, 5, dtype=torch.bool)
    context, weights = module(query, module.project_keys(keys), keys, mask)
    assert context.shape == (2, 3, 6) and weights.shape == (2, 3, 5)


def test_unknown_names_are_refused_with_the_valid_ones():
    with pytest.raises(ValueError, match="additive.*scaled_dot"):
        attention_class("luong")


def test_shifted_tanh_is_the_shifted_tanh():
    a, b = torch.randn(3, 1, 4), torch.randn(1, 5, 4)
    torch.testing.assert_close(shifted_tanh(2 * a, 2 * b), (1 + torch.tanh(a + b)) / 2)


@pytest.mark.parametrize("name", sorted(ATTENTION_SCORES))
def test_a_fused_query_scores_as_the_module_does(name):
    torch.manual_seed(0)
    module = make_attention(name, 6, 6, 4)
    fused = module.fused_query()
    if fused is None:
        assert name != "additive"  # the decoder's fast path must stay fused
        return
    query, keys = torch.randn(3, 6), torch.randn(3, 5, 6)
    mask = torch.arange(5)[None, :] < torch.tensor([5, 3, 1])[:, None]
    projected_keys = module.project_keys(keys)
    _, expected = module(query[:, None], projected_keys, keys, mask)
    got = fused.weights(query @ fused.weight.T, projected_keys, mask)
    torch.testing.assert_close(got, expected[:, 0])


@pytest.mark.parametrize("name", sorted(ATTENTION_SCORES))
def test_pooling_takes_every_registry_name(name):
    torch.manual_seed(0)
    net = tiny_pooling_net(
        3, 2, hidden_layer_sizes=(5,), attention=name, num_heads=2
    ).eval()
    pooled, weights = net.pool(torch.randn(4, 6, 3), torch.tensor([6, 4, 2, 1]))
    assert pooled.shape == (4, 10) and weights.shape == (4, 2, 6)
    assert torch.all(weights[3, :, 1:] == 0)


def test_pooling_state_dict_keys_are_those_saved_files_hold():
    net = tiny_pooling_net(
        3, 2, hidden_layer_sizes=(5,), attention="gated", num_heads=2
    )
    assert sorted(net.state_dict()) == [
        "attention.energy_layer.weight", "attention.key_layer.bias",
        "attention.key_layer.weight", "attention.query_layer.weight",
        "embedding.0.bias", "embedding.0.weight", "head.1.bias", "head.1.weight",
        "query", "standardize.mean", "standardize.scale",
    ]


@pytest.mark.parametrize(
    "path", ["_seq2seq/_model.py", "_seq2seq/_transformer.py", "_pooling/_model.py"]
)
def test_models_never_test_a_rule_by_type_or_name(path):
    tree = ast.parse((PACKAGE / path).read_text())
    rule_names = set(ATTENTION_SCORES)
    rule_classes = {cls.__name__ for cls in ATTENTION_SCORES.values()}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                assert not (isinstance(operand, ast.Constant)
                            and operand.value in rule_names), ast.unparse(node)
                assert not (isinstance(operand, ast.Call)
                            and ast.unparse(operand.func) == "type"), ast.unparse(node)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "isinstance":
            assert not set(map(ast.unparse, node.args)) & rule_classes
