from recbole_fame.model.sequential_recommender.fame import FAME
from recbole_fame.model.sequential_recommender.fametextpretrain import FAMETextPretrain
from recbole_fame.model.sequential_recommender.sasrecseq import SASRecSeq

__all__ = ["FAME", "FAMETextPretrain", "SASRecSeq"]
