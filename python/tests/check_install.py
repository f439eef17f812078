"""The README's install, end to end: a venv that sees Debian's packages, pip install without
network or build isolation, then `import qdet` from the venv (not the build tree) runs a model.

    check_install.py PYTHON BUILD_DIR VENV_DIR

$QDET_BUILD_DIR=BUILD_DIR makes setup.py reuse the test build's compiled module (the suite
already built it) instead of compiling the libraries a second time.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

SMOKE = """
import numpy as np, qdet, sys
assert qdet.__file__.startswith(sys.prefix), qdet.__file__
it = qdet.Interpreter(model_path=sys.argv[1])
it.allocate_tensors()
d = it.get_input_details()[0]
it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
it.invoke()
print("installed qdet", qdet.__version__, "at", qdet.__file__, "ran", sys.argv[1])
"""


def main() -> int:
    python, build_dir, venv = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    root = Path(__file__).resolve().parents[2]
    shutil.rmtree(venv, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL")}
    env["QDET_BUILD_DIR"] = str(build_dir)
    env["PIP_NO_INDEX"] = "1"  # offline: nothing may be downloaded
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    subprocess.check_call([python, "-m", "venv", "--system-site-packages", str(venv)], env=env)
    subprocess.check_call([str(venv / "bin" / "pip"), "install", "-q", "--no-build-isolation", str(root / "python")],
                          env=env, cwd=str(venv))
    model = Path(os.environ.get("QDET_DATA") or Path(os.environ.get("QDET_SHARED") or
                 os.environ["QDET_DEFAULT_SHARED"]) / "data") / "models" / "yolox_nano_fp32_416.tflite"
    if not model.exists():
        if os.environ.get("QDET_REQUIRE_DATA") == "1":
            print(f"required shared data missing: {model}", file=sys.stderr)
            return 1
        print(f"shared data not found: {model}; installed, not run")
        return 0
    subprocess.check_call([str(venv / "bin" / "python"), "-c", SMOKE, str(model)], env=env, cwd=str(venv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
