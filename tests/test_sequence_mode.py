"""The efficient training mode: every training (prefix, next item) pair once per epoch, same loss."""

import numpy as np
import pytest
import torch

from recbole_fame import Config, create_dataset, data_preparation, get_model, run_recbole_fame
from recbole_fame.errors import ConfigurationError
from tests.conftest import seed_everything


def window_ends(user_ids, window):
    """Rows of RecBole's prefix training split that end a window, counted back from each user's last row."""
    ends = []
    for user in np.unique(user_ids):
        rows = np.flatnonzero(user_ids == user)
        ends.extend(rows[::-1][::window])
    return np.sort(np.array(ends))


@pytest.mark.parametrize("max_length", [3, 20])
def test_sequence_dataset_equals_recbole_samples_filtered_to_window_ends(settings, max_length):
    """The vectorised sample builder gives RecBole's own samples: all validation and test samples, and the
    training samples that end a window."""
    prefix_config, prefix_train, prefix_test = split(settings, MAX_ITEM_LIST_LENGTH=max_length)
    seq_config, seq_train, seq_test = split(settings, MAX_ITEM_LIST_LENGTH=max_length, train_mode="sequence")
    prefix = prefix_train._dataset.inter_feat
    expected = prefix[window_ends(prefix[prefix_train._dataset.uid_field].numpy(), max_length)]
    actual = seq_train._dataset.inter_feat
    assert set(actual.interaction) == set(expected.interaction)
    for field in expected.interaction:
        torch.testing.assert_close(actual[field], expected[field], rtol=0, atol=0, msg=field)
    pairs = [(seq_test, prefix_test), (seq_config["valid_data"], prefix_config["valid_data"])]
    for ours, recbole in pairs:
        for field in recbole._dataset.inter_feat.interaction:
            torch.testing.assert_close(ours._dataset.inter_feat[field], recbole._dataset.inter_feat[field],
                                       rtol=0, atol=0, msg=field)


def split(settings, model="FAME", **overrides):
    config = Config(model=model, dataset="tiny", config_dict=settings(**overrides))
    train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
    config["valid_data"] = valid_data  # kept for tests that compare validation samples
    return config, train_data, test_data


def targets_per_user(dataset, whole_sequences):
    inter = dataset.inter_feat
    seqs, lens = inter[dataset.item_id_list_field], inter[dataset.item_list_length_field]
    out = {}
    for user, seq, n, target in zip(inter[dataset.uid_field].tolist(), seqs, lens.tolist(), inter[dataset.iid_field].tolist()):
        pairs = [(tuple(seq[:t + 1].tolist()[-n:]), seq[t + 1].item()) for t in range(n - 1)] if whole_sequences else []
        out.setdefault(user, []).extend([p[1] for p in pairs] + [target])
    return out


@pytest.mark.parametrize("max_length", [5, 20])
def test_sequence_samples_cover_every_training_target_once(settings, max_length):
    _, prefix_train, prefix_test = split(settings, MAX_ITEM_LIST_LENGTH=max_length)
    _, seq_train, seq_test = split(settings, MAX_ITEM_LIST_LENGTH=max_length, train_mode="sequence")
    assert len(seq_train._dataset) < len(prefix_train._dataset)
    assert targets_per_user(seq_train._dataset, True) == targets_per_user(prefix_train._dataset, False)
    torch.testing.assert_close(seq_test._dataset.inter_feat[seq_test._dataset.iid_field],
                               prefix_test._dataset.inter_feat[prefix_test._dataset.iid_field])


@pytest.mark.parametrize("model_name", ["FAME", "SASRecSeq"])
def test_sequence_loss_equals_mean_of_prefix_losses(settings, model_name):
    """Without truncation, the all-position loss of a user's sequence is the mean of its prefix samples' losses
    (weighting 'batch'; 'target' scales it, see below)."""
    _, prefix_train, _ = split(settings, MAX_ITEM_LIST_LENGTH=20)
    config, seq_train, _ = split(settings, MAX_ITEM_LIST_LENGTH=20, train_mode="sequence", model=model_name,
                                 sequence_loss_weighting="batch")
    torch.manual_seed(0)
    model = get_model(model_name)(config, seq_train._dataset).double().eval()
    assert model.train_mode == "sequence"
    seq = seq_train._dataset.inter_feat[:1]
    user = seq[seq_train._dataset.uid_field].item()
    prefix = prefix_train._dataset.inter_feat
    rows = prefix[prefix[prefix_train._dataset.uid_field] == user]
    sequence_loss = model.calculate_loss(seq)
    model.train_mode = "prefix"
    prefix_loss = model.calculate_loss(rows)
    assert len(rows) == seq[seq_train._dataset.item_list_length_field].item()
    torch.testing.assert_close(sequence_loss, prefix_loss, atol=1e-10, rtol=0)


@pytest.mark.parametrize("model_name", ["FAME", "SASRecSeq"])
def test_sequence_loss_is_the_same_on_untrimmed_batches(settings, model_name, monkeypatch):
    """On an accelerator the models leave the padding in place (``trim_padding``); the loss cannot change."""
    from recbole_fame.model.sequential_recommender import fame, sasrecseq

    config, seq_train, _ = split(settings, MAX_ITEM_LIST_LENGTH=20, train_mode="sequence", model=model_name)
    torch.manual_seed(0)
    model = get_model(model_name)(config, seq_train._dataset).double().eval()
    batch = seq_train._dataset.inter_feat[:8]
    lengths = batch[seq_train._dataset.item_list_length_field]
    assert int(lengths.max()) < batch[seq_train._dataset.item_id_list_field].shape[1]  # padding to trim
    trimmed = model.calculate_loss(batch)
    for module in (fame, sasrecseq):
        monkeypatch.setattr(module, "trim_padding", lambda seq, seq_len: seq)
    torch.testing.assert_close(model.calculate_loss(batch), trimmed, atol=1e-12, rtol=0)


def test_sequence_mode_is_refused_for_models_without_it(settings):
    with pytest.raises(ConfigurationError, match="use it with FAME"):
        config = Config(model="SASRec", dataset="tiny", config_dict=settings(train_mode="sequence"))
        create_dataset(config)


def test_length_bucketing_sees_every_sample_once_with_tighter_batches(settings):
    config, plain, _ = split(settings, train_mode="sequence", train_batch_size=8, bucket_batches=4,
                             train_batch_unit="sequences", length_bucketing=False)
    _, bucketed, _ = split(settings, train_mode="sequence", train_batch_size=8, bucket_batches=4,
                           train_batch_unit="sequences", length_bucketing=True)
    field = plain._dataset.item_list_length_field

    def epoch(loader):
        batches = list(loader)
        users = sorted(sum((b[plain._dataset.uid_field].tolist() for b in batches), []))
        spread = np.mean([(b[field].max() - b[field].min()).item() for b in batches])
        return users, spread

    users_plain, spread_plain = epoch(plain)
    users_bucketed, spread_bucketed = epoch(bucketed)
    assert users_bucketed == users_plain
    assert spread_bucketed < spread_plain
    assert epoch(bucketed)[0] == users_plain  # a second epoch, new order, same samples


@pytest.mark.parametrize("model_name", ["SASRec", "GRU4Rec", "CORE", "FAME", "SASRecSeq"])
def test_trimming_a_batch_changes_no_score_of_a_trimmable_model(settings, model_name):
    """The bucketed loader cuts a batch's sequence fields to its longest sequence for the models that support
    batch trimming (recbole_fame.runner.capabilities): their training loss and full-sort scores stay the same."""
    from recbole_fame.runner.capabilities import supports_batch_trimming

    assert supports_batch_trimming(get_model(model_name))
    config, loader, _ = split(settings, model=model_name, length_bucketing=True, loss_type="CE")
    assert loader.trims_batches
    dataset = loader._dataset
    torch.manual_seed(0)
    by_length = np.argsort(dataset.inter_feat[dataset.item_list_length_field].numpy(), kind="stable")
    index = by_length[len(by_length) // 2 :][:32]  # sequences of middle length, shorter than L
    from recbole_fame.data.sorted_eval import trim_to_longest

    full = dataset[index]
    trimmed = trim_to_longest(dataset[index], dataset.item_list_length_field, config["LIST_SUFFIX"])
    assert trimmed[dataset.item_id_list_field].shape[1] < full[dataset.item_id_list_field].shape[1]
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # exact to 1e-10
    try:
        model = get_model(model_name)(config, dataset).eval()
        losses = [model.calculate_loss(loader.transform(dataset, batch)) for batch in (full, trimmed)]
        scores = [model.full_sort_predict(batch) for batch in (full, trimmed)]
    finally:
        torch.set_default_dtype(default_dtype)
    torch.testing.assert_close(losses[1], losses[0], atol=1e-10, rtol=0)
    torch.testing.assert_close(scores[1], scores[0], atol=1e-10, rtol=0)


def test_bert4rec_is_refused_length_bucketing_for_a_reason(settings):
    """RecBole's BERT4Rec divides its loss by the masked items of the batch other than those at position 0: a
    batch of one-item sequences, which length bucketing makes, has a NaN loss. The runner refuses the setting."""
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    with pytest.raises(ConfigurationError, match="length_bucketing: True cannot train BERT4Rec.*length_bucketing: False"):
        split(settings, model="BERT4Rec", length_bucketing=True)
    config, loader, _ = split(settings, model="BERT4Rec", loss_type="CE")
    dataset = loader._dataset
    lengths = dataset.inter_feat[dataset.item_list_length_field]
    one_item = dataset[torch.nonzero(lengths == 1).flatten()[:16].numpy()]
    longest = dataset[torch.argsort(lengths, descending=True)[:16].numpy()]
    model = get_model("BERT4Rec")(config, dataset)
    assert torch.isnan(model.calculate_loss(loader.transform(dataset, one_item)))
    assert torch.isfinite(model.calculate_loss(loader.transform(dataset, longest)))


def test_bucketed_batches_keep_their_width_for_a_model_that_reads_the_padding(settings):
    """FEARec filters the whole padded sequence in the frequency domain: its batches are bucketed, not trimmed."""
    config, loader, _ = split(settings, model="FEARec", length_bucketing=True, train_batch_size=8)
    assert not loader.trims_batches
    widths = {batch[loader._dataset.item_id_list_field].shape[1] for batch in loader}
    assert widths == {config["MAX_ITEM_LIST_LENGTH"]}


def test_runner_trains_in_sequence_mode_and_warm_starts_from_sasrecseq(settings):
    sasrec = run_recbole_fame(model="SASRecSeq", dataset="tiny", saved=True,
                              config_dict=settings(train_mode="sequence", length_bucketing=True))
    fame = run_recbole_fame(model="FAME", dataset="tiny", saved=True,
                            config_dict=settings(train_mode="sequence", length_bucketing=True,
                                                 pretrained_path=sasrec["saved_model_file"]))
    assert 0 <= fame["test_result"]["ndcg@10"] <= 1


def test_sasrecseq_in_prefix_mode_is_recbole_sasrec(settings):
    """The prefix-mode baseline of results/beauty/modes is RecBole's SASRec: same parameters, same loss and
    scores (trimming a batch to its longest sequence changes nothing)."""
    from recbole.model.sequential_recommender import SASRec

    config, train_data, test_data = split(settings, model="SASRecSeq", loss_type="CE")
    torch.manual_seed(0)
    ours = get_model("SASRecSeq")(config, train_data._dataset).double().eval()
    recbole = SASRec(config, train_data._dataset).double().eval()
    recbole.load_state_dict(ours.state_dict())
    batch = train_data._dataset.inter_feat[:32]
    assert int(batch["item_length"].max()) < config["MAX_ITEM_LIST_LENGTH"]  # so that trimming happens
    torch.testing.assert_close(ours.calculate_loss(batch), recbole.calculate_loss(batch), atol=1e-12, rtol=0)
    torch.testing.assert_close(ours.full_sort_predict(batch), recbole.full_sort_predict(batch), atol=1e-12, rtol=0)


@pytest.mark.parametrize("model_name", ["FAME", "SASRecSeq"])
def test_target_weighting_weighs_every_target_as_the_prefix_mode_does(settings, model_name):
    """sequence_loss_weighting 'target': a batch's loss is the sum of its prefix samples' losses divided by the
    mean number of targets per batch, whatever the batch's lengths; 'batch' is the mean over its own targets."""
    _, prefix_train, _ = split(settings, model=model_name, MAX_ITEM_LIST_LENGTH=20, loss_type="CE")
    config, seq_train, _ = split(settings, model=model_name, MAX_ITEM_LIST_LENGTH=20, train_mode="sequence",
                                 loss_type="CE", sequence_loss_weighting="target", train_batch_size=8,
                                 train_batch_unit="sequences")
    sequences, prefixes = seq_train._dataset, prefix_train._dataset
    assert sequences.targets_per_sequence == pytest.approx(len(prefixes) / len(sequences))  # every target once
    torch.manual_seed(0)
    model = get_model(model_name)(config, sequences).double().eval()
    assert model.sequence_loss.targets_per_batch == pytest.approx(8 * sequences.targets_per_sequence)
    lengths = sequences.inter_feat[sequences.item_list_length_field]
    for user_rows in (lengths.argmin(), lengths.argmax()):  # a short and a long sequence
        seq = sequences.inter_feat[user_rows.view(1)]
        user = seq[sequences.uid_field].item()
        rows = prefixes.inter_feat[prefixes.inter_feat[prefixes.uid_field] == user]
        model.train_mode, model.sequence_loss.weighting = "sequence", "target"
        weighted = model.calculate_loss(seq)
        model.sequence_loss.weighting = "batch"
        batch_mean = model.calculate_loss(seq)
        model.train_mode = "prefix"
        prefix_mean = model.calculate_loss(rows)
        torch.testing.assert_close(weighted, prefix_mean * len(rows) / model.sequence_loss.targets_per_batch,
                                   atol=1e-10, rtol=0)
        torch.testing.assert_close(batch_mean, prefix_mean, atol=1e-10, rtol=0)


def test_length_bucketing_keeps_its_buckets_after_a_short_batch(settings):
    """The epoch's one batch shorter than train_batch_size comes last, so every other batch is one sorted piece:
    with one chunk (bucket_batches covering the epoch) no two batches' length ranges overlap, in every epoch."""
    config, loader, _ = split(settings, train_mode="sequence", train_batch_size=7, bucket_batches=100,
                              length_bucketing=True)
    field = loader._dataset.item_list_length_field
    assert len(loader._dataset) % 7 != 0  # there is a short batch
    for _ in range(4):
        ranges = sorted((int(b[field].min()), int(b[field].max())) for b in loader)
        assert all(high <= next_low for (_, high), (next_low, _) in zip(ranges, ranges[1:])), ranges


def test_length_bucketing_refuses_shuffle_false(settings):
    with pytest.raises(ConfigurationError, match="shuffle: False would be ignored"):
        split(settings, train_mode="sequence", length_bucketing=True, shuffle=False)


@pytest.mark.parametrize("mode", ["valid_and_test", "valid_only", "test_only"])
@pytest.mark.parametrize("max_length", [5, 20])
def test_sequence_mode_trains_recbole_prefix_targets_under_every_leave_one_out_split(settings, mode, max_length):
    """Every leave-one-out mode RecBole has: the sequence mode trains exactly the targets of RecBole's prefix
    training rows, and its validation and test rows are RecBole's."""
    split_args = {"eval_args": {"split": {"LS": mode}, "order": "TO", "group_by": "user", "mode": "full"}}
    prefix_config, prefix_train, prefix_test = split(settings, MAX_ITEM_LIST_LENGTH=max_length, **split_args)
    seq_config, seq_train, seq_test = split(settings, MAX_ITEM_LIST_LENGTH=max_length, train_mode="sequence",
                                            **split_args)
    assert targets_per_user(seq_train._dataset, True) == targets_per_user(prefix_train._dataset, False)
    for ours, recbole in ((seq_config["valid_data"], prefix_config["valid_data"]), (seq_test, prefix_test)):
        assert (ours is None) == (recbole is None)
        if recbole is not None:
            assert len(ours._dataset) == len(recbole._dataset)
            for field in recbole._dataset.inter_feat.interaction:
                torch.testing.assert_close(ours._dataset.inter_feat[field], recbole._dataset.inter_feat[field],
                                           rtol=0, atol=0, msg=field)


@pytest.mark.parametrize("max_length", [5, 20])
def test_sequence_mode_counts_items_as_the_prefix_mode(settings, max_length):
    """item_counter (popularity metrics, popularity sampling) counts every training target, as RecBole's prefix
    rows do, though the sequence mode keeps only the rows that end a window."""
    _, prefix_train, _ = split(settings, MAX_ITEM_LIST_LENGTH=max_length)
    _, seq_train, _ = split(settings, MAX_ITEM_LIST_LENGTH=max_length, train_mode="sequence")
    assert len(seq_train._dataset) < len(prefix_train._dataset)
    assert seq_train._dataset.item_counter == prefix_train._dataset.item_counter
    assert seq_train._dataset.user_counter == prefix_train._dataset.user_counter


@pytest.mark.parametrize("overrides", [
    {"benchmark_filename": ["train", "valid", "test"]},
    {"eval_args": {"split": {"RS": [0.8, 0.1, 0.1]}, "order": "TO", "group_by": "user", "mode": "full"}},
])
def test_sequence_mode_refuses_splits_it_cannot_rebuild(settings, overrides):
    with pytest.raises(ConfigurationError, match="train_mode 'sequence'.*train_mode: prefix"):
        create_dataset(Config(model="FAME", dataset="tiny", config_dict=settings(train_mode="sequence", **overrides)))
