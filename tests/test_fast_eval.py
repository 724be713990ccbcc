"""Evaluation computes only what is scored, with the same values: torch's fused gelu for RecBole's Python gelu,
and SASRecSeq's last layer only at the scored position."""

import pytest
import torch
from recbole.model.layers import FeedForward, TransformerEncoder

from recbole_fame import Config, create_dataset, data_preparation, get_model
from recbole_fame.model.transformer import encode_last_position, use_fused_gelu
from tests.conftest import seed_everything


def split(settings, **overrides):
    config = Config(model=overrides.pop("model", "FAME"), dataset="tiny", config_dict=settings(**overrides))
    train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
    return config, train_data, valid_data, test_data


def rounding_excess(actual, expected, x, roundings):
    """How far ``actual`` lies outside ``roundings`` roundings of its dtype from ``expected`` (<= 0: inside
    everywhere), computed in float64. A rounding is scaled by |x| + |expected|: 1 + erf(x / sqrt 2) cancels for
    negative x, so an error of one rounding of 1 is multiplied by |x|, however small gelu(x) is there."""
    finfo = torch.finfo(actual.dtype)
    x, actual, expected = x.double(), actual.double(), expected.double()
    bound = roundings * finfo.eps * (x.abs() + expected.abs()) + finfo.tiny
    return ((actual - expected).abs() - bound).max().item()


def gelu_and_gradient(gelu, x):
    x = x.detach().requires_grad_(True)
    value = gelu(x)
    gradient, = torch.autograd.grad(value.sum(), x)
    return value.detach(), gradient


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_gelu_is_recbole_gelu(dtype):
    """RecBole's gelu is the erf form, x * 0.5 * (1 + erf(x / sqrt(2))); torch's default gelu is the same function:
    values and gradients agree to a few roundings of the dtype (in float32 both are checked against float64).
    Measured worst on 4 million points: 1.6 roundings for the values, 4.6 for torch's gradient; the bound is 32,
    and torch's tanh approximation of gelu, a different function, is ~1500 roundings off."""
    seed_everything()  # the layer's initial weights (unused: its gelu alone is compared)
    layer = FeedForward(8, 16, 0.0, "gelu", 1e-12)
    generator = torch.Generator().manual_seed(0)
    x = torch.cat([torch.linspace(-14, 14, 28001, dtype=dtype), torch.randn(10000, generator=generator, dtype=dtype) * 4])
    if dtype == torch.float32:
        exact = gelu_and_gradient(torch.nn.functional.gelu, x.double())
        for gelu in (layer.gelu, torch.nn.functional.gelu):
            for computed, expected in zip(gelu_and_gradient(gelu, x), exact):
                assert computed.dtype == torch.float32
                assert rounding_excess(computed, expected, x, roundings=32) <= 0
        tanh, _ = gelu_and_gradient(lambda v: torch.nn.functional.gelu(v, approximate="tanh"), x)
        assert rounding_excess(tanh, exact[0], x, roundings=32) > 0  # the check tells the two functions apart
    else:  # no wider dtype to compare with: the two float64 computations against each other
        for fused, reference in zip(gelu_and_gradient(torch.nn.functional.gelu, x), gelu_and_gradient(layer.gelu, x)):
            assert rounding_excess(fused, reference, x, roundings=64) <= 0


def test_fused_gelu_is_set_on_the_plugin_models_only(settings):
    """FAME's lower layers and SASRecSeq's layers use the fused gelu; RecBole's class and RecBole's SASRec keep theirs."""
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    from recbole.model.sequential_recommender import SASRec

    config, train_data, _, _ = split(settings, model="SASRecSeq", loss_type="CE")
    dataset = train_data._dataset
    ours = get_model("SASRecSeq")(config, dataset)
    feed_forwards = [m for m in ours.modules() if isinstance(m, FeedForward)]
    assert feed_forwards and all(m.intermediate_act_fn is torch.nn.functional.gelu for m in feed_forwards)
    recbole = SASRec(config, dataset)
    assert all(m.intermediate_act_fn.__func__ is FeedForward.gelu for m in recbole.modules() if isinstance(m, FeedForward))
    config, train_data, _, _ = split(settings, model="FAME", n_layers=3)
    fame = get_model("FAME")(config, train_data._dataset)
    feed_forwards = [m for m in fame.trm_encoder.modules() if isinstance(m, FeedForward)]
    assert len(feed_forwards) == 2 and all(m.intermediate_act_fn is torch.nn.functional.gelu for m in feed_forwards)
    assert set(fame.state_dict()) == set(get_model("FAME")(config, train_data._dataset).state_dict())
    relu = TransformerEncoder(n_layers=1, hidden_act="relu")
    assert use_fused_gelu(relu) == 0  # other activations are left alone


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_last_position_encoding_is_the_encoder_output_there(n_layers):
    torch.manual_seed(0)
    encoder = TransformerEncoder(n_layers=n_layers, n_heads=2, hidden_size=16, inner_size=32).eval()
    batch, length = 7, 9
    hidden = torch.randn(batch, length, 16)
    lengths = torch.tensor([1, 9, 3, 4, 9, 2, 5])
    valid = torch.arange(length)[None, :] < lengths[:, None]
    causal = torch.tril(torch.ones(length, length, dtype=torch.bool))
    mask = torch.where(valid[:, None, None, :] & causal, 0.0, -10000.0)
    full = encoder(hidden, mask, output_all_encoded_layers=False)[-1][torch.arange(batch), lengths - 1]
    torch.testing.assert_close(encode_last_position(encoder, hidden, mask, lengths - 1), full, atol=1e-5, rtol=1e-5)


def test_sasrecseq_scores_only_the_last_position_at_evaluation(settings):
    """In eval mode SASRecSeq's last feed-forward sees one position per sequence; scores are RecBole's SASRec's
    (float32, and float64 to 1e-12)."""
    from recbole.model.sequential_recommender import SASRec

    config, train_data, _, test_data = split(settings, model="SASRecSeq", loss_type="CE")
    dataset = train_data._dataset
    torch.manual_seed(0)
    ours = get_model("SASRecSeq")(config, dataset).eval()
    recbole = SASRec(config, dataset).eval()
    recbole.load_state_dict(ours.state_dict())
    shapes = []
    ours.trm_encoder.layer[-1].feed_forward.register_forward_hook(lambda m, args, out: shapes.append(tuple(args[0].shape)))
    batch = next(iter(test_data))[0]
    with torch.no_grad():
        torch.testing.assert_close(ours.full_sort_predict(batch), recbole.full_sort_predict(batch), atol=1e-5, rtol=1e-5)
        assert shapes == [(len(batch), 1, config["hidden_size"])]
        ours.double(), recbole.double()
        torch.testing.assert_close(ours.full_sort_predict(batch), recbole.full_sort_predict(batch), atol=1e-12, rtol=0)
    ours.train()
    shapes.clear()
    ours.calculate_loss(train_data._dataset.inter_feat[:8])
    assert shapes[0][1] > 1  # training keeps RecBole's computation at every position


@pytest.mark.parametrize("model_name", ["FAME", "SASRecSeq"])
def test_compile_model_is_opt_in_and_wraps_the_step_and_the_scoring(settings, model_name):
    """compile_model: False (the default) leaves the model as it is; True hands calculate_loss and
    full_sort_predict to torch.compile (lazily: nothing is compiled until called; benchmarks/recipes/gpu_fast_path.sh
    runs it), with the same parameters."""
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    config, train_data, _, _ = split(settings, model=model_name, loss_type="CE")
    plain = get_model(model_name)(config, train_data._dataset)
    assert "calculate_loss" not in vars(plain) and "full_sort_predict" not in vars(plain)
    config["compile_model"] = True
    compiled = get_model(model_name)(config, train_data._dataset)
    for name in ("calculate_loss", "full_sort_predict"):
        wrapped = vars(compiled)[name]
        assert wrapped is not getattr(type(compiled), name) and callable(wrapped)
    assert set(compiled.state_dict()) == set(plain.state_dict())
