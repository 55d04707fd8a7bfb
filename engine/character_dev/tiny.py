"""A tiny, randomly initialised chat model built entirely offline, for tests.

`build_tiny_model(out_dir)` trains a small byte-level BPE tokenizer on a built-in
English corpus, wraps it as a PreTrainedTokenizerFast with ChatML special tokens and
chat template, and saves it next to a random-init LlamaForCausalLM (or Qwen2) as a
local Hugging Face folder. Its text is gibberish: it exists to test mechanics
(loading, generation, training, export), never quality.

CLI: python -m character_dev.tiny OUT_DIR [--seed N] [--arch llama|qwen2]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
from pathlib import Path

# ChatML, the same shape SmolLM2 and Qwen use, without a default system message.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]

_SUBJECTS = [
    "I",
    "You",
    "We",
    "They",
    "The composer",
    "My teacher",
    "The orchestra",
    "Beethoven",
    "A young pianist",
    "The audience",
    "Mozart",
    "Haydn",
    "Your friend",
    "The critic",
]
_VERBS = [
    "love",
    "hear",
    "write",
    "play",
    "study",
    "remember",
    "admire",
    "finish",
    "imagine",
    "perform",
    "practise",
    "forget",
    "compose",
    "rehearse",
    "dislike",
]
_OBJECTS = [
    "music",
    "the symphony",
    "the piano sonata",
    "a string quartet",
    "the concerto",
    "the opera",
    "a quiet melody",
    "the final movement",
    "the overture",
    "a simple song",
    "the fugue",
    "the rhythm",
    "the harmony",
    "the score",
    "the old violin",
]
_PLACES = [
    "in Vienna",
    "in Bonn",
    "at the theatre",
    "at home",
    "in the park",
    "by the river",
    "in the concert hall",
    "at night",
    "in the morning",
    "during the winter",
    "in silence",
]
_FIXED = [
    "Hello! How are you today?",
    "I am well, thank you. And you?",
    "What is your favourite piece of music?",
    "Tell me about your life in Vienna.",
    "Music is a higher revelation than all wisdom and philosophy.",
    "The piano is my closest friend; it never lies to me.",
    "Why do you write symphonies instead of songs?",
    "Because a symphony can hold a whole world of feeling.",
    "Do you ever feel lonely?",
    "Yes, often. My deafness keeps me apart from other people.",
    "What would you say to a young musician?",
    "Practise every day, and never be satisfied with easy work.",
    "Can you explain what a sonata is?",
    "A sonata is a piece in several movements for one or two instruments.",
    "Who was your teacher?",
    "I studied with Haydn for a short time, and with others in Bonn.",
    "What do you think of modern technology?",
    "I do not know these machines, but I would like to hear what they can do.",
    "Is it true that you lost your hearing?",
    "It is true. I heard the music in my mind, even when the world went quiet.",
    "The numbers are 1, 2, 3, 10, 42, 100, 1770 and 1827.",
    "Questions? Answers! Lists: first, second, third; then (maybe) more...",
    "Please answer briefly: yes or no.",
    'She said "bravo" and the whole room applauded.',
    "It's a beautiful day, isn't it? We'll see; they're late.",
]


def build_corpus(seed: int = 0, n_generated: int = 400) -> list[str]:
    """A few hundred varied English sentences (fixed ones plus seeded combinations)."""
    rng = random.Random(seed)
    combos = list(itertools.product(_SUBJECTS, _VERBS, _OBJECTS))
    rng.shuffle(combos)
    lines = list(_FIXED)
    for subject, verb, obj in combos[:n_generated]:
        verb_form = verb if subject in ("I", "You", "We", "They") else verb + "s"
        place = rng.choice(_PLACES)
        lines.append(f"{subject} {verb_form} {obj} {place}.")
    return lines


def _train_tokenizer(corpus: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    # Byte-level: every string (any Unicode) encodes and decodes back exactly.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    return tok


def build_tiny_model(
    out_dir: str | os.PathLike[str],
    seed: int = 0,
    arch: str = "llama",
    hidden: int = 64,
    layers: int = 2,
    vocab_size: int = 1024,
    init_range: float = 0.1,
) -> str:
    """Build and save a tiny random chat model; returns the folder path.

    init_range (std of the random weights) is larger than the usual 0.02 so that the
    tied 64-wide embeddings can express confident predictions: with 0.02 the logits
    of any hidden state stay within about +-1.5 and no fine-tune can lower the loss much.
    """
    import torch
    from transformers import PreTrainedTokenizerFast

    if arch not in ("llama", "qwen2"):
        raise ValueError(f"arch must be 'llama' or 'qwen2', got {arch!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    raw = _train_tokenizer(build_corpus(seed), vocab_size)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<pad>",
        unk_token=None,
        additional_special_tokens=["<|endoftext|>"],
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.model_max_length = 2048

    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=init_range,
    )
    torch.manual_seed(seed)
    if arch == "llama":
        from transformers import LlamaConfig, LlamaForCausalLM

        model = LlamaForCausalLM(LlamaConfig(**common))
    else:
        from transformers import Qwen2Config, Qwen2ForCausalLM

        model = Qwen2ForCausalLM(Qwen2Config(**common))
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "TINY_RANDOM_MODEL.json").write_text(
        json.dumps(
            {
                "note": "tiny randomly initialised model for tests; its output is meaningless",
                "arch": arch,
                "hidden": hidden,
                "layers": layers,
                "seed": seed,
            },
            indent=2,
        )
    )
    return str(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a tiny random chat model for tests.")
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arch", default="llama", choices=["llama", "qwen2"])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    args = parser.parse_args(argv)
    path = build_tiny_model(
        args.out_dir, seed=args.seed, arch=args.arch, hidden=args.hidden, layers=args.layers
    )
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
