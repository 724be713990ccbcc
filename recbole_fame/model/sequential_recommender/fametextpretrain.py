r"""
FAMETextPretrain
################################################

Reference:
    Mingrui Liu, Sixiao Zhang, Cheng Long. "Facet-Aware Multi-Head Mixture-of-Experts Model with Text-Enhanced
    Pre-training for Sequential Recommendation." arXiv:2601.12301, 2026 (the extension of FAME, WSDM 2025).

Text-Enhanced Facet-Aware Pre-training: before FAME trains, its item embeddings are learnt from the items'
text with facet-specific projections trained by an alternating supervised contrastive objective, so that
head h's slice of an item's embedding carries facet h. The abstract fixes the ingredients (a pre-trained
text encoder, facet-specific projections, alternating supervised contrastive learning); the rest is this
plugin's choice, documented here and in benchmarks/text_pretrain/README.md:

* Text (:mod:`recbole_fame.text.items`): the values of ``text_fields`` joined with ". "; the encoder is frozen
  and its output cached (:mod:`recbole_fame.text.encoder`, :mod:`recbole_fame.text.cache`):

  .. math:: t_v = \mathrm{normalize}(\mathrm{meanpool}(\mathrm{Enc}(\mathrm{text}_v))) \in R^{D}

* Facet projections, one per head, batched over heads in one einsum:

  .. math:: z_v^{(h)} = \mathrm{normalize}(t_v W^{(h)} + b^{(h)}) \in R^{d'}, \quad W^{(h)} \in R^{D \times d'},
            \quad x_v = [z_v^{(1)} | \dots | z_v^{(H)}] \in R^{d}

  x_v is what FAME's item embedding starts from; FAME's W_f^(h) starts as the block selector, so FAME's
  x_v^(h) (Eq. 9) is z_v^(h). Unit-norm head slices: the SupCon geometry, and no head dominates at the start.

* Objective: head h is trained on facet ``facet_fields[h]`` with SupCon (Khosla et al. 2020, L^sup_out,
  :func:`recbole_fame.text.losses.supcon_loss`) on z^(h): positives are the batch items sharing a label of
  the facet (any shared label for multi-label fields such as genres); items without a label in that facet are
  left out of that step. Heads beyond the facets (``extra_heads``): ``identity`` (default) trains instance
  discrimination, SupCon with each item its own class and two dropout views of t_v as the pair (SimCSE-style);
  it keeps the items distinguishable, which facet heads, collapsing items with the same label, do not.
  ``cycle`` trains head h on facet h mod F instead.

* Alternation: the heads' objectives take turns, one per batch (``facet_alternation: step``, head
  t mod H at global step t) or one per epoch (``epoch``). A batch is ``pretrain_batch_size`` items drawn
  without replacement from all items, reshuffled every epoch. With several processes (``--nproc``), each
  trains on its own share of the epoch's batches, the same head at the same step, with gradients averaged
  over the processes (see :mod:`recbole_fame.trainer.text_pretrain`); the first process of each machine
  encodes and caches the texts, the others read the cache.

* Validation (early stopping, best epoch) and the report (:mod:`recbole_fame.text.disentanglement`): label
  precision@k of each facet in each head; the validation score is the mean over heads of each head's score
  on its own task (label precision@k on its facet, or for identity heads the overlap of its k nearest items
  with the raw text's), with the neighbours of the held-out validation items as queries: ``validation_items``
  (default 0.1) of the items, drawn with the seed, never enter the contrastive loss (their embeddings still
  come from their text, for FAME too). ``validation_items: 0`` scores every item on the training labels.

* RecBole's final evaluation: :meth:`full_sort_predict` ranks items by cosine similarity of x_v to the mean x
  of the sequence's last ``score_last_items`` items, a content-based recommender that shows what the text
  embeddings alone know about the next item.

Cold items (in the ``.item`` file, never in a training interaction) are embedded like every other item.
"""

import os
from logging import getLogger

import torch
import torch.distributed as dist
import torch.nn.functional as F
from recbole.model.abstract_recommender import SequentialRecommender
from recbole.utils import InputType
from torch import nn

from recbole_fame.compat.distributed import barrier
from recbole_fame.errors import CheckpointError
from recbole_fame.text.cache import cached_text_embeddings
from recbole_fame.text.checkpoint import load_text_checkpoint, save_text_checkpoint
from recbole_fame.text.disentanglement import (
    disentanglement_report,
    nearest_neighbours,
    task_scores,
    text_neighbour_queries,
)
from recbole_fame.text.encoder import TextEncoder
from recbole_fame.text.items import facet_labels, facets_with_labels, item_texts
from recbole_fame.text.losses import shares_label, supcon_loss
from recbole_fame.defaults import model_settings
from recbole_fame.errors import is_int, require

IDENTITY = "identity"
VALIDATION_QUERIES = 2048  # query items per validation score (the final report uses every item)

SETTINGS = (
    "n_heads", "hidden_size", "text_fields", "facet_fields", "extra_heads", "text_encoder", "text_max_length",
    "text_batch_size", "text_cache_dir", "temperature", "facet_alternation", "pretrain_batch_size",
    "text_dropout", "projection_init_std", "report_k", "score_last_items", "validation_items",
)


def _as_list(value):
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def check_settings(s):
    """Raise one clear :class:`ConfigurationError` for the first setting out of range."""
    for key in ("n_heads", "hidden_size", "text_max_length", "text_batch_size", "report_k", "score_last_items"):
        require(is_int(s[key]) and s[key] >= 1, f"{key} must be an integer >= 1, got {s[key]!r}")
    require(is_int(s["pretrain_batch_size"]) and s["pretrain_batch_size"] >= 2,
            f"pretrain_batch_size must be an integer >= 2, got {s['pretrain_batch_size']!r}")
    require(
        s["hidden_size"] % s["n_heads"] == 0,
        f"hidden_size ({s['hidden_size']}) must be divisible by n_heads ({s['n_heads']}): each head gets "
        "d' = hidden_size / n_heads dimensions. Use the hidden_size and n_heads of the FAME run to start.",
    )
    require(
        s["text_fields"] is not None and len(s["text_fields"]) > 0,
        "FAMETextPretrain needs text_fields, the item fields whose text is encoded (e.g. --text_fields=\"['title']\" "
        "or text_fields: [title, categories] in the dataset's yaml).",
    )
    require(
        s["facet_fields"] is not None,
        "FAMETextPretrain needs facet_fields, the categorical item fields that supervise the heads, one per head "
        "(e.g. facet_fields: [genre, brand] in the dataset's yaml; [] trains every head on item identity).",
    )
    require(
        len(s["facet_fields"]) <= s["n_heads"],
        f"facet_fields has {len(s['facet_fields'])} facets ({', '.join(s['facet_fields'])}) but there are only "
        f"n_heads={s['n_heads']} heads, one facet per head: drop {len(s['facet_fields']) - s['n_heads']} of them, e.g. "
        f"--facet_fields=\"{s['facet_fields'][:s['n_heads']]}\" (without {', '.join(s['facet_fields'][s['n_heads']:])}), "
        "or raise n_heads (with FAME's).",
    )
    require(len(set(s["facet_fields"])) == len(s["facet_fields"]), f"facet_fields repeats a field: {s['facet_fields']}")
    require(IDENTITY not in s["facet_fields"], f"a facet field may not be called '{IDENTITY}'")
    require(s["extra_heads"] in (IDENTITY, "cycle"), f"extra_heads must be 'identity' or 'cycle', got {s['extra_heads']!r}")
    require(s["facet_alternation"] in ("step", "epoch"),
            f"facet_alternation must be 'step' or 'epoch', got {s['facet_alternation']!r}")
    require(isinstance(s["temperature"], (int, float)) and s["temperature"] > 0,
            f"temperature must be a number > 0, got {s['temperature']!r}")
    require(isinstance(s["text_dropout"], (int, float)) and 0 <= s["text_dropout"] < 1,
            f"text_dropout must be a number in [0, 1), got {s['text_dropout']!r}")
    require(isinstance(s["validation_items"], (int, float)) and not isinstance(s["validation_items"], bool)
            and 0 <= s["validation_items"] < 1,
            f"validation_items must be a fraction in [0, 1), got {s['validation_items']!r}")
    require(s["projection_init_std"] is None or (isinstance(s["projection_init_std"], (int, float)) and s["projection_init_std"] > 0),
            f"projection_init_std must be a number > 0 or ~, got {s['projection_init_std']!r}")


def head_tasks(facet_fields, n_heads, extra_heads):
    """What each head is trained on: ``facet_fields[h]`` for the first heads, then identity or the facets in turn."""
    tasks = list(facet_fields)
    for head in range(len(tasks), n_heads):
        tasks.append(facet_fields[head % len(facet_fields)] if extra_heads == "cycle" and facet_fields else IDENTITY)
    return tasks


def text_embeddings_once_per_machine(texts, encoder, cache_dir, config):
    """:func:`~recbole_fame.text.cache.cached_text_embeddings`; with several processes (``--nproc``), the first
    process of each machine (``local_rank`` 0) encodes and writes the cache while the others wait at a barrier,
    then read it: one encoder pass per machine, no two processes writing the same cache file."""
    distributed = not config["single_spec"] and dist.is_available() and dist.is_initialized()
    if not distributed:
        return cached_text_embeddings(texts, encoder, cache_dir)[0]
    first = config["local_rank"] == 0
    if not first:
        barrier(config["device"])
    try:
        return cached_text_embeddings(texts, encoder, cache_dir)[0]
    finally:
        if first:  # also when encoding failed, so that no process is left waiting
            barrier(config["device"])


class FAMETextPretrain(SequentialRecommender):
    r"""Facet-specific projections of frozen item text embeddings, trained by alternating SupCon per head."""

    input_type = InputType.POINTWISE
    # what the run's validation and test results measure here (recbole_fame.runner.console's summary, the log)
    result_names = {
        "valid": "facet precision (mean over heads of each head's label precision@k on its own facet)",
        "test": "text-similarity ranking of the next item (cosine to the last items' text embeddings; "
                "a content-based check of the embeddings, not a trained recommender)",
    }

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        s = model_settings(config, "FAMETextPretrain", SETTINGS)
        s["text_fields"], s["facet_fields"] = _as_list(s["text_fields"]), _as_list(s["facet_fields"])
        if s["facet_fields"]:  # the facets follow what the data has: a facet no item has a label in is left out
            s["facet_fields"] = facets_with_labels(dataset, s["facet_fields"])
        check_settings(s)
        logger = getLogger()
        self.n_heads = s["n_heads"]
        self.hidden_size = s["hidden_size"]
        self.head_size = self.hidden_size // self.n_heads
        self.text_fields = s["text_fields"]
        self.facet_fields = s["facet_fields"]
        self.head_tasks = head_tasks(self.facet_fields, self.n_heads, s["extra_heads"])
        self.temperature = float(s["temperature"])
        self.facet_alternation = s["facet_alternation"]
        self.pretrain_batch_size = s["pretrain_batch_size"]
        self.report_k = s["report_k"]
        self.score_last_items = s["score_last_items"]
        self.dataset_name = config["dataset"]
        self.item_tokens = [str(token) for token in dataset.field2id_token[self.ITEM_ID]]
        self.settings = {key: s[key] for key in SETTINGS if key != "text_cache_dir"}
        self.settings.update({key: config[key] for key in ("learning_rate", "epochs", "seed") if key in config})

        # Item text and facet labels (checked before the encoder runs).
        texts, n_empty = item_texts(dataset, self.text_fields)
        facets = {field: facet_labels(dataset, field) for field in self.facet_fields}
        encoder = TextEncoder(s["text_encoder"], device=config["device"], max_length=s["text_max_length"],
                              batch_size=s["text_batch_size"], show_progress=bool(config["show_progress"]))
        cache_dir = s["text_cache_dir"] or os.path.join(config["checkpoint_dir"] or "saved", "text_cache")
        embedding = text_embeddings_once_per_machine(texts[1:], encoder, cache_dir, config)
        self.encoder_info = encoder.describe()
        message = (f"Item text from {', '.join(self.text_fields)}: {self.n_items - 1} items, {n_empty} of them "
                   "without any text (embedded from the empty text)")
        (logger.warning if n_empty else logger.info)(message)
        text_embedding = torch.cat([embedding.new_zeros(1, embedding.size(1)), embedding])  # padding item 0 = 0
        self.text_dim = text_embedding.size(1)
        self.register_buffer("text_embedding", text_embedding, persistent=False)
        self.label_names = {}
        for index, (field, (labels, names)) in enumerate(facets.items()):
            self.register_buffer(f"facet_labels_{index}", labels, persistent=False)
            self.label_names[field] = names
            labelled = int((labels >= 0).any(1).sum())
            logger.info(f"Facet {field}: {labelled} of {self.n_items - 1} items labelled, {len(names)} labels")
        logger.info("Heads' tasks: " + ", ".join(f"head {h + 1} = {t}" for h, t in enumerate(self.head_tasks)))

        # W^(h) [D, d'] and b^(h) [d'], one Parameter each per head: a step on head h's objective builds a graph
        # through head h's only, so the other heads' gradients stay None and Adam (which skips those) leaves
        # them exactly as they are; one [H, D, d'] Parameter would get zero gradients there, and Adam's momentum
        # would still move them.
        std = s["projection_init_std"] or self.text_dim ** -0.5
        projection = torch.randn(self.n_heads, self.text_dim, self.head_size) * std  # the same draws as before
        self.facet_projections = nn.ParameterList([nn.Parameter(w.clone()) for w in projection])
        self.facet_biases = nn.ParameterList([nn.Parameter(torch.zeros(self.head_size)) for _ in range(self.n_heads)])
        self.text_dropout = nn.Dropout(s["text_dropout"])
        # Validation items: a fixed random share of the real items whose labels the loss never sees; early
        # stopping scores their neighbours (validation_items: 0 scores every item, training labels included).
        held_out = torch.zeros(self.n_items, dtype=torch.bool)
        count = int(round(float(s["validation_items"]) * (self.n_items - 1)))
        if count:
            generator = torch.Generator().manual_seed(int(config["seed"] or 0))
            held_out[torch.randperm(self.n_items - 1, generator=generator)[:count] + 1] = True
            logger.info(f"Validation: {count} of {self.n_items - 1} items held out of the contrastive loss")
        self.register_buffer("validation_mask", held_out, persistent=False)
        self.task = 0
        self._text_neighbours = None
        self._item_embedding_cache = None

    # --- the model -------------------------------------------------------------------------------------------
    def facet_labels(self):
        """``{facet field: [V, m] label ids, -1 padded}``."""
        return {field: getattr(self, f"facet_labels_{i}") for i, field in enumerate(self.facet_fields)}

    @property
    def facet_projection(self):
        """W^(h) of every head, [H, D, d']."""
        return torch.stack(list(self.facet_projections))

    @property
    def facet_bias(self):
        """b^(h) of every head, [H, d']."""
        return torch.stack(list(self.facet_biases))

    def head_parameters(self, head):
        """The parameters head ``head``'s objective trains: W^(h) and b^(h)."""
        return [self.facet_projections[head], self.facet_biases[head]]

    def project(self, text):
        """t W^(h) + b^(h) for every head in one einsum: [B, D] -> [B, H, d']."""
        return torch.einsum("bD,hDk->bhk", text, self.facet_projection) + self.facet_bias

    def project_head(self, text, head):
        """t W^(h) + b^(h) of one head: [B, D] -> [B, d'] (the other heads are not in the graph)."""
        return text @ self.facet_projections[head] + self.facet_biases[head]

    def forward(self, items):
        """The items' head slices z^(h), [B, H, d'] (unit norm; zero for the padding item)."""
        z = F.normalize(self.project(self.text_embedding[items]), dim=-1)
        return z * (items != 0).unsqueeze(-1).unsqueeze(-1)

    def head_forward(self, items, head):
        """Head ``head``'s slice z^(h) of the items, [B, d'] (unit norm; zero for the padding item)."""
        z = F.normalize(self.project_head(self.text_embedding[items], head), dim=-1)
        return z * (items != 0).unsqueeze(-1)

    def select_task(self, task):
        """Set the head whose objective the next :meth:`calculate_loss` computes (the trainer alternates it)."""
        self.task = int(task) % self.n_heads

    def calculate_loss(self, interaction):
        items = interaction[self.ITEM_ID]
        items = items[~self.validation_mask[items]]  # validation items never train
        head, task = self.task, self.head_tasks[self.task]
        if task == IDENTITY:
            text = self.text_embedding[items]
            views = torch.cat([self.text_dropout(text), self.text_dropout(text)])  # two views per item
            z = F.normalize(self.project_head(views, head), dim=-1)
            index = torch.arange(items.size(0), device=items.device).repeat(2)
            positive = index.unsqueeze(1) == index.unsqueeze(0)
        else:
            labels = self.facet_labels()[task][items]
            keep = (labels >= 0).any(1)  # items without a label in this facet sit this step out
            labels = labels[keep]
            z = self.head_forward(items[keep], head)
            positive = shares_label(labels, labels)
        return supcon_loss(z, positive, self.temperature)

    @torch.no_grad()
    def head_embeddings(self):
        """z^(h) of every item, [H, V, d']."""
        items = torch.arange(self.n_items, device=self.text_embedding.device)
        return self.forward(items).transpose(0, 1)

    @torch.no_grad()
    def item_embeddings(self):
        """x_v = [z_v^(1) | ... | z_v^(H)] of every item, [V, d]: what FAME's item embedding starts from."""
        return self.head_embeddings().transpose(0, 1).reshape(self.n_items, self.hidden_size)

    def train(self, mode=True):
        self._item_embedding_cache = None
        return super().train(mode)

    def _unit_item_embeddings(self, items):
        """x_v / |x_v| of the given items, [..., d] (zero for the padding item)."""
        return F.normalize(self.forward(items.reshape(-1)).reshape(*items.shape, self.hidden_size), dim=-1)

    def _query(self, interaction, embed):
        """The normalised mean of the unit embeddings of each sequence's last ``score_last_items`` items, [B, d]."""
        item_seq, item_seq_len = interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN]
        positions = torch.arange(item_seq.size(1), device=item_seq.device).unsqueeze(0)
        last = (positions < item_seq_len.unsqueeze(1)) & (positions >= (item_seq_len - self.score_last_items).unsqueeze(1))
        return F.normalize((embed(item_seq) * last.unsqueeze(-1)).sum(1), dim=-1)

    @torch.no_grad()
    def predict(self, interaction):
        """Cosine similarity of each row's ``ITEM_ID`` to its sequence's query, [B]: only those items are embedded."""
        query = self._query(interaction, self._unit_item_embeddings)
        return (query * self._unit_item_embeddings(interaction[self.ITEM_ID])).sum(-1)

    def full_sort_predict(self, interaction):
        """Cosine similarity of every item to the mean embedding of the sequence's last items, [B, V]."""
        if self._item_embedding_cache is None or self.training:
            self._item_embedding_cache = F.normalize(self.item_embeddings(), dim=-1)
        items = self._item_embedding_cache
        return self._query(interaction, lambda ids: items[ids]) @ items.transpose(0, 1)

    # --- validation and report -----------------------------------------------------------------------------
    @torch.no_grad()
    def task_scores(self):
        """Each head's score on its own task (see the module docstring); their mean is the validation score.
        Each score averages over a fixed sample of at most VALIDATION_QUERIES query items (all items count as
        neighbours), which keeps a validation cheap on large catalogues."""
        query_items = self.validation_mask if bool(self.validation_mask.any()) else None
        if self._text_neighbours is None and IDENTITY in self.head_tasks:
            k = min(self.report_k, self.n_items - 2)
            queries = text_neighbour_queries(self.n_items, VALIDATION_QUERIES, query_items)
            self._text_neighbours = nearest_neighbours(self.text_embedding[1:], k, queries)
        return task_scores(self.head_embeddings(), self.facet_labels(), self.head_tasks, self.report_k,
                           self._text_neighbours, VALIDATION_QUERIES, query_items)

    @torch.no_grad()
    def disentanglement_report(self):
        """The facet-by-head report (plain data, see :mod:`recbole_fame.text.disentanglement`), over the held-out
        validation items when there are any."""
        labels = {field: labels.cpu() for field, labels in self.facet_labels().items()}
        return disentanglement_report(self.head_embeddings().cpu(), self.text_embedding.cpu(), labels,
                                      self.head_tasks, k=self.report_k, query_items=self.validation_mask.cpu())

    # --- checkpoint ----------------------------------------------------------------------------------------
    def checkpoint_metadata(self, epoch=None, report=None):
        return {
            "model": "FAMETextPretrain",
            "dataset": self.dataset_name,
            "item_field": self.ITEM_ID,
            "n_items": self.n_items,
            "item_tokens": self.item_tokens,
            "hidden_size": self.hidden_size,
            "n_heads": self.n_heads,
            "head_size": self.head_size,
            "text_dim": self.text_dim,
            "text_fields": self.text_fields,
            "facet_fields": self.facet_fields,
            "head_tasks": self.head_tasks,
            "encoder": self.encoder_info,
            "settings": self.settings,
            "epoch": epoch,
            "report": report,
        }

    def save_text_checkpoint(self, path, epoch=None, report=None):
        """Write the safe checkpoint (see :mod:`recbole_fame.text.checkpoint`) that FAME starts from."""
        tensors = {
            "item_embedding": self.item_embeddings().cpu(),
            "facet_projection": self.facet_projection.detach().cpu(),
            "facet_bias": self.facet_bias.detach().cpu(),
        }
        save_text_checkpoint(path, tensors, self.checkpoint_metadata(epoch, report))

    def load_text_checkpoint(self, path):
        """Load the projections of a checkpoint saved by this model for the same dataset and sizes."""
        tensors, metadata = load_text_checkpoint(path)
        if metadata.get("item_tokens") != self.item_tokens or metadata.get("dataset") != self.dataset_name:
            raise CheckpointError(f"{path} was saved for another dataset or item set than this run's '{self.dataset_name}'")
        for name, heads in (("facet_projection", self.facet_projections), ("facet_bias", self.facet_biases)):
            shape = (self.n_heads,) + tuple(heads[0].shape)
            if tuple(tensors[name].shape) != shape:
                raise CheckpointError(f"{path}: {name} has shape {tuple(tensors[name].shape)}, this model's is {shape}")
            with torch.no_grad():
                for own, saved in zip(heads, tensors[name]):
                    own.copy_(saved.to(own.device))
        self._item_embedding_cache = None
        return metadata
