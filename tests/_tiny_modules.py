"""Small networks built directly, for the tests of modules and searches.

The modules have no defaults of their own (the estimator passes every
setting); these give a test small values for what it does not set itself.
"""

from sk_attention._pooling._model import AttentionPoolingNet
from sk_attention._seq2seq._model import Seq2SeqModule
from sk_attention._seq2seq._transformer import TransformerSeq2SeqModule

RNN_SETTINGS = dict(
    embedding_dim=6,
    hidden_size=8,
    num_layers=1,
    bidirectional=True,
    dropout=0.0,
    cell="lstm",
    attention="additive",
    attention_size=8,
    attention_dropout=0.0,
    input_feeding=False,
    training_precision="float32",
)

TRANSFORMER_SETTINGS = dict(
    model_size=8,
    num_heads=2,
    num_layers=1,
    feedforward_size=16,
    dropout=0.0,
    attention_dropout=0.0,
    positional_encoding="sinusoidal",
    max_positions=64,
)

POOLING_SETTINGS = dict(
    attention="gated",
    num_heads=1,
    attention_size=8,
    dropout=0.0,
    hidden_layer_sizes=(8,),
    scaling="global",
)


def tiny_rnn(source_vocab_size, target_vocab_size, **settings):
    """A :class:`Seq2SeqModule`; ``settings`` replace :data:`RNN_SETTINGS`."""
    return Seq2SeqModule(
        source_vocab_size, target_vocab_size, **{**RNN_SETTINGS, **settings}
    )


def tiny_transformer(source_vocab_size, target_vocab_size, **settings):
    """A :class:`TransformerSeq2SeqModule`; ``settings`` replace
    :data:`TRANSFORMER_SETTINGS`."""
    return TransformerSeq2SeqModule(
        source_vocab_size, target_vocab_size, **{**TRANSFORMER_SETTINGS, **settings}
    )


def tiny_pooling_net(n_features, n_outputs, **settings):
    """An :class:`AttentionPoolingNet` for numeric input; ``settings`` replace
    :data:`POOLING_SETTINGS`."""
    return AttentionPoolingNet(
        n_features, n_outputs, **{**POOLING_SETTINGS, **settings}
    )
