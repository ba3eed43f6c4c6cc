"""One CLI style: --version, help without "<bool>" on plain flags, -q wherever a progress bar can show, distinct
split and sampling seeds (the old --seed a deprecated alias), did-you-mean on corpus names, a hint for a bare
path given to --corpus, and the entry point registering only the command it runs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from emotioncot.cli import COMMAND_MODULES, app

runner = CliRunner()
COMMANDS = [c for commands in COMMAND_MODULES.values() for c in commands]
WITH_PROGRESS = ("build", "ingest", "analyze", "generate", "filter", "export", "evaluate", "prosody-tasks", "train sft",
                 "train grpo-ptr")


def test_version_from_the_entry_point():
    from emotioncot import __version__

    done = subprocess.run([sys.executable, "-m", "emotioncot", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"emotioncot {__version__}"


@pytest.mark.parametrize("command", [None, *COMMANDS, "train sft", "train grpo-ptr"])
def test_help_has_no_bool_metavar(command):
    args = (command.split() if command else []) + ["--help"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output and "--help" in result.output


@pytest.mark.parametrize("command", WITH_PROGRESS)
def test_quiet_flag_wherever_there_is_a_bar(command):
    result = runner.invoke(app, [*command.split(), "--help"])
    assert "--quiet" in result.output and "-q" in result.output


def test_split_and_sampling_seeds_have_distinct_names():
    build = runner.invoke(app, ["build", "--help"]).output
    assert "--split-seed" in build and "--sampling-seed" in build
    assert "--split-seed" in runner.invoke(app, ["ingest", "--help"]).output
    generate = runner.invoke(app, ["generate", "--help"]).output
    assert "--sampling-seed" in generate and "--split-seed" not in generate
    for command in ("build", "ingest", "generate"):  # the old spelling is hidden from help
        assert " --seed " not in runner.invoke(app, [command, "--help"]).output


def test_old_seed_spelling_warns_and_maps_to_the_split_seed(tmp_path):
    import pandas as pd

    from emotioncot.cli.common import seed_alias

    jsonl = tmp_path / "clips.jsonl"
    jsonl.write_text("")
    with pytest.raises(Exception):
        seed_alias(3, 4, "--split-seed")  # both given and different: refused
    assert seed_alias(None, 7, "--split-seed") == 7 and seed_alias(5, None, "--split-seed") == 5
    outs = {}
    for flag in ("--seed", "--split-seed"):
        out = tmp_path / flag.strip("-")
        result = runner.invoke(app, ["ingest", "--corpus", "demo", "--out", str(out), flag, "99", "-q"])
        assert result.exit_code == 0, result.output
        assert ("deprecated" in result.output) == (flag == "--seed")
        outs[flag] = pd.read_parquet(out / "manifest.parquet")[["id", "split"]]
    default = tmp_path / "default"
    assert runner.invoke(app, ["ingest", "--corpus", "demo", "--out", str(default), "-q"]).exit_code == 0
    assert outs["--seed"].equals(outs["--split-seed"])
    assert not outs["--seed"].equals(pd.read_parquet(default / "manifest.parquet")[["id", "split"]])


@pytest.mark.parametrize("args,suggestion", [
    (["corpora", "ravdes"], "did you mean 'ravdess'"),
    (["pull", "cremad_d", "--to", "x"], "did you mean 'crema_d'"),
    (["ingest", "--corpus", "emodbb=/tmp", "--out", "x"], "did you mean 'emodb'"),
])
def test_did_you_mean_on_corpus_names(args, suggestion, tmp_path):
    if "--out" in args:
        args = [*args[:-1], str(tmp_path / "out")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and suggestion in result.output


def test_bare_path_to_corpus_gets_a_hint(tmp_path):
    result = runner.invoke(app, ["build", "--corpus", str(tmp_path), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert f"NAME={tmp_path}" in result.output and "emotioncot corpora" in result.output
    assert "ravdess=" not in result.output  # no example that names some other corpus's reader for this folder


def test_bare_path_hint_names_the_corpus_the_folder_is_named_after(test_data):
    result = runner.invoke(app, ["ingest", "--corpus", str(test_data / "emodb"), "--out", "unused"])
    assert result.exit_code == 2
    assert f"emodb={test_data / 'emodb'}" in result.output and "ravdess=" not in result.output


def test_suggestions_name_each_corpus_once():
    result = runner.invoke(app, ["corpora", "emod"])
    assert result.exit_code == 2
    hint = result.output.split("did you mean", 1)[1].split("?", 1)[0]
    names = [part.strip(" '") for part in hint.split(" or ")]
    assert "emodb" in names and len(names) == len(set(names)), result.output


def test_entry_point_imports_only_the_command_it_runs(test_data):
    clip = test_data / "emodb" / "wav" / "03a01Fa.wav"
    code = (
        f"import sys; import emotioncot.cli as c; sys.argv = ['emotioncot', 'analyze', {str(clip)!r}]\n"
        "try:\n    c.main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('emotioncot.cli.') or m in ('pandas', 'datasets', 'scipy.signal', 'scipy.fft', 'emotioncot.pipeline')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    measured, loaded = done.stdout.strip().splitlines()[-2:]
    assert '"f0_median_hz"' in measured
    assert "emotioncot.cli.analyze" in loaded
    for heavy in ("emotioncot.cli.train", "emotioncot.cli.build", "'pandas'", "'datasets'", "scipy.signal", "scipy.fft", "emotioncot.pipeline"):
        assert heavy not in loaded, loaded


def test_build_and_ingest_take_the_same_sources_and_say_so():
    """build's --corpus help left out hf: (a saved dataset folder or a Hub name), which build takes as ingest does."""
    import typer.main

    commands = typer.main.get_command(app).commands
    helps = {name: next(p.help for p in commands[name].params if p.name == "corpus") for name in ("build", "ingest")}
    assert helps["build"] == helps["ingest"]
    assert all(kind in helps["build"] for kind in ("demo", "NAME=PATH", "jsonl:PATH", "csv:PATH", "hf:PATH"))
