"""The explorer report: a static site (HTML, CSS, a little JavaScript, PNGs, Ogg Opus clips) that shows a
build folder to a researcher, opened from the file system with no server and nothing fetched.

``write_report`` writes it for a build folder; ``write_tasks_report`` for a ``prosody-tasks`` folder."""

from __future__ import annotations

from emotioncot.report.site import write_report
from emotioncot.report.tasks import write_tasks_report

__all__ = ["write_report", "write_tasks_report"]
