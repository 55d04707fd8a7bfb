"""Measuring text: a response's log-likelihood under a model (score.py), the exact KL of
students from a teacher on given responses (kl.py), sentence embeddings (embeddings.py)
and the in-character classifier on them (classifier.py)."""
