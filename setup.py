"""The compiled measurement kernels (emotioncot/measure/_*.pyx); everything else is in pyproject.toml.

Each extension gets the SHA-256 of its .pyx as a C macro, so that ``emotioncot.measure.compiled`` can tell a
build from a stale one. No fast-math anywhere: the kernels port Praat's IEEE double arithmetic, and GCC may
otherwise fuse a multiply and an add into one rounding where the target has FMA instructions.
"""

import hashlib
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = ["_pitch_kernels", "_periods", "_perturbation", "_harmonicity_kernels"]
HERE = Path(__file__).resolve().parent


def extension(name: str) -> Extension:
    source = f"emotioncot/measure/{name}.pyx"
    digest = hashlib.sha256((HERE / source).read_bytes()).hexdigest()
    flags = [] if sys.platform == "win32" else ["-O2", "-ffp-contract=off", "-fno-fast-math"]
    return Extension(f"emotioncot.measure.{name}", [source], define_macros=[("EMOTIONCOT_PYX_DIGEST", f'"{digest}"')],
                     extra_compile_args=flags)


setup(ext_modules=cythonize([extension(name) for name in KERNELS], language_level=3,
                            compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True}))
