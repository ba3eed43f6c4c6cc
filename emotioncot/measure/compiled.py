"""Loading the compiled measurement kernels (the ``_*.pyx`` modules beside this file, built by setup.py) so that a
missing or stale build fails at import with the fix, never measures with code other than the source's.

Each module carries the SHA-256 of the .pyx it was compiled from (setup.py passes it in as a C macro). In a source
checkout the .pyx is beside the module: after a ``git pull`` that changed it, the build no longer matches and
importing it raises. An installed wheel carries the modules without their sources, so there is nothing to
compare with and its own build is trusted.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
FIX = "run `make install` or `pip install -e .` (or `python setup.py build_ext --inplace` in a source checkout)"


def source_digest(pyx: Path) -> str:
    """The digest setup.py embeds: SHA-256 of the file's bytes, in hex."""
    return hashlib.sha256(pyx.read_bytes()).hexdigest()


def check_build(module: ModuleType, pyx: Path) -> None:
    """Raise ImportError when ``module`` was built from another version of ``pyx`` (if that file exists)."""
    if not pyx.exists():
        return
    built = getattr(module, "SOURCE_DIGEST", "")
    if built != source_digest(pyx):
        raise ImportError(f"{module.__name__} was compiled from another version of {pyx.name} "
                          f"(built from {built[:12] or 'an unknown source'}, the source is now "
                          f"{source_digest(pyx)[:12]}): {FIX}")


def load(name: str) -> ModuleType:
    """``emotioncot.measure.<name>``, checked against its .pyx."""
    qualified = f"emotioncot.measure.{name}"
    try:
        module = importlib.import_module(qualified)
    except ImportError as exc:
        raise ImportError(f"the compiled module {qualified} is missing or does not load ({exc}): {FIX}") from exc
    check_build(module, HERE / f"{name}.pyx")
    return module
