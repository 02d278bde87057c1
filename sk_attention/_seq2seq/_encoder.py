"""The recurrent encoder of the sequence-to-sequence network (torch only).

It embeds the source tokens and runs a (bidirectional) LSTM or GRU over
them with :func:`~sk_attention._recurrent.run_recurrent`: packed at
inference, one direction at a time over the padded, length-bucketed batch
while training (faster on the CPU), with the same weights and outputs
either way.
"""

from torch import nn

from .._recurrent import run_recurrent
from .._text import PAD

__all__ = ["Encoder"]

_RNNS = {"lstm": nn.LSTM, "gru": nn.GRU}


class Encoder(nn.Module):
    """Embedding + recurrent encoder over sequences of varied lengths.

    With ``bidirectional=True`` each direction has ``hidden_size // 2``
    units, so outputs and final states have ``hidden_size`` features either
    way and the decoder can use plain dot-product attention on them.
    See :mod:`sk_attention._recurrent` for how sequences of varied lengths
    are run.
    """

    def __init__(
        self, vocab_size, embedding_dim, hidden_size, num_layers, bidirectional,
        dropout, cell,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _RNNS[cell](
            embedding_dim,
            hidden_size // (2 if bidirectional else 1),
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )

    def forward(self, source, lengths):
        """Encode a padded batch.

        Parameters
        ----------
        source : torch.LongTensor of shape (batch, src_len)
        lengths : torch.LongTensor of shape (batch,)

        Returns
        -------
        outputs : torch.Tensor of shape (batch, src_len, hidden_size)
            Zero on padding steps.
        final : torch.Tensor of shape (num_layers, batch, hidden_size)
        """
        embedded = self.dropout(self.embedding(source))  # (batch, src_len, emb)
        return run_recurrent(self.rnn, embedded, lengths)
