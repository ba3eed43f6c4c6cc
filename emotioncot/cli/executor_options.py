"""``--executor`` and ``--ray-address``, shared by ``build``, ``analyze --workspace`` and ``generate``
(not a command module: nothing to register)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:  # `analyze FILE` checks these options without building a config (measure/settings.py)
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


def check_executor_options(executor: Optional[str], ray_address: Optional[str]) -> None:
    """Exit with the usage error for a wrong combination (before anything runs)."""
    from emotioncot.cli.common import fail

    if executor is not None and executor not in ("local", "ray"):
        fail(f"--executor must be local or ray, not {executor!r}")
    if ray_address and executor == "local":
        fail("--ray-address needs --executor ray")


def apply_executor_options(cfg: BuildConfig, executor: Optional[str], ray_address: Optional[str]) -> BuildConfig:
    check_executor_options(executor, ray_address)
    if executor is not None:
        cfg.executor.name = executor
    if ray_address:
        cfg.executor.name = "ray"
        cfg.executor.ray_address = ray_address
    return cfg
