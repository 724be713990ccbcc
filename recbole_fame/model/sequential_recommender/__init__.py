from recbole_fame.model.sequential_recommender.fame import FAME

__all__ = ["FAME"]
