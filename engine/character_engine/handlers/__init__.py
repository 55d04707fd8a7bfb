"""Protocol method handlers, one module per family (server.py's METHODS names each one).

A handler validates its params (InvalidParams names the parameter), takes what it needs
from the engine state (`ctx.state`: loaded models, stored prefixes, embedders), calls
the library code in generation/, scoring/, training/ or export.py and shapes the reply.
Library code takes typed configs, not params dicts (training/run.py takes the TrainConfig the
training handlers parse); the parsers that build those configs (training/config.parse_config)
and the Tinker backend, whose handlers pass the request through whole (tinker_backend/ parses
it), are where params are read. Handlers hold no logic beyond that seam.
"""
