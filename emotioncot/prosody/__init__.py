"""Prosody-perception training data (``emotioncot prosody-tasks``): attribute questions from the calibrated
levels, comparative questions over WORLD resyntheses of one utterance, and word-stress questions, every
generated clip re-measured before it is kept. See docs/prosody_tasks.md.

Modules: ``world`` (analysis once, resynthesis many), ``verify`` (re-measurement), ``tasks_attributes``,
``tasks_compare``, ``tasks_stress``, ``questions`` (wording, SFT views), ``schema`` (ProsodyTaskRecord and
its validation), ``build`` (planning, resumable generation, balancing), ``export`` (DatasetDict, Parquet, card).
"""

from __future__ import annotations


def build_tasks(*args, **kwargs):
    """See ``emotioncot.prosody.build.build_tasks`` (imported lazily: it pulls in pyworld and datasets)."""
    from emotioncot.prosody.build import build_tasks as _build

    return _build(*args, **kwargs)


__all__ = ["build_tasks"]
