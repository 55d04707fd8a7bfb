"""scripts/gpu-check.sh on a machine without a GPU (a clear "no GPU" and exit code 3, nothing
run), and its measuring half (character_dev.gpu_check) on the cpu with the tiny model: the
JSON summary it writes, and a failed pytest run making the summary (and the exit) fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from character_engine.devices import available_devices

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
JUNIT_OK = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0"
failures="0" skipped="1" tests="3" time="1.5"><testcase classname="tests.test_devices" name="a"/>
</testsuite></testsuites>"""
JUNIT_FAILED = JUNIT_OK.replace('failures="0"', 'failures="1"').replace(
    '<testcase classname="tests.test_devices" name="a"/>',
    '<testcase classname="tests.test_devices" name="b"><failure message="x"/></testcase>',
)


@pytest.mark.skipif(available_devices() != ["cpu"], reason="this machine has a GPU")
def test_without_a_gpu_the_script_says_so_and_exits_3(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu-check.sh"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (3, 4), done.stderr
    assert "no GPU" in done.stderr or "cannot use it" in done.stderr
    assert not out.exists()


def test_bad_usage_is_exit_2() -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu-check.sh"), "--frobnicate"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "unknown option" in done.stderr


def run_check(tmp_path: Path, junit: str) -> tuple[int, dict]:
    xml = tmp_path / "junit.xml"
    xml.write_text(junit, encoding="utf-8")
    out = tmp_path / "out.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "character_dev.gpu_check",
            "--device",
            "cpu",
            "--model",
            "tiny",
            "--steps",
            "2",
            "--no-bench",
            "--out",
            str(out),
            "--junit",
            f"cpu={xml}",
        ],
        cwd=ENGINE,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, json.loads(out.read_text(encoding="utf-8"))


def test_the_summary_on_the_cpu(tmp_path: Path) -> None:
    code, summary = run_check(tmp_path, JUNIT_OK)
    assert code == 0 and summary["passed"] is True
    assert summary["machine"]["device"] == "cpu" and summary["machine"]["dtype"] == "float32"
    assert summary["pytest"]["cpu"]["tests"] == 3 and summary["pytest"]["cpu"]["skipped"] == 1
    for kind in ("sft", "kd"):
        run = summary["training"][kind]
        assert run["steps"] == 2 and run["tokens_per_s"] > 0
        assert run["first_loss"] > 0 and run["last_loss"] > 0
    assert summary["training"]["teacher_generation"]["tokens_per_s"] > 0
    assert summary["data_parallel"]["passed"] is True and summary["data_parallel"]["backend"] == "gloo"

    code, failed = run_check(tmp_path, JUNIT_FAILED)
    assert code == 1 and failed["passed"] is False
    assert failed["pytest"]["cpu"]["failed"] == ["tests.test_devices::b"]


# GNU-only tools and flags a user's Mac lacks (macOS: bash 3.2, BSD userland).
NOT_ON_MACOS = [
    (r"(^|[;&|(]\s*)timeout\s", "`timeout` is not installed on macOS"),
    (r"readlink\s+-f", "BSD readlink has no -f"),
    (r"sed\s+-i\s+['\"]?-?[a-zA-Z]*['\"]?\s*['\"]s", "sed -i needs a suffix argument on BSD sed"),
    (r"\bsha256sum\b(?!.*shasum)", "macOS has shasum, not sha256sum"),
    (r"declare\s+-A|mapfile|readarray|\$\{[a-zA-Z_]+,,\}|\$\{[a-zA-Z_]+\^\^\}", "bash 4+ only"),
]


@pytest.mark.parametrize("script", sorted((ROOT / "scripts").glob("*.sh")), ids=lambda p: p.name)
def test_user_scripts_use_nothing_macos_lacks(script: Path) -> None:
    import re

    problems = []
    for n, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1):
        code = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        for pattern, why in NOT_ON_MACOS:
            if re.search(pattern, code):
                problems.append(f"{script.name}:{n}: {why}: {line.strip()}")
    assert not problems, "\n".join(problems)
