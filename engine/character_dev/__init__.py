"""Development tools for Character Studio's engine, not part of it: the tiny random test
model (`tiny.py`) and the engine benchmark (`bench/`). Installed next to character_engine
by `pip install -e engine` (scripts/setup.sh); left out of a built character_engine wheel."""
