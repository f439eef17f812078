"""Builds qdet's extension module with CMake (the repository's own build) for pip.

The C++ libraries and the module are compiled in build-python/ at the repository root (kept
between installs, so a second install only relinks); $QDET_BUILD_JOBS sets the parallel jobs
(default: the CPU count). $QDET_BUILD_DIR names an existing, configured build folder instead
(e.g. build/, made by scripts/test.sh): only the module target is brought up to date there.
Only Debian packages are needed: scripts/setup.sh installs them.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(qdet VERSION ([0-9.]+)", text)
    return match.group(1) if match else "0.0.0"


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        jobs = os.environ.get("QDET_BUILD_JOBS", str(os.cpu_count() or 1))
        if os.environ.get("QDET_BUILD_DIR"):
            build_dir = Path(os.environ["QDET_BUILD_DIR"]).resolve()
        else:
            build_dir = ROOT / "build-python"
            self.configure(build_dir)
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "qdet_python", "-j", jobs])
        built = next((build_dir / "python" / "qdet").glob("_core*.so"))
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target)

    @staticmethod
    def configure(build_dir: Path) -> None:
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
            "-DQDET_BUILD_TESTS=OFF", "-DQDET_BUILD_BENCH=OFF", "-DQDET_BUILD_PYTHON=ON",
            f"-DPython_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"] if not (build_dir / "CMakeCache.txt").exists() else []
        subprocess.check_call(configure)


setup(
    version=version(),
    ext_modules=[Extension("qdet._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
