"""Measuring text: a response's log-likelihood under a model (score.py), sentence
embeddings (embeddings.py) and the in-character classifier on them (classifier.py)."""
