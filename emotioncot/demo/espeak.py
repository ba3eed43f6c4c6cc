"""Moved to ``emotioncot.espeak`` (the wrapper serves measurement too, not only the demo); kept so that
old imports work."""

from emotioncot.espeak import *  # noqa: F401,F403
from emotioncot.espeak import ESpeak  # noqa: F401
