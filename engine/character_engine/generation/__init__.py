"""Batched chat generation with a shared-prefix KV cache.

The sampling loop is our own (not model.generate) so a prompt prefix shared by all
items -- the character's system prompt, often hundreds of tokens -- is run through
the model once and its KV cache reused for every batch. Layout of one batch with a
cached prefix of length L:

    [ prefix (L, from cache) | left pads (masked) | item suffix ] -> new tokens

Pads sit in the middle, masked out by the 2-D attention mask; position ids are given
explicitly, so every item sees exactly the positions it would have unpadded and
greedy outputs match the uncached path.

The prefix's keys/values are stored once, not once per sequence: prefix_attention.py
scores every row against that single copy. Items that finish leave the batch.

  sampling.py      Sampling settings and the choice of the next token (greedy, top-p,
                   repetition penalty, n-gram ban)
  topk_capture.py  the raw logits' top-k per generated token, for distillation files
  prefix_cache.py  PrefixCache (an engine-state member): which prefix to share, its KV
  decode_loop.py   generate_items: batches, the decode loop, streaming, timings
"""
