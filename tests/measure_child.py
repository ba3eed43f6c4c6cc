"""The measure stage in an interpreter of its own, for tests/test_interrupts.py.

Usage: python measure_child.py WORKSPACE CLIPS_JSON WORKERS

Prints ``ready`` once everything is imported, then runs the stage under ``stop_on_signals`` as the CLI
does. Exit code 0 when the stage finished, 130 when a signal ended it, 1 (traceback in WORKSPACE.err) on
anything else. SIGINT arrives blocked (the test blocks it across the spawn) and is unblocked only inside
the ``try``, so a signal sent while the interpreter is still starting is delivered there and ends the run
as an interrupt. SIGUSR1 dumps every thread's stack to stderr: the test asks for it before killing a child
that has not ended in time."""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
import traceback
from pathlib import Path

from emotioncot.config import BuildConfig
from emotioncot.pipeline import run_measure, stop_on_signals
from emotioncot.workspace import Workspace


def stage_config(workers: int) -> BuildConfig:
    config = BuildConfig()
    config.measure.workers = workers
    config.executor.shard_size = 1  # many small shards: an interrupt can land between any two
    return config


def main(root: Path, clips_json: Path, workers: int) -> int:
    clips = json.loads(clips_json.read_text())
    config = stage_config(workers)
    print("ready", flush=True)
    code = 0
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a pending SIGINT lands here
        with stop_on_signals():
            run_measure(Workspace(root), clips, config, progress=False)
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        Path(f"{root}.err").write_text(traceback.format_exc())
        code = 1
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # a late signal must not change the code
    return code


if __name__ == "__main__":
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    status = main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
    sys.stdout.flush()
    os._exit(status)
