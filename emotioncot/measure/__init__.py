"""Acoustic measurement: one utterance in, one ``Measurements`` row out (physical units).

``measure_utterance`` is what the pipeline's measure stage and ``emotioncot analyze`` call.
"""

from __future__ import annotations

from emotioncot.measure.features import measure_signal, measure_utterance

__all__ = ["measure_signal", "measure_utterance"]
