"""Both architectures satisfy the decoding protocols, and the search bans
the special tokens itself, depending on no model and on no torch."""

import ast
import pathlib

import pytest
import torch
from _tiny_modules import tiny_rnn, tiny_transformer

from sk_attention._search import (
    DecoderMemory,
    StepModel,
    beam_search,
    greedy_search,
)
from sk_attention._seq2seq._inference import (
    DecodableModel,
    EncodedSources,
    StepDecoder,
)
from sk_attention._text import BOS, PAD

PACKAGE = pathlib.Path(__file__).parents[1] / "sk_attention"
SEQ2SEQ = PACKAGE / "_seq2seq"
MODELS = {"_model", "_transformer", "_estimator"}


def make(architecture):
    torch.manual_seed(0)
    if architecture == "rnn":
        module = tiny_rnn(9, 11)
    else:
        module = tiny_transformer(9, 11)
    return module.eval()


def batch():
    source = torch.randint(4, 9, (3, 5), generator=torch.Generator().manual_seed(1))
    lengths = torch.tensor([5, 3, 1])
    source[1, 3:] = PAD
    source[2, 1:] = PAD
    return source, lengths


def tensors(state):
    if isinstance(state, torch.Tensor):
        return [state]
    assert isinstance(state, tuple)
    return [tensor for part in state for tensor in tensors(part)]


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
def test_models_satisfy_the_decoding_protocols(architecture):
    module = make(architecture)
    assert isinstance(module, DecodableModel)
    assert isinstance(module, StepModel)
    assert isinstance(module.decoder, StepDecoder)
    with torch.inference_mode():
        memory = module.encode(*batch())
        assert isinstance(memory, EncodedSources)
        assert isinstance(memory.select(torch.tensor([2, 0])), DecoderMemory)
        state = module.decoder.start(memory)
        assert all(part.size(0) == 3 for part in tensors(state))  # rows first
        logits, state = module.next_token_logits(
            torch.full((3,), BOS), state, memory
        )
        assert logits.shape == (3, 11)
        assert all(part.size(0) == 3 for part in tensors(state))


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_the_search_never_emits_padding_or_start(architecture, search):
    module = make(architecture)
    # An untrained model whose favourite tokens are padding and start.
    with torch.no_grad():
        bias = module.decoder.output_layer.bias
        bias[PAD] = bias[BOS] = 1e3
    with torch.inference_mode():
        memory = module.encode(*batch())
        state = module.decoder.start(memory)
        if search == "greedy":
            ids = greedy_search(module, memory, state, 6)
        else:
            ids = beam_search(module, memory, state, 6, beam_size=3)
    assert not torch.any(ids == BOS)
    assert not torch.any(ids[:, 0] == PAD)


def imported_names(path):
    """Every module and name a source file imports, at any depth."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    return {name.rpartition(".")[2] for name in imported}


def test_the_search_module_imports_no_model_and_no_torch():
    imported = imported_names(PACKAGE / "_search.py")
    assert not imported & MODELS
    assert "torch" not in imported | imported_names(PACKAGE / "_array_ops.py")


@pytest.mark.parametrize("path", ["_model.py", "_transformer.py"])
def test_the_models_import_nothing_from_the_search(path):
    tree = ast.parse((SEQ2SEQ / path).read_text())
    modules = {node.module for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom)}
    assert "_search" not in modules
