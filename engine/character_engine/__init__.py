"""Character Studio's Python engine: the only Python in the project.

Spawned by the TypeScript main process; speaks JSON lines on stdin/stdout
(see PROTOCOL.md and src-shared/engine-protocol.ts).
"""

__version__ = "0.1.0"
