"""``--executor`` and ``--ray-address``, shared by ``build``, ``analyze --workspace`` and ``generate``
(not a command module: nothing to register)."""

from __future__ import annotations

from typing import Optional

import typer

from emotioncot.config import BuildConfig

EXECUTOR = typer.Option(
    None, "--executor",
    help="Where per-item work runs: local (a process pool over this machine's cores; the default) or ray "
         "(a Ray cluster: a private local one, or the one named by --ray-address). Both give identical tables.",
)
RAY_ADDRESS = typer.Option(
    None, "--ray-address",
    help="Join this Ray cluster (e.g. auto, ray://head:10001) instead of starting a local Ray instance; "
         "implies --executor ray. Every node needs emotioncot installed and the audio on shared storage.",
)


def apply_executor_options(cfg: BuildConfig, executor: Optional[str], ray_address: Optional[str]) -> BuildConfig:
    from emotioncot.cli.common import fail

    if executor is not None:
        if executor not in ("local", "ray"):
            fail(f"--executor must be local or ray, not {executor!r}")
        cfg.executor.name = executor
    if ray_address:
        if executor == "local":
            fail("--ray-address needs --executor ray")
        cfg.executor.name = "ray"
        cfg.executor.ray_address = ray_address
    return cfg
