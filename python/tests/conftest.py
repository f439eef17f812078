"""Shared fixtures: the shared data (skip when absent, fail under QDET_REQUIRE_DATA=1), the qdet
binary ($QDET_BIN, set by ctest), and running it."""

import json
import os
import subprocess
from pathlib import Path

import pytest

import qdet


def data_required() -> bool:
    return os.environ.get("QDET_REQUIRE_DATA") == "1"


def require(path: Path) -> Path:
    """The path, or skip (fail under QDET_REQUIRE_DATA=1) when the shared data is absent."""
    if not path.exists():
        message = f"shared data not found: {path} (set QDET_SHARED or QDET_DATA)"
        if data_required():
            pytest.fail("required " + message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def data() -> Path:
    return Path(qdet.data_dir())


@pytest.fixture(scope="session")
def models(data) -> Path:
    return require(data / "models")


@pytest.fixture(scope="session")
def yolox(models) -> Path:
    return require(models / "yolox_nano_fp32_416.tflite")


@pytest.fixture(scope="session")
def dog(models) -> Path:
    return require(models / "dog.jpg")


@pytest.fixture(scope="session")
def val(data) -> dict:
    root = require(data / "coco" / "val2017-139")
    return {"images": root / "images", "annotations": root / "instances_val2017_subset.json"}


@pytest.fixture(scope="session")
def calib(data) -> Path:
    return require(data / "coco" / "calib-111")


@pytest.fixture(scope="session")
def qdet_bin() -> str:
    path = os.environ.get("QDET_BIN")
    if not path or not Path(path).exists():
        pytest.fail("QDET_BIN must name the qdet binary (ctest sets it)")
    return path


@pytest.fixture(scope="session")
def run_qdet(qdet_bin):
    """run_qdet(args...) -> stdout; run_qdet.json(args...) -> parsed --json output."""

    class Runner:
        def __call__(self, *args) -> str:
            r = subprocess.run([qdet_bin, *map(str, args)], capture_output=True, text=True)
            assert r.returncode == 0, f"qdet {' '.join(map(str, args))}: {r.stderr}"
            return r.stdout

        def json(self, *args):
            return json.loads(self(*args, "--json"))

    return Runner()
