"""Peak resident memory of this process, and resetting it between measurements (Linux)."""

from __future__ import annotations


def peak_rss_mb() -> float:
    """VmHWM of this process in MiB (peak resident set since start or the last reset)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # the file reports kB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")  # 5 = reset the peak RSS counter (Linux >= 4.0)
        return True
    except OSError:
        return False
