"""The fused decoders compute exactly what the textbook decoder computes.

The reference below runs the decoder the plain way, with the same
parameters: ``nn.GRUCell`` / ``nn.LSTMCell`` on ``[embedding; feed]`` (on
the embedding alone without input feeding), the attention module on the
raw encoder outputs, and ``tanh(W_c [h; c])``, one step at a time.
"""

import dataclasses

import pytest
import torch
from _tiny_modules import tiny_rnn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sk_attention._search import beam_search, greedy_search
from sk_attention._seq2seq._encoder import Encoder
from sk_attention._seq2seq._model import _FUSED_RECURRENCE
from sk_attention._text import EOS, PAD


def reference_forward(module, source, lengths, target_input):
    """Teacher-forced logits and weights, computed step by step with the cells."""
    decoder = module.decoder
    outputs, final = module.encoder(source, lengths)
    mask = torch.arange(source.size(1))[None, :] < lengths[:, None]
    keys = decoder.attention.project_keys(outputs)
    hidden = torch.tanh(decoder.bridge(final))
    if decoder.cell == "lstm":
        layers = [(h, torch.zeros_like(h)) for h in hidden]
    else:
        layers = list(hidden)
    feed = torch.zeros_like(hidden[0])
    logits, weights = [], []
    for token in target_input.t():
        inputs = decoder.embedding(token)
        if decoder.input_feeding:
            inputs = torch.cat([inputs, feed], dim=-1)
        for index, cell in enumerate(decoder.cells):
            layers[index] = cell(inputs, layers[index])
            inputs = layers[index][0] if decoder.cell == "lstm" else layers[index]
        context, step_weights = decoder.attention(
            inputs[:, None], keys, outputs, mask, True
        )
        feed = torch.tanh(decoder.combine(torch.cat([inputs, context[:, 0]], -1)))
        logits.append(decoder.output_layer(feed))
        weights.append(step_weights[:, 0])
    return torch.stack(logits, 1), torch.stack(weights, 1)


def make_module(cell, attention, num_layers, input_feeding=True):
    torch.manual_seed(0)
    module = tiny_rnn(
        9, 11, num_layers=num_layers, cell=cell, attention=attention,
        attention_size=5, input_feeding=input_feeding,
    )
    return module.eval()


def make_batch():
    generator = torch.Generator().manual_seed(1)
    source = torch.randint(4, 9, (3, 7), generator=generator)
    lengths = torch.tensor([7, 4, 2])
    source[1, 4:] = 0
    source[2, 2:] = 0
    target_input = torch.randint(1, 11, (3, 5), generator=generator)
    return source, lengths, target_input


def packed_encoder_reference(encoder, source, lengths):
    """The encoder's RNN run the textbook way, over packed sequences."""
    embedded = encoder.embedding(source)
    packed = pack_padded_sequence(embedded, lengths, batch_first=True,
                                  enforce_sorted=False)
    outputs, final = encoder.rnn(packed)
    outputs, _ = pad_packed_sequence(outputs, batch_first=True,
                                     total_length=source.size(1))
    final = final[0] if isinstance(encoder.rnn, torch.nn.LSTM) else final
    layers = encoder.rnn.num_layers
    directions = 2 if encoder.rnn.bidirectional else 1
    final = final.view(layers, directions, len(lengths), -1).transpose(1, 2)
    return outputs, final.reshape(layers, len(lengths), -1)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_training_encoder_matches_the_packed_rnn(cell, num_layers, bidirectional):
    torch.manual_seed(0)
    encoder = Encoder(9, 6, 8, num_layers, bidirectional, 0.0, cell).eval()
    source, lengths, _ = make_batch()
    outputs, final = encoder(source, lengths)  # gradients on: by direction
    expected_outputs, expected_final = packed_encoder_reference(
        encoder, source, lengths
    )
    torch.testing.assert_close(outputs, expected_outputs, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(final, expected_final, rtol=1e-5, atol=1e-6)
    assert torch.all(outputs[1, 4:] == 0) and torch.all(outputs[2, 2:] == 0)
    loss = outputs.square().sum() + final.square().sum()
    expected_loss = expected_outputs.square().sum() + expected_final.square().sum()
    parameters = list(encoder.parameters())
    got = torch.autograd.grad(loss, parameters)
    want = torch.autograd.grad(expected_loss, parameters)
    for name, got_grad, want_grad in zip(
        [name for name, _ in encoder.named_parameters()], got, want
    ):
        torch.testing.assert_close(got_grad, want_grad, rtol=1e-4, atol=1e-6,
                                   msg=name)
    with torch.no_grad():  # the packed path
        packed_outputs, packed_final = encoder(source, lengths)
    torch.testing.assert_close(packed_outputs, outputs, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(packed_final, final, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("input_feeding", [True, False])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("attention", ["additive", "dot", "general", "gated"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_fused_forward_matches_the_cells(cell, attention, num_layers, input_feeding):
    module = make_module(cell, attention, num_layers, input_feeding)
    source, lengths, target_input = make_batch()
    logits, weights = module(source, lengths, target_input, need_weights=True)
    expected_logits, expected_weights = reference_forward(
        module, source, lengths, target_input
    )
    torch.testing.assert_close(logits, expected_logits, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(weights, expected_weights, rtol=1e-5, atol=1e-6)
    assert torch.all(weights[1, :, 4:] == 0) and torch.all(weights[2, :, 2:] == 0)


@pytest.mark.parametrize("input_feeding", [True, False])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_fused_gradients_match_the_cells(cell, input_feeding):
    module = make_module(cell, "additive", 2, input_feeding)
    source, lengths, target_input = make_batch()
    fused = module(source, lengths, target_input).square().sum()
    fused_grads = torch.autograd.grad(fused, list(module.parameters()))
    plain = reference_forward(module, source, lengths, target_input)[0]
    plain_grads = torch.autograd.grad(
        plain.square().sum(), list(module.parameters()), allow_unused=True
    )
    for name, got, want in zip(
        [name for name, _ in module.named_parameters()], fused_grads, plain_grads
    ):
        want = torch.zeros_like(got) if want is None else want
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("input_feeding", [True, False])
@pytest.mark.parametrize("attention", ["additive", "scaled_dot"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_stepwise_logits_match_teacher_forcing(cell, attention, input_feeding):
    module = make_module(cell, attention, 2, input_feeding)
    source, lengths, target_input = make_batch()
    logits = module(source, lengths, target_input)
    memory = module.encode(source, lengths)
    state = module.decoder.start(memory)
    for position, tokens in enumerate(target_input.t()):
        step_logits, state = module.next_token_logits(tokens, state, memory)
        torch.testing.assert_close(
            step_logits, logits[:, position], rtol=1e-5, atol=1e-5
        )



def greedy(module, memory, max_length):
    """Greedy search from the decoder's start."""
    return greedy_search(module, memory, module.decoder.start(memory), max_length)


def beam(module, memory, max_length, beam_size):
    """Beam search from the decoder's start."""
    state = module.decoder.start(memory)
    return beam_search(module, memory, state, max_length, beam_size)


def test_beam_of_width_one_is_greedy_on_the_fused_decoder():
    module = make_module("gru", "additive", 1)
    source, lengths, _ = make_batch()
    with torch.inference_mode():
        memory = module.encode(source, lengths)
        greedy_ids = greedy(module, memory, 6)
        beam_ids = beam(module, memory, 6, beam_size=1)
    assert torch.equal(greedy_ids, beam_ids[:, : greedy_ids.size(1)])


def test_selecting_short_rows_drops_their_padding_but_not_their_output():
    module = make_module("lstm", "additive", 1)
    source, lengths, _ = make_batch()
    with torch.inference_mode():
        memory = module.encode(source, lengths)
        short = memory.select(torch.tensor([2, 1]))
        assert short.mask.shape == (2, 4) and short.keys.shape[1] == 4
        alone = module.encode(source[[2, 1], :4], lengths[[2, 1]])
        assert torch.equal(greedy(module, short, 6),
                           greedy(module, alone, 6))
        assert torch.equal(beam(module, memory, 6, 3)[[2, 1]],
                           beam(module, alone, 6, 3))


def test_decoding_looks_up_token_gates_with_the_same_result():
    module = make_module("gru", "additive", 1)
    generator = torch.Generator().manual_seed(2)
    source = torch.randint(4, 9, (16, 7), generator=generator)  # 16 rows > 11 tokens
    lengths = torch.randint(1, 8, (16,), generator=generator)
    with torch.inference_mode():
        memory = module.encode(source, lengths)
        assert memory.token_gates is not None
        matmul = dataclasses.replace(memory, token_gates=None)
        tokens = torch.arange(16) % 11
        state = module.decoder.start(memory)
        looked_up, _ = module.next_token_logits(tokens, state, memory)
        computed, _ = module.next_token_logits(tokens, state, matmul)
        torch.testing.assert_close(looked_up, computed, rtol=1e-5, atol=1e-6)
        assert torch.equal(greedy(module, memory, 6),
                           greedy(module, matmul, 6))
        assert torch.equal(beam(module, memory, 6, 3),
                           beam(module, matmul, 6, 3))
    assert module.encode(source, lengths).token_gates is None  # with gradients


def test_rows_leaving_the_beam_search_early_keep_their_answers():
    # An untrained model ends rows at scattered steps, so rows leave the
    # search at different steps; each must get the answer it gets alone.
    module = make_module("gru", "additive", 1)
    generator = torch.Generator().manual_seed(3)
    source = torch.randint(4, 9, (12, 7), generator=generator)
    lengths = torch.randint(1, 8, (12,), generator=generator)
    with torch.inference_mode():
        memory = module.encode(source, lengths)
        together = beam(module, memory, 9, beam_size=3)
        for row in range(12):
            alone = beam(module, memory.select(torch.tensor([row])), 9, 3)
            width = alone.size(1)
            assert torch.equal(together[row, :width], alone[0])
            assert torch.all(together[row, width:] == PAD)
    ends = [(row == EOS).nonzero()[:1].tolist() for row in together]
    assert len({tuple(map(tuple, end)) for end in ends}) > 2  # scattered ends


def test_parallel_attention_in_chunks_of_steps_is_the_same(monkeypatch):
    from sk_attention._seq2seq import _model

    module = make_module("lstm", "additive", 1, input_feeding=False)
    source, lengths, target_input = make_batch()
    whole = module(source, lengths, target_input, need_weights=True)
    # One target step per chunk: 3 rows x 7 source steps x 5 units each.
    monkeypatch.setattr(_model, "_SCORE_CHUNK_ELEMENTS", 3 * 7 * 5)
    chunked = module(source, lengths, target_input, need_weights=True)
    for got, want in zip(chunked, whole):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)


def test_without_input_feeding_the_training_pass_has_no_loop_over_steps():
    # The recurrence and attention of all steps run as a fixed number of
    # kernels, whatever the target length; input feeding loops over them.
    source, lengths, _ = make_batch()

    def operator_calls(module, target_length):
        target_input = torch.randint(1, 11, (3, target_length))
        with torch.profiler.profile() as profile:
            module(source, lengths, target_input).sum().backward()
        return sum(event.count for event in profile.key_averages())

    for input_feeding in (False, True):
        module = make_module("lstm", "additive", 2, input_feeding).train()
        operator_calls(module, 4)  # the first call does one-off work
        short, long = operator_calls(module, 8), operator_calls(module, 32)
        assert (short == long) != input_feeding, (input_feeding, short, long)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_fused_kernels_are_told_whether_the_model_trains(cell, monkeypatch):
    # cuDNN keeps what its backward pass needs only when told it is training;
    # told otherwise, training on a GPU fails. The CPU kernels ignore the
    # flag, so the flag itself is checked, for the encoder and the decoder.
    flags = []
    fused = getattr(torch, cell)

    def recording(*args):
        flags.append(args[6])  # (input, hx, params, biases, layers, p, train, ...)
        return fused(*args)

    monkeypatch.setattr(torch, cell, recording)
    monkeypatch.setitem(_FUSED_RECURRENCE, cell, recording)
    module = make_module(cell, "dot", 2, input_feeding=False)
    source, lengths, target_input = make_batch()
    for training in (True, False):
        flags.clear()
        module.train(training)(source, lengths, target_input)
        # Each encoder layer and direction, then all the decoder's layers.
        assert len(flags) == 2 * 2 + 1 and set(flags) == {training}
