"""No engine outlives the process that started it: the parent sets CHARACTER_ENGINE_PARENT_PID
(src-main/engine/client.ts, model-server.ts), and when that process is gone, whatever ended it
(kill -9, the desktop app quitting), the engine stops. An orphaned engine once kept a port, or
trained on for 60-90 s into a run's files after its owner died."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

log = logging.getLogger("character_engine.parent")

PARENT_PID_ENV = "CHARACTER_ENGINE_PARENT_PID"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM when the parent dies, whatever killed it (kill -9 too)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the watch below still ends the server


def watch_parent(parent_pid: str | None, stop: Any, every_s: float = 0.5) -> None:
    """When the process that started the server (CHARACTER_ENGINE_PARENT_PID) is gone, stop:
    no engine outlives its parent, whatever signal ended the parent. A parent that exits is seen
    as a changed parent pid (we are re-parented to init or a subreaper)."""
    if not parent_pid or not parent_pid.isdigit():
        return
    expected = int(parent_pid)
    if os.getppid() != expected:
        # Started through a wrapper (the pid given is not our parent): nothing to watch safely.
        log.info("parent pid %s is not this process's parent: not watching it", expected)
        return
    die_with_parent()

    def loop() -> None:
        while os.getppid() == expected:
            time.sleep(every_s)
        log.info("parent process %s is gone: stopping the server", expected)
        stop()

    threading.Thread(target=loop, name="parent-watch", daemon=True).start()


def terminate_self() -> None:
    """What the protocol engine does when its parent is gone: the SIGTERM the kernel would send."""
    os.kill(os.getpid(), signal.SIGTERM)
