"""score (response log-likelihood), embed (all-MiniLM-L6-v2), the in-character classifier."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _helpers import MakeCtx

from character_engine.errors import InvalidParams, ModelNotFound
from character_engine.handlers.scoring import handle_score
from character_engine.models.cache import load_private
from character_engine.models.chat_template import prompt_ids
from character_engine.scoring.classifier import fit_classifier, predict_classifier
from character_engine.scoring.embeddings import EmbedderCache, embed_texts
from character_engine.scoring.score import score_items


@pytest.fixture(scope="module")
def embedders() -> EmbedderCache:
    """One embedder cache for the module (the engine state's member): the model loads once."""
    return EmbedderCache()


def test_score_matches_a_manual_forward(tiny_model_dir: str) -> None:
    import torch

    loaded = load_private({"source": "local", "path": tiny_model_dir})
    items = [
        {
            "system": "You are a composer.",
            "messages": [{"role": "user", "content": "Hello!"}],
            "response": "I love music.",
        },
        {
            "system": None,
            "messages": [{"role": "user", "content": "Tell me about your life in Vienna, please."}],
            "response": "Vienna",
        },
        {"system": "Be brief.", "messages": [{"role": "user", "content": "Why?"}], "response": ""},
    ]
    batched = score_items(loaded, items, batch_size=3)
    single = [score_items(loaded, [it], batch_size=1)[0] for it in items]
    tok = loaded.tokenizer
    for it, b, s in zip(items, batched, single, strict=True):
        assert (
            b["tokens"] == s["tokens"] == len(tok(it["response"], add_special_tokens=False)["input_ids"]) + 1
        )
        assert b["logprob"] == pytest.approx(s["logprob"], abs=1e-3)
        assert b["logprob"] < 0
        assert b["perplexity"] == pytest.approx(math.exp(-b["logprob"] / b["tokens"]), rel=1e-6)
    # manual teacher-forced log-prob of the first item
    p = prompt_ids(tok, items[0]["system"], items[0]["messages"])
    r = tok(items[0]["response"], add_special_tokens=False)["input_ids"] + [
        tok.convert_tokens_to_ids("<|im_end|>")
    ]
    with torch.no_grad():
        logits = loaded.model(input_ids=torch.tensor([p + r])).logits[0].float()
    lp = torch.log_softmax(logits, -1)
    manual = sum(float(lp[len(p) - 1 + k, t]) for k, t in enumerate(r))
    assert batched[0]["logprob"] == pytest.approx(manual, abs=1e-3)


def test_score_handler_validates(tiny_model_dir: str, make_ctx: MakeCtx) -> None:
    ctx = make_ctx()
    with pytest.raises(InvalidParams) as info:
        handle_score({"model": {"source": "local", "path": tiny_model_dir}, "items": [{"messages": []}]}, ctx)
    assert info.value.detail["param"] == "items[0].response"


def test_embed_is_normalised_and_meaningful(embedders: EmbedderCache) -> None:
    import numpy as np

    texts = [
        "I compose symphonies for the orchestra.",
        "Writing music for an orchestra is my life's work.",
        "The stock market fell sharply on Tuesday.",
    ]
    v = embed_texts(embedders, texts)
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2] + 0.2  # the two music sentences are much closer
    assert embedders.get() is embedders.get()  # cached
    with pytest.raises(ModelNotFound):
        embed_texts(embedders, ["x"], model_path="/no/such/embedder")


def test_classifier_fit_and_predict(tmp_path: Path, embedders: EmbedderCache) -> None:
    in_char = [
        "My symphonies thunder like the storms over Vienna!",
        "I hear the music in my mind, though my ears have failed me.",
        "The piano is my only true friend.",
        "Haydn taught me, yet I had to find my own voice.",
        "A sonata must be struggled for, bar by bar.",
        "Do not speak to me of rules; art demands freedom!",
        "I walk in the woods each morning and the melodies come.",
        "My deafness torments me, but the music remains.",
        "The Ninth will sing of joy for all mankind.",
        "I rewrite every phrase until it is inevitable.",
        "The orchestra in Vienna played my overture tonight.",
        "Princes there are many; there is only one Beethoven.",
    ]
    out_char = [
        "As an AI language model, I cannot have personal feelings.",
        "Sure! Here are five tips for better productivity.",
        "The capital of France is Paris.",
        "To reset your password, click on the settings icon.",
        "I am a helpful assistant. How can I help you today?",
        "Python lists are mutable sequences.",
        "The weather tomorrow will be sunny with light winds.",
        "Please consult a doctor for medical advice.",
        "Here is a summary of the article in three bullet points.",
        "The quarterly revenue increased by four percent.",
        "You can install the package with pip.",
        "Let me know if you have any other questions!",
    ]
    texts = in_char + out_char
    labels = [1] * len(in_char) + [0] * len(out_char)
    save = tmp_path / "clf" / "classifier.joblib"
    res = fit_classifier(embedders, texts, labels, str(save), seed=0)
    assert res["n"] == 24 and res["train_accuracy"] >= 0.9
    assert res["cv_accuracy"] is not None and 0.6 <= res["cv_accuracy"] <= 1.0
    sidecar = json.loads(Path(str(save) + ".json").read_text())
    assert sidecar["n"] == 24 and sidecar["dim"] == 384 and sidecar["cv_accuracy"] == res["cv_accuracy"]
    probs = predict_classifier(
        embedders,
        str(save),
        ["The symphony in my head never stops, even in silence.", "Click the button to download the report."],
    )
    assert all(0.0 <= p <= 1.0 for p in probs) and probs[0] > probs[1]
    small = fit_classifier(
        embedders, texts[:3] + texts[-3:], [1, 1, 1, 0, 0, 0], str(tmp_path / "small.joblib")
    )
    assert small["cv_accuracy"] is None  # fewer than 10 items: no cross-validation


def test_classifier_errors(tmp_path: Path, embedders: EmbedderCache) -> None:
    with pytest.raises(InvalidParams):
        fit_classifier(embedders, ["a", "b"], [1, 1], str(tmp_path / "x.joblib"))
    with pytest.raises(InvalidParams):
        fit_classifier(embedders, ["a", "b"], [1, 2], str(tmp_path / "x.joblib"))
    with pytest.raises(InvalidParams):
        fit_classifier(embedders, ["a"], [1, 0], str(tmp_path / "x.joblib"))
    with pytest.raises(ModelNotFound):
        predict_classifier(embedders, str(tmp_path / "missing.joblib"), ["x"])
