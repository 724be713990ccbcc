"""train_exclude_history: each training target's softmax without the items its sequence holds before it."""

import pytest
import torch
import torch.nn.functional as F

from recbole_fame import Config, create_dataset, data_preparation, get_model, run_recbole_fame
from recbole_fame.errors import ConfigurationError
from recbole_fame.model.sequence_loss import earlier_items_at_every_position, hide_earlier_items


def split(settings, model, **overrides):
    config = Config(model=model, dataset="tiny", config_dict=settings(**overrides))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    return config, train_data


def brute_force_loss(scores, item_seq, item_seq_len, targets):
    """Mean CE of each row's scores with its sequence's earlier items (not the target) and item 0 removed."""
    losses = []
    for row, seq, n, target in zip(scores, item_seq, item_seq_len.tolist(), targets.tolist()):
        row = row.clone()
        for item in seq[:n].tolist():
            if item != target:
                row[item] = float("-inf")
        row[0] = float("-inf")
        losses.append(-F.log_softmax(row, dim=0)[target])
    return torch.stack(losses).mean()


@pytest.mark.parametrize("model_name", ["FAME", "SASRecSeq"])
def test_prefix_loss_leaves_the_sequences_items_out_of_the_softmax(settings, model_name):
    config, train = split(settings, model_name, train_exclude_history=True)
    torch.manual_seed(0)
    model = get_model(model_name)(config, train._dataset).double().eval()
    rows = train._dataset.inter_feat[:32]
    item_seq, item_seq_len = rows[model.ITEM_SEQ], rows[model.ITEM_SEQ_LEN]
    targets = rows[model.POS_ITEM_ID]
    assert (item_seq_len > 1).any()
    with torch.no_grad():
        scores = model.full_sort_predict(rows)  # [B, V], the same network output the loss reads in eval mode
        hidden = model.calculate_loss(rows)
        model.train_exclude_history = False
        kept = model.calculate_loss(rows)
    expected = brute_force_loss(scores, item_seq, item_seq_len, targets)
    torch.testing.assert_close(hidden, expected, atol=1e-10, rtol=0)
    assert hidden < kept  # fewer competitors, a smaller loss: the setting changes what is trained


@pytest.mark.parametrize("model_name", ["FAME", "SASRecSeq"])
def test_sequence_loss_equals_the_prefix_losses_with_the_same_items_left_out(settings, model_name):
    """Every position of a whole sequence leaves out the items before its own target, as its prefix sample does."""
    _, prefix_train = split(settings, model_name, MAX_ITEM_LIST_LENGTH=20, train_exclude_history=True)
    config, seq_train = split(settings, model_name, MAX_ITEM_LIST_LENGTH=20, train_mode="sequence",
                              sequence_loss_weighting="batch", train_exclude_history=True)
    torch.manual_seed(0)
    model = get_model(model_name)(config, seq_train._dataset).double().eval()
    dataset = seq_train._dataset
    seq = dataset.inter_feat[:1]
    assert seq[dataset.item_list_length_field].item() > 3
    prefix = prefix_train._dataset.inter_feat
    rows = prefix[prefix[prefix_train._dataset.uid_field] == seq[dataset.uid_field].item()]
    with torch.no_grad():
        sequence_loss = model.calculate_loss(seq)
        model.train_mode = "prefix"
        prefix_loss = model.calculate_loss(rows)
        model.train_exclude_history = False
        prefix_loss_kept = model.calculate_loss(rows)
    torch.testing.assert_close(sequence_loss, prefix_loss, atol=1e-10, rtol=0)
    assert not torch.isclose(prefix_loss, prefix_loss_kept)


def test_a_target_repeated_in_its_sequence_stays_in_its_softmax():
    logits = torch.zeros(2, 6)
    earlier = torch.tensor([[3, 4, 0], [2, 5, 5]])
    out = hide_earlier_items(logits, earlier, torch.tensor([4, 5]))
    assert out[0].tolist() == [float("-inf"), 0, 0, float("-inf"), 0, 0]
    assert out[1].tolist() == [float("-inf"), 0, float("-inf"), 0, 0, 0]
    assert logits.eq(0).all()  # out of place


def test_earlier_items_of_each_position_are_the_causal_prefix():
    seq = torch.tensor([[7, 8, 9, 0]])
    assert earlier_items_at_every_position(seq, 3)[0].tolist() == [[7, 0, 0], [7, 8, 0], [7, 8, 9]]


def test_models_whose_loss_ignores_it_are_refused(settings):
    with pytest.raises(ConfigurationError, match="use it with FAME or SASRecSeq"):
        split(settings, "SASRec", train_exclude_history=True)


def test_runner_trains_fame_in_sequence_mode_with_it_and_keeps_it_in_the_checkpoint(settings):
    result = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(
        train_mode="sequence", train_exclude_history=True, eval_exclude_history=True, epochs=1))
    assert 0 <= result["test_result"]["ndcg@10"] <= 1
    checkpoint = torch.load(result["saved_model_file"], map_location="cpu", weights_only=False)
    assert checkpoint["config"]["train_exclude_history"] is True


def test_runner_refuses_it_for_recboles_sasrec(settings):
    with pytest.raises(ConfigurationError, match="SASRec's loss does not do"):
        run_recbole_fame(model="SASRec", dataset="tiny", config_dict=settings(train_exclude_history=True))
