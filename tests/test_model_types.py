"""Any RecBole model through the plugin's runner: one model of each of RecBole's model types."""

import shutil

import pytest

from recbole_fame import run_recbole_fame
from tests.conftest import TEST_DATA

METRICS = {f"{m}@{k}" for m in ("hit", "ndcg") for k in (5, 10, 20)}


def knowledge_graph_data(folder):
    """tests/test_data/tiny plus the .kg and .link files RecBole's knowledge-aware models read: every item is an
    entity, linked to its brand and genre entities."""
    data = folder / "kg_data" / "tiny"
    shutil.copytree(TEST_DATA / "tiny", data)
    header, *rows = (data / "tiny.item").read_text().splitlines()
    links, triples = ["item_id:token\tentity_id:token"], ["head_id:token\trelation_id:token\ttail_id:token"]
    for row in rows:
        item, _, genres, brand = row.split("\t")
        links.append(f"{item}\te_{item}")
        triples.append(f"e_{item}\thas_brand\tbrand_{brand}")
        triples += [f"e_{item}\thas_genre\tgenre_{genre}" for genre in genres.split()]
    (data / "tiny.link").write_text("\n".join(links) + "\n")
    (data / "tiny.kg").write_text("\n".join(triples) + "\n")
    return data.parent


@pytest.mark.parametrize("model", ["BPR", "FM", "GRU4Rec", "CKE"])
def test_runner_trains_one_model_of_each_recbole_model_type(settings, tmp_path, model):
    """General (BPR), context-aware (FM: needs numpy's np.long alias, which RecBole's Config sets), sequential
    (GRU4Rec) and knowledge-aware (CKE: needs the .kg and .link files) models train and test through the runner."""
    overrides = {"epochs": 1}
    if model == "FM":  # tiny has no rating or label column: RecBole's context-aware defaults need sampled labels
        overrides["train_neg_sample_args"] = {"distribution": "uniform", "sample_num": 1}
    if model == "CKE":
        overrides.update(data_path=str(knowledge_graph_data(tmp_path)),
                         load_col={"inter": ["user_id", "item_id", "timestamp"], "kg": ["head_id", "relation_id", "tail_id"],
                                   "link": ["item_id", "entity_id"]})
    result = run_recbole_fame(model=model, dataset="tiny", config_dict=settings(**overrides), saved=True)
    assert set(result["test_result"]) == METRICS
    assert all(0 <= value <= 1 for value in result["test_result"].values())
