"""Protocol method handlers, one module per family (server.py's METHODS names each one).

A handler validates its params (InvalidParams names the parameter), takes what it needs
from the engine state (`ctx.state`: loaded models, stored prefixes, embedders), calls
the library code in generation/, scoring/, training/ or export.py and shapes the reply.
Library code never reads params dicts; handlers hold no logic beyond that seam.
"""
