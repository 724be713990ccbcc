"""FAME's last layer against a plain, loop-based re-implementation of the paper's Eq. 7-17."""

import math

import pytest
import torch
from recbole.data import data_preparation

from recbole_fame import FAME, Config, create_dataset
from recbole_fame.model.layers import trim_padding
from tests.conftest import tiny_settings


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    config = Config(model="FAME", dataset="tiny", config_dict=tiny_settings(tmp_path_factory.mktemp("eq")))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    return config, train_data._dataset


def build(tiny_dataset, **settings):
    config, dataset = tiny_dataset
    for key, value in settings.items():
        config[key] = value
    torch.manual_seed(0)
    model = FAME(config, dataset).double().eval()
    for param in model.parameters():  # non-trivial values everywhere, biases included
        param.data.normal_(0, 0.3)
    return model


def random_batch(model, batch=3, length=7):
    torch.manual_seed(1)
    item_seq = torch.randint(1, model.n_items, (batch, length))
    item_seq_len = torch.tensor([length, 4, 1])[:batch]
    for row, n in enumerate(item_seq_len):
        item_seq[row, n:] = 0
    return item_seq, item_seq_len


def lower_layers(model, item_seq):
    """The last layer's input x: embeddings and SASRec's lower layers (RecBole's code)."""
    positions = torch.arange(item_seq.size(1)).unsqueeze(0)
    hidden = model.LayerNorm(model.item_embedding(item_seq) + model.position_embedding(positions))
    return model.trm_encoder(hidden, model.get_attention_mask(item_seq), output_all_encoded_layers=False)[-1]


def layer_norm(x, weight, bias, eps):
    mean = sum(x) / len(x)
    var = sum((xi - mean) ** 2 for xi in x) / len(x)
    return [(xi - mean) / math.sqrt(var + eps) * w + b for xi, w, b in zip(x, weight, bias)]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def softmax(values):
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return [e / sum(exps) for e in exps]


def reference(model, x, t):
    """Eq. 12-17, then Eq. 7-11, for one sequence whose last valid position is t; plain Python loops."""
    H, N = model.n_heads, model.num_experts
    d = model.hidden_size
    dh = d // H
    att = model.moe_attention
    Wk, bk = att.key.weight.tolist(), att.key.bias.tolist()
    Wv, bv = att.value.weight.tolist(), att.value.bias.tolist()
    Wq = att.expert_query.tolist()  # [H][N][d][d']
    ffn = model.head_ffn
    W1, b1 = ffn.dense_1.weight.tolist(), ffn.dense_1.bias.tolist()
    W2, b2 = ffn.dense_2.weight.tolist(), ffn.dense_2.bias.tolist()
    ln_w, ln_b = ffn.LayerNorm.weight.tolist(), ffn.LayerNorm.bias.tolist()
    xs = x.tolist()

    head_states, expert_weights = [], []
    for h in range(H):
        rows = range(h * dh, (h + 1) * dh)
        keys = [[dot(Wk[r], xs[j]) + bk[r] for r in rows] for j in range(t + 1)]  # Eq. 13
        values = [[dot(Wv[r], xs[j]) + bv[r] for r in rows] for j in range(t + 1)]
        expert_out = []
        for n in range(N):
            q = [sum(xs[t][i] * Wq[h][n][i][k] for i in range(d)) for k in range(dh)]  # Eq. 12
            alpha = softmax([dot(q, keys[j]) / math.sqrt(dh) for j in range(t + 1)])  # Eq. 14
            expert_out.append([sum(alpha[j] * values[j][k] for j in range(t + 1)) for k in range(dh)])  # Eq. 15
        if N > 1:
            concat = [v for out in expert_out for v in out]
            router = att.router[h].tolist()  # [N*d'][N]
            beta = softmax([sum(concat[c] * router[c][n] for c in range(N * dh)) for n in range(N)])  # Eq. 16
        else:
            beta = [1.0]
        f = [sum(beta[n] * expert_out[n][k] for n in range(N)) for k in range(dh)]  # Eq. 17
        if att.residual:  # the optional residual: head h's slice of x_t
            f = [f[k] + xs[t][h * dh + k] for k in range(dh)]
        inner = [max(0.0, dot(W1[r], f) + b1[r]) for r in range(dh)]
        ffn_out = [dot(W2[r], inner) + b2[r] for r in range(dh)]
        head_states.append(layer_norm([a + b for a, b in zip(f, ffn_out)], ln_w, ln_b, model.layer_norm_eps))  # Eq. 7
        expert_weights.append(beta)

    if H > 1:
        Wg, bg = model.facet_prediction.gate.weight.tolist(), model.facet_prediction.gate.bias.tolist()
        concat = [v for state in head_states for v in state]
        gate = softmax([dot(Wg[h], concat) + bg[h] for h in range(H)])  # Eq. 10
    else:
        gate = [1.0]
    Wf = model.facet_prediction.facet_projection.tolist()  # [H][d][d']
    items = model.item_embedding.weight.tolist()
    head_scores = []
    for h in range(H):
        sub = [[sum(item[i] * Wf[h][i][k] for i in range(d)) for k in range(dh)] for item in items]  # Eq. 9
        head_scores.append([dot(s, head_states[h]) for s in sub])  # Eq. 8
    fused = [sum(gate[h] * head_scores[h][v] for h in range(H)) for v in range(len(items))]  # Eq. 11
    mixture = [
        math.log(sum(gate[h] * softmax(head_scores[h])[v] for h in range(H))) for v in range(len(items))
    ]
    return head_states, expert_weights, gate, head_scores, fused, mixture


@pytest.mark.parametrize("n_heads,num_experts,residual", [(2, 3, False), (4, 1, False), (1, 2, False), (2, 2, True)])
def test_forward_matches_loop_reference(tiny_dataset, n_heads, num_experts, residual):
    model = build(tiny_dataset, n_heads=n_heads, num_experts=num_experts, hidden_size=16, head_mixing="logits",
                  attention_residual=residual)
    item_seq, item_seq_len = random_batch(model)
    out = model.explain(item_seq, item_seq_len)
    x = lower_layers(model, item_seq)
    head_states, _, _ = model.encode(item_seq, item_seq_len)
    for b, length in enumerate(item_seq_len.tolist()):
        states, betas, gate, head_scores, fused, _ = reference(model, x[b], length - 1)
        torch.testing.assert_close(head_states[b], torch.tensor(states, dtype=torch.float64), atol=1e-5, rtol=0)
        torch.testing.assert_close(out["expert_weights"][b], torch.tensor(betas, dtype=torch.float64), atol=1e-5, rtol=0)
        torch.testing.assert_close(out["gate"][b], torch.tensor(gate, dtype=torch.float64), atol=1e-5, rtol=0)
        torch.testing.assert_close(out["head_scores"][b], torch.tensor(head_scores, dtype=torch.float64), atol=1e-5, rtol=0)
        torch.testing.assert_close(out["scores"][b], torch.tensor(fused, dtype=torch.float64), atol=1e-5, rtol=0)


def test_scale_by_heads_multiplies_the_fused_logits_by_h(tiny_dataset):
    plain = build(tiny_dataset, n_heads=4, num_experts=2, hidden_size=16, head_mixing="logits", attention_residual=False)
    try:
        scaled = build(tiny_dataset, n_heads=4, num_experts=2, hidden_size=16, head_mixing="logits",
                       attention_residual=False, scale_by_heads=True)
    finally:
        tiny_dataset[0]["scale_by_heads"] = False  # the fixture's config is shared
    item_seq, item_seq_len = random_batch(plain)
    interaction = {plain.ITEM_SEQ: item_seq, plain.ITEM_SEQ_LEN: item_seq_len}
    torch.testing.assert_close(scaled.full_sort_predict(interaction), 4 * plain.full_sort_predict(interaction))


def test_probability_mixing_matches_reference(tiny_dataset):
    model = build(tiny_dataset, n_heads=2, num_experts=2, hidden_size=16, head_mixing="probs", attention_residual=False)
    item_seq, item_seq_len = random_batch(model)
    scores = model.full_sort_predict({model.ITEM_SEQ: item_seq, model.ITEM_SEQ_LEN: item_seq_len})
    x = lower_layers(model, item_seq)
    for b, length in enumerate(item_seq_len.tolist()):
        mixture = reference(model, x[b], length - 1)[5]
        torch.testing.assert_close(scores[b], torch.tensor(mixture, dtype=torch.float64), atol=1e-5, rtol=0)


def test_all_positions_equal_last_position(tiny_dataset):
    """The all-position path (sequence training) gives each position what the one-position path gives."""
    model = build(tiny_dataset, n_heads=2, num_experts=3, hidden_size=16)
    item_seq, item_seq_len = random_batch(model)
    every, gate_every, beta_every = model.encode(item_seq, item_seq_len, all_positions=True)
    for b, length in enumerate(item_seq_len.tolist()):
        for t in range(length):
            prefix, prefix_len = item_seq[b : b + 1, : t + 1], torch.tensor([t + 1])
            one, gate, beta = model.encode(prefix, prefix_len)
            torch.testing.assert_close(every[b, t], one[0], atol=1e-9, rtol=0)
            torch.testing.assert_close(gate_every[b, t], gate[0], atol=1e-9, rtol=0)
            torch.testing.assert_close(beta_every[b, t], beta[0], atol=1e-9, rtol=0)


def test_causality_later_items_do_not_change_earlier_positions(tiny_dataset):
    model = build(tiny_dataset, n_heads=2, num_experts=2, hidden_size=16)
    item_seq = torch.tensor([[3, 5, 7, 9, 11, 13]])
    changed = item_seq.clone()
    changed[0, 4] = 20
    length = torch.tensor([6])
    before, _, _ = model.encode(item_seq, length, all_positions=True)
    after, _, _ = model.encode(changed, length, all_positions=True)
    torch.testing.assert_close(before[:, :4], after[:, :4], atol=1e-12, rtol=0)
    assert not torch.allclose(before[:, 4:], after[:, 4:])


def test_padding_is_trimmed_without_changing_scores(tiny_dataset):
    model = build(tiny_dataset, n_heads=2, num_experts=2, hidden_size=16)
    item_seq, item_seq_len = random_batch(model)
    padded = torch.cat([item_seq, torch.zeros(item_seq.size(0), 5, dtype=torch.long)], dim=1)
    a = model.full_sort_predict({model.ITEM_SEQ: item_seq, model.ITEM_SEQ_LEN: item_seq_len})
    b = model.full_sort_predict({model.ITEM_SEQ: padded, model.ITEM_SEQ_LEN: item_seq_len})
    torch.testing.assert_close(a, b)


def test_trim_padding_reads_lengths_back_only_on_cpu():
    item_seq, item_seq_len = torch.tensor([[3, 4, 0, 0], [5, 0, 0, 0]]), torch.tensor([2, 1])
    assert trim_padding(item_seq, item_seq_len).shape == (2, 2)
    # on an accelerator, reading the longest length back would wait for the queued kernels; a meta tensor has
    # no values to read (int() of one raises), so it shows that nothing is read
    on_meta = item_seq.to("meta"), item_seq_len.to("meta")
    with pytest.raises(Exception):
        int(on_meta[1].max())
    assert trim_padding(*on_meta).shape == (2, 4)


def test_untrimmed_batches_score_as_trimmed_ones(tiny_dataset, monkeypatch):
    """What an accelerator computes (the padded batch as it is) equals the CPU's trimmed computation."""
    from recbole_fame.model.sequential_recommender import fame

    model = build(tiny_dataset, n_heads=2, num_experts=2, hidden_size=16)
    item_seq, item_seq_len = random_batch(model)
    padded = {model.ITEM_SEQ: torch.cat([item_seq, torch.zeros(3, 5, dtype=torch.long)], dim=1),
              model.ITEM_SEQ_LEN: item_seq_len}
    trimmed = model.full_sort_predict(padded)
    monkeypatch.setattr(fame, "trim_padding", lambda seq, lengths: seq)
    untrimmed = model.full_sort_predict(padded)
    torch.testing.assert_close(untrimmed, trimmed)
