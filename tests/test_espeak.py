"""The eSpeak NG binding: an exception raised while eSpeak calls back into Python (the build's SIGINT handler
raises wherever Python runs) reaches the caller instead of being printed and dropped by ctypes."""

from __future__ import annotations

import signal
import time

import pytest

from emotioncot.espeak import ESpeak

VOICE = ("en-us", 160, 50, 50, 100)


def test_an_interrupt_during_synthesis_reaches_the_caller_and_leaves_the_engine_clean():
    engine = ESpeak.get()
    text = " ".join(["The kids are talking by the door and the dogs are sitting by the window."] * 60)
    # the engine is shared by the whole test process: one synthesis first, so that what an earlier test left behind
    # (seen once in the full suite: the first synthesis here lost its first word) is not taken for this one's doing
    engine.synthesize("Kids are talking by the door.", *VOICE)
    t0 = time.perf_counter()
    whole = engine.synthesize(text, *VOICE)
    took = time.perf_counter() - t0
    assert took > 0.2, took  # long enough for the timer below to fire inside it

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, took / 10)
        with pytest.raises(KeyboardInterrupt):
            engine.synthesize(text, *VOICE)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
    # the next synthesis carries nothing of the interrupted one: no second raise, no samples or words of the
    # stopped text added (eSpeak keeps some state between utterances anyway: a few samples differ run to run)
    again = engine.synthesize(text, *VOICE)
    assert [w for w, _ in again.word_starts_s] == [w for w, _ in whole.word_starts_s]
    assert abs(len(again.samples) - len(whole.samples)) < 0.001 * len(whole.samples)
