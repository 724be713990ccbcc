"""
SASRecSeq
################################################

Reference:
    Wang-Cheng Kang, Julian McAuley. "Self-Attentive Sequential Recommendation." In ICDM 2018.

RecBole's :class:`~recbole.model.sequential_recommender.SASRec`, unchanged in architecture and parameter
names (so its checkpoints warm-start FAME), that can also train the way the original SASRec code does: with
``train_mode: sequence`` every position of a training sequence predicts its next item under full-softmax
cross-entropy (see :mod:`recbole_fame.data.dataset`). It is the baseline to compare FAME against when both
train in that efficient mode. With ``train_mode: prefix`` it is RecBole's SASRec.

Two things are computed more cheaply than RecBole's SASRec computes them, to float tolerance the same values:
its feed-forward layers use torch's fused gelu (:func:`~recbole_fame.model.transformer.use_fused_gelu`), and
outside training (``model.eval()``: validation, test, ``full_sort_predict``) the last layer runs only at the
scored position (:func:`~recbole_fame.model.transformer.encode_last_position`). Training keeps RecBole's
computation, dropout masks included.

``text_pretrained_path`` starts its item embeddings from the text pre-training (FAMETextPretrain's checkpoint,
:mod:`recbole_fame.model.text_warm_start`), read when the model is first used
(:mod:`recbole_fame.model.deferred_start`); FAME warm-started from such a SASRecSeq is the extension's
text-then-sequence pipeline.
"""

from recbole.model.sequential_recommender import SASRec

from recbole_fame.model.compile import compile_if_asked
from recbole_fame.model.deferred_start import DeferredStart
from recbole_fame.model.layers import embed_sequence, trim_padding
from recbole_fame.model.sequence_loss import (SequenceLoss, earlier_items_at_every_position, hide_earlier_items,
                                              next_item_targets)
from recbole_fame.model.text_warm_start import load_text_item_embeddings
from recbole_fame.model.transformer import encode_last_position, use_fused_gelu
from recbole_fame.defaults import model_settings
from recbole_fame.errors import require


class SASRecSeq(DeferredStart, SASRec):
    supports_sequence_training = True  # recbole_fame.runner.capabilities
    supports_batch_trimming = True
    supports_train_exclude_history = True

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        s = model_settings(config, "SASRecSeq", ("sequence_loss_weighting", "text_pretrained_path"))
        self.train_mode = s["train_mode"]
        require(self.loss_type == "CE" or self.train_mode == "prefix", "train_mode 'sequence' needs loss_type: CE")
        require(
            self.train_mode == "prefix" or getattr(dataset, "trains_whole_sequences", False),
            "train_mode 'sequence' needs the plugin's dataset: build it with recbole_fame.create_dataset.",
        )
        self.train_exclude_history = s["train_exclude_history"]
        require(self.loss_type == "CE" or not self.train_exclude_history, "train_exclude_history needs loss_type: CE")
        self.sequence_loss = SequenceLoss(s, dataset)  # train_mode: sequence
        use_fused_gelu(self.trm_encoder)
        text_path = s["text_pretrained_path"]
        self.defer_start([lambda model: load_text_item_embeddings(model, text_path, config, dataset)] if text_path else [])
        compile_if_asked(self, config)  # compile_model: True

    def _embed(self, item_seq, item_seq_len):
        self.warm_start()
        # on CPU, padding beyond the longest sequence trimmed
        item_seq = trim_padding(item_seq, item_seq_len)
        return embed_sequence(self, item_seq), self.get_attention_mask(item_seq)

    def encode_all_positions(self, item_seq, item_seq_len):
        """SASRec's output at every position, [B, L', d] (on CPU, padding beyond the longest sequence trimmed)."""
        hidden, attention_mask = self._embed(item_seq, item_seq_len)
        return self.trm_encoder(hidden, attention_mask, output_all_encoded_layers=False)[-1]

    def forward(self, item_seq, item_seq_len):
        if not self.training:  # only the scored position through the last layer
            hidden, attention_mask = self._embed(item_seq, item_seq_len)
            return encode_last_position(self.trm_encoder, hidden, attention_mask, item_seq_len - 1)  # [B, d]
        output = self.encode_all_positions(item_seq, item_seq_len)
        return self.gather_indexes(output, item_seq_len - 1)  # [B, d]

    def calculate_loss(self, interaction):
        if self.train_mode == "prefix" and not self.train_exclude_history:
            return super().calculate_loss(interaction)
        item_seq = interaction[self.ITEM_SEQ]
        item_seq_len = interaction[self.ITEM_SEQ_LEN]
        pos_items = interaction[self.POS_ITEM_ID]
        if self.train_mode == "prefix":  # RecBole's CE loss with the sequence's items out of the softmax
            logits = self.forward(item_seq, item_seq_len) @ self.item_embedding.weight.transpose(0, 1)  # [B, V]
            return self.loss_fct(hide_earlier_items(logits, item_seq, pos_items), pos_items)
        output = self.encode_all_positions(item_seq, item_seq_len)  # [B, L', d]
        length = output.size(1)
        targets, valid = next_item_targets(item_seq, item_seq_len, pos_items, length)
        logits = output[valid] @ self.item_embedding.weight.transpose(0, 1)  # [P, V]
        if self.train_exclude_history:
            logits = hide_earlier_items(logits, earlier_items_at_every_position(item_seq, length)[valid], targets[valid])
        return self.sequence_loss(logits, targets[valid])
