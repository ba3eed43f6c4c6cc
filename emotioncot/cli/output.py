"""What commands print, without typer (``analyze FILE ...`` runs without it: see ``emotioncot/cli/__init__.py``)."""

from __future__ import annotations

import json
import sys


def echo_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
