"""Acoustic measurement: one utterance in, one ``Measurements`` row out (physical units).

``measure_utterance`` is what the pipeline's measure stage and ``emotioncot analyze`` call;
``measure_signal`` measures an in-memory signal. See docs/measurement.md for every definition.
"""

from __future__ import annotations


def measure_signal(*args, **kwargs):
    from emotioncot.measure.features import measure_signal as _impl

    return _impl(*args, **kwargs)


def measure_utterance(*args, **kwargs):
    from emotioncot.measure.features import measure_utterance as _impl

    return _impl(*args, **kwargs)


__all__ = ["measure_signal", "measure_utterance"]
