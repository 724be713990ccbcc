"""
FAME
################################################

Reference:
    Mingrui Liu, Sixiao Zhang, Cheng Long. "Facet-Aware Multi-Head Mixture-of-Experts Model for Sequential
    Recommendation." In WSDM 2025.

FAME keeps SASRec's embeddings and lower Transformer layers and replaces the last layer:

* Eq. 12-17 (:class:`~recbole_fame.model.layers.MoEAttention`): in each head, N query experts attend over
  keys and values shared by the head; a router weights the experts' outputs into f^(h).
* Eq. 7 (:class:`~recbole_fame.model.layers.HeadFeedForward`): one FFN' on d' = d / H shared by the heads.
* Eq. 8-11 (:class:`~recbole_fame.model.layers.FacetPrediction`): each head scores every item against its
  sub-embedding x_v W_f^(h); a softmax gate over the concatenated head states weights the heads' scores.
* Eq. 18: full-softmax cross-entropy over all items.

Section 4.4.2's warm start from a trained SASRec is ``pretrained_path`` (the text pre-training's is
``text_pretrained_path``); both are read when the model first trains or scores, never once weights are loaded
into it, so a FAME checkpoint reloads without them (:mod:`recbole_fame.model.deferred_start`). ``train_mode: sequence`` trains every
position of each sequence at once (see :mod:`recbole_fame.data.dataset`).
"""

import torch
from torch import nn
from recbole.model.abstract_recommender import SequentialRecommender
from recbole.model.layers import TransformerEncoder
from recbole.utils import InputType

from recbole_fame.model.compile import compile_if_asked
from recbole_fame.model.deferred_start import DeferredStart
from recbole_fame.model.text_warm_start import load_text_checkpoint_into_fame
from recbole_fame.model.warm_start import load_sasrec_into_fame
from recbole_fame.model.layers import FacetPrediction, HeadFeedForward, MoEAttention, embed_sequence, trim_padding
from recbole_fame.model.sequence_loss import (SequenceLoss, check_weighting, earlier_items_at_every_position,
                                              hide_earlier_items, next_item_targets)
from recbole_fame.model.transformer import use_fused_gelu
from recbole_fame.defaults import model_settings
from recbole_fame.errors import is_int, require
from recbole_fame.memory import fame_parts, require_fits

SETTINGS = (
    "n_layers", "n_heads", "hidden_size", "inner_size", "hidden_dropout_prob", "attn_dropout_prob",
    "hidden_act", "layer_norm_eps", "initializer_range", "loss_type", "num_experts", "head_mixing",
    "pretrained_path", "text_pretrained_path", "facet_init",
    "attention_residual", "scale_by_heads", "sequence_loss_weighting", "combine_warm_starts",
    "text_item_embedding", "text_anchor",
)


def check_settings(s):
    """Raise one clear :class:`ConfigurationError` for the first FAME setting out of range."""
    for key in ("n_layers", "n_heads", "hidden_size", "inner_size", "num_experts"):
        require(is_int(s[key]) and s[key] >= 1, f"{key} must be an integer >= 1, got {s[key]!r}")
    require(
        s["hidden_size"] % s["n_heads"] == 0,
        f"hidden_size ({s['hidden_size']}) must be divisible by n_heads ({s['n_heads']}): each head works on "
        f"d' = hidden_size / n_heads dimensions. Choose e.g. n_heads in "
        f"{[h for h in (1, 2, 4, 8, 16) if s['hidden_size'] % h == 0]}.",
    )
    for key in ("hidden_dropout_prob", "attn_dropout_prob"):
        require(
            isinstance(s[key], (int, float)) and not isinstance(s[key], bool) and 0 <= s[key] < 1,
            f"{key} must be a number in [0, 1), got {s[key]!r}",
        )
    require(s["loss_type"] == "CE", f"FAME trains with full-softmax cross-entropy: loss_type must be 'CE', got {s['loss_type']!r}")
    require(s["head_mixing"] in ("logits", "probs"), f"head_mixing must be 'logits' or 'probs', got {s['head_mixing']!r}")
    require(isinstance(s["attention_residual"], bool), f"attention_residual must be True or False, got {s['attention_residual']!r}")
    require(isinstance(s["scale_by_heads"], bool), f"scale_by_heads must be True or False, got {s['scale_by_heads']!r}")
    require(not (s["scale_by_heads"] and s["head_mixing"] == "probs"),
            "scale_by_heads scales the fused logits of head_mixing 'logits'; with 'probs' set it to False.")
    check_weighting(s["sequence_loss_weighting"])
    require(s["facet_init"] in ("normal", "slice"), f"facet_init must be 'normal' or 'slice', got {s['facet_init']!r}")
    require(not (s["text_pretrained_path"] and s["facet_init"] == "normal"),
            "text_pretrained_path starts the facet projections W_f as the block selector (facet_init 'slice'), so "
            "facet_init 'normal' would be overwritten: set facet_init: slice, or drop text_pretrained_path.")
    require(s["text_item_embedding"] in ("start", "residual"),
            f"text_item_embedding must be 'start' or 'residual', got {s['text_item_embedding']!r}")
    require(isinstance(s["text_anchor"], (int, float)) and not isinstance(s["text_anchor"], bool)
            and 0 <= s["text_anchor"] < float("inf"), f"text_anchor must be a number >= 0, got {s['text_anchor']!r}")
    require(s["text_pretrained_path"] or (s["text_item_embedding"] == "start" and not s["text_anchor"]),
            "text_item_embedding 'residual' and text_anchor > 0 keep the text pre-training's item embeddings in the "
            "model: set text_pretrained_path to its checkpoint (python run_recbole_fame.py --model=FAMETextPretrain).")
    require(isinstance(s["combine_warm_starts"], bool),
            f"combine_warm_starts must be True or False, got {s['combine_warm_starts']!r}")
    require(
        not (s["pretrained_path"] and s["text_pretrained_path"]) or s["combine_warm_starts"],
        "pretrained_path (SASRec) and text_pretrained_path (text pre-training) both give FAME its item embeddings. "
        "Set one of them, or combine_warm_starts: True to take the item embeddings and facet projections from "
        "the text checkpoint and everything else SASRec's warm start keeps (position embeddings, input LayerNorm, "
        "lower layers, last layer's K and V) from the SASRec checkpoint; its lower layers then see item "
        "embeddings they were not trained on.",
    )


class FAME(DeferredStart, SequentialRecommender):
    r"""FAME: SASRec whose last layer predicts per facet (head) with a mixture of query experts per head."""

    input_type = InputType.POINTWISE
    supports_sequence_training = True  # calculate_loss handles train_mode: sequence (recbole_fame.runner.capabilities)
    supports_batch_trimming = True  # forward trims the padding itself
    supports_train_exclude_history = True  # calculate_loss honours train_exclude_history

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        s = model_settings(config, "FAME", SETTINGS)
        check_settings(s)
        self._check_memory(dataset, s)
        self.n_layers = s["n_layers"]
        self.n_heads = s["n_heads"]
        self.hidden_size = s["hidden_size"]
        self.inner_size = s["inner_size"]
        self.hidden_dropout_prob = s["hidden_dropout_prob"]
        self.attn_dropout_prob = s["attn_dropout_prob"]
        self.hidden_act = s["hidden_act"]
        self.layer_norm_eps = s["layer_norm_eps"]
        self.initializer_range = s["initializer_range"]
        self.num_experts = s["num_experts"]
        self.head_mixing = s["head_mixing"]
        self.train_mode = s["train_mode"]
        self.label_field = s["LABEL_FIELD"]
        self.train_exclude_history = s["train_exclude_history"]
        require(
            self.train_mode == "prefix" or getattr(dataset, "trains_whole_sequences", False),
            "train_mode 'sequence' needs the plugin's dataset: build it with recbole_fame.create_dataset "
            "(run_recbole_fame does), or set train_mode: prefix for RecBole's own create_dataset.",
        )

        # SASRec backbone: embeddings and all but the last Transformer layer.
        self.item_embedding = nn.Embedding(self.n_items, self.hidden_size, padding_idx=0)
        # The text pre-training kept in the model (text_pretrained_path): 'residual' items are the frozen text
        # embedding plus the learned item_embedding (which starts at 0); text_anchor pulls the item vectors and the
        # facet projections towards their pre-trained start. Both are buffers: a checkpoint holds them.
        self.text_anchor = float(s["text_anchor"])
        residual = s["text_item_embedding"] == "residual"
        self.register_buffer("text_item_embedding", torch.zeros(self.n_items, self.hidden_size) if residual else None)
        self.register_buffer("text_anchor_items",
                             torch.zeros(self.n_items, self.hidden_size) if self.text_anchor else None)  # [V, d]
        self.position_embedding = nn.Embedding(self.max_seq_length, self.hidden_size)
        self.trm_encoder = TransformerEncoder(
            n_layers=self.n_layers - 1,
            n_heads=self.n_heads,
            hidden_size=self.hidden_size,
            inner_size=self.inner_size,
            hidden_dropout_prob=self.hidden_dropout_prob,
            attn_dropout_prob=self.attn_dropout_prob,
            hidden_act=self.hidden_act,
            layer_norm_eps=self.layer_norm_eps,
        )
        use_fused_gelu(self.trm_encoder)  # torch's one-kernel gelu for RecBole's Python one, same values
        self.LayerNorm = nn.LayerNorm(self.hidden_size, eps=self.layer_norm_eps)
        self.dropout = nn.Dropout(self.hidden_dropout_prob)

        # FAME's last layer.
        self.moe_attention = MoEAttention(self.n_heads, self.hidden_size, self.num_experts, self.attn_dropout_prob,
                                          residual=s["attention_residual"])
        self.head_ffn = HeadFeedForward(self.hidden_size // self.n_heads, self.hidden_dropout_prob, self.layer_norm_eps)
        self.facet_prediction = FacetPrediction(self.n_heads, self.hidden_size, self.head_mixing,
                                                scale_by_heads=s["scale_by_heads"])
        self.loss_fct = nn.CrossEntropyLoss()
        self.sequence_loss = SequenceLoss(s, dataset)  # train_mode: sequence

        self.apply(self._init_weights)
        if s["facet_init"] == "slice":
            self.facet_prediction.select_head_slices()
        # The warm start is part of training, not of building the model (recbole_fame.model.deferred_start).
        starts = []
        if s["pretrained_path"]:
            starts.append(lambda model: load_sasrec_into_fame(model, s["pretrained_path"], config))
        if s["text_pretrained_path"]:
            starts.append(lambda model: load_text_checkpoint_into_fame(model, s["text_pretrained_path"], config, dataset))
        self.defer_start(starts)
        compile_if_asked(self, config)  # compile_model: True (opt-in)

    def _check_memory(self, dataset, s):
        """Refuse sizes whose parameters and training batch cannot fit in the device's memory, before building them."""
        train_sequences = s["train_mode"] == "sequence"
        try:
            longest = min(self.max_seq_length, int(dataset.inter_feat[self.ITEM_SEQ_LEN].max()))
        except (KeyError, AttributeError, TypeError, ValueError, RuntimeError):  # no sample lists: the setting
            longest = self.max_seq_length
        batch = (getattr(dataset, "sequences_per_batch", None) if train_sequences else None) or s["train_batch_size"]
        parts = fame_parts(self.n_items, self.max_seq_length, longest, s["hidden_size"], s["n_heads"], s["num_experts"],
                           s["n_layers"], s["inner_size"], batch, longest if train_sequences else 1, s["learner"])
        require_fits("FAME with these settings", parts, s["device"],
                     "Lower num_experts, n_heads, hidden_size, MAX_ITEM_LIST_LENGTH or train_batch_size.")

    def _init_weights(self, module):
        """Normal(0, initializer_range) weights and zero biases as in SASRec; FAME's raw parameters too."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=self.initializer_range)
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)
        elif isinstance(module, (MoEAttention, FacetPrediction)):
            for param in module.parameters(recurse=False):
                param.data.normal_(mean=0.0, std=self.initializer_range)
        if isinstance(module, nn.Linear) and module.bias is not None:
            module.bias.data.zero_()

    def encode(self, item_seq, item_seq_len, all_positions=False):
        """Run the network up to the head states.

        Returns:
            head_states: F^(h) of Eq. 7, [B, H, d'] at the last position (or [B, L', H, d'] at every position).
            gate: g~ of Eq. 10, [B, H] (or [B, L', H]).
            expert_weights: beta of Eq. 16, [B, H, N] (or [B, L', H, N]).
        On CPU, padding beyond the longest sequence of the batch is trimmed (L' <= L; ``trim_padding``); it
        cannot change the result.
        """
        self.warm_start()
        item_seq = trim_padding(item_seq, item_seq_len)
        hidden = embed_sequence(self, item_seq)  # item vectors through embed_items
        attention_mask = self.get_attention_mask(item_seq)  # [B, 1, L', L']
        hidden = self.trm_encoder(hidden, attention_mask, output_all_encoded_layers=False)[-1]

        query_index = None if all_positions else item_seq_len - 1
        f, beta = self.moe_attention(hidden, attention_mask, query_index)  # [B, H, Lq, d'], [B, H, Lq, N]
        head_states = self.head_ffn(f.transpose(1, 2))  # [B, Lq, H, d']
        expert_weights = beta.transpose(1, 2)  # [B, Lq, H, N]
        gate = self.facet_prediction.gate_weights(head_states)  # [B, Lq, H]
        if not all_positions:
            head_states, gate, expert_weights = head_states[:, 0], gate[:, 0], expert_weights[:, 0]
        return head_states, gate, expert_weights

    def forward(self, item_seq, item_seq_len):
        head_states, gate, _ = self.encode(item_seq, item_seq_len)
        return head_states, gate  # [B, H, d'], [B, H]

    def _positive_rows(self, interaction):
        # Under RecBole's own Config (which sets uniform negative sampling) the point-wise loader appends
        # sampled negatives with label 0; full-softmax CE needs only the observed rows.
        if self.label_field in interaction.interaction:
            return interaction[interaction[self.label_field] > 0]
        return interaction

    def item_vectors(self):
        """x_v of every item, [V, d]: the item embedding (plus the frozen text embedding under 'residual')."""
        if self.text_item_embedding is None:
            return self.item_embedding.weight
        return self.item_embedding.weight + self.text_item_embedding

    def embed_items(self, item_seq):
        """x_v of the items of [B, L] ids, [B, L, d]."""
        if self.text_item_embedding is None:
            return self.item_embedding(item_seq)
        return self.item_embedding(item_seq) + self.text_item_embedding[item_seq]

    def anchor_loss(self):
        """text_anchor x (mean squared distance of the item vectors from their pre-trained start + squared
        distance of the facet projections from the block selector they started as); 0 without text_anchor."""
        if not self.text_anchor:
            return 0.0
        items = (self.item_vectors()[1:] - self.text_anchor_items[1:]).pow(2).sum(-1).mean()
        projections = self.facet_prediction.distance_from_block_selector()
        return self.text_anchor * (items + projections)

    def calculate_loss(self, interaction):
        interaction = self._positive_rows(interaction)
        item_seq = interaction[self.ITEM_SEQ]
        item_seq_len = interaction[self.ITEM_SEQ_LEN]
        pos_items = interaction[self.POS_ITEM_ID]
        items = self.item_vectors()
        if self.train_mode == "prefix":
            head_states, gate = self.forward(item_seq, item_seq_len)
            logits = self.facet_prediction.scores(head_states, gate, items)  # [B, V]
            if self.train_exclude_history:
                logits = hide_earlier_items(logits, item_seq, pos_items)
            return self.loss_fct(logits, pos_items) + self.anchor_loss()
        # Every position t predicts item t+1; the last one predicts the sample's own target.
        head_states, gate, _ = self.encode(item_seq, item_seq_len, all_positions=True)  # [B, L', H, d']
        length = head_states.size(1)
        targets, valid = next_item_targets(item_seq, item_seq_len, pos_items, length)
        logits = self.facet_prediction.scores(head_states[valid], gate[valid], items)  # [P, V]
        if self.train_exclude_history:
            logits = hide_earlier_items(logits, earlier_items_at_every_position(item_seq, length)[valid], targets[valid])
        return self.sequence_loss(logits, targets[valid]) + self.anchor_loss()

    def predict(self, interaction):
        """The fused score of each row's ``ITEM_ID`` (sampled evaluation), [B]: only those items are scored."""
        head_states, gate = self.forward(interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN])
        return self.facet_prediction.item_scores(head_states, gate, self.item_vectors(),
                                                 interaction[self.ITEM_ID])

    def full_sort_predict(self, interaction):
        head_states, gate = self.forward(interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN])
        return self.facet_prediction.scores(head_states, gate, self.item_vectors())  # [B, V]

    @torch.no_grad()
    def explain(self, item_seq, item_seq_len):
        """What the paper's Figure 7 shows, for a batch of sequences.

        Returns a dict of ``head_scores`` [B, H, V] (Eq. 8), ``gate`` [B, H] (Eq. 10), ``expert_weights``
        [B, H, N] (Eq. 16, at the last position) and the fused ``scores`` [B, V] (Eq. 11).
        """
        head_states, gate, expert_weights = self.encode(item_seq, item_seq_len)
        items = self.item_vectors()
        return {
            "head_scores": self.facet_prediction.head_scores(head_states, items),
            "gate": gate,
            "expert_weights": expert_weights,
            "scores": self.facet_prediction.scores(head_states, gate, items),
        }
