"""lhotse WebDataset shards: each split's cuts with their audio inside tar shards, written by lhotse's own writer.

``DIR/lhotse/webdataset/<split>/shard-NNNNNN.tar`` (``lhotse.dataset.webdataset.export_to_webdataset``, which
needs the ``webdataset`` package): each cut of the split's cuts manifest, pickled, with its recording moved into
memory (a cut spanning its whole clip keeps the clip's WAV bytes as they are: lhotse decodes and re-encodes only
a part of a recording) and every supervision field, ``custom`` included. Sequential reads for training:
``CutSet.from_webdataset(sorted(glob("DIR/lhotse/webdataset/train/shard-*.tar")))``. The shards are a second
copy of the audio, so they are written only when asked for (``export --for lhotse --webdataset``).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

SHARDS_DIR = "webdataset"
SHARD_PATTERN = "shard-%06d.tar"


def write_shards(cuts, out: Path, folder: Path, work: Path, split: str, shard_size: int) -> list[str]:
    """Write ``split``'s ``cuts`` (paths relative to ``out``) as shards of ``shard_size`` cuts under
    ``folder/webdataset/split/``, replacing that folder whole; return the shard paths relative to ``out``."""
    from lhotse.dataset.webdataset import export_to_webdataset

    staging = work / f"{SHARDS_DIR}-{split}"
    staging.mkdir()
    # fault_tolerant=False: lhotse would otherwise skip a cut it cannot read with only a warning, and the shards
    # would hold fewer cuts than the manifests. The clips were written by this export, so a failure is a bug.
    # lhotse's ShardWriter prints "# writing <shard>" to stdout, which would break ``-q`` and piped output.
    with contextlib.redirect_stdout(io.StringIO()):
        written = export_to_webdataset(cuts.with_recording_path_prefix(str(out)), str(staging / SHARD_PATTERN),
                                       shard_size=shard_size, verbose=False, fault_tolerant=False)
    target = folder / SHARDS_DIR / split
    target.parent.mkdir(exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)  # shards of an earlier run may outnumber this run's
    os.replace(staging, target)
    return [(target / (SHARD_PATTERN % i)).relative_to(out).as_posix() for i in range(written)]
