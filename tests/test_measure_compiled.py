"""The compiled measurement kernels fail clearly when missing or stale (emotioncot/measure/compiled.py)."""

from types import ModuleType

import pytest

from emotioncot.measure import compiled

KERNELS = ["_pitch_kernels", "_periods", "_perturbation", "_harmonicity_kernels"]


@pytest.mark.parametrize("name", KERNELS)
def test_each_build_carries_the_digest_of_its_source(name):
    module = compiled.load(name)
    assert module.SOURCE_DIGEST == compiled.source_digest(compiled.HERE / f"{name}.pyx")


def test_a_build_from_another_source_fails_naming_the_module_and_the_fix(tmp_path):
    pyx = tmp_path / "_kernel.pyx"
    pyx.write_text("def f():\n    return 1\n")
    stale = ModuleType("emotioncot.measure._kernel")
    stale.SOURCE_DIGEST = compiled.source_digest(pyx)
    compiled.check_build(stale, pyx)  # built from this very source: passes
    pyx.write_text("def f():\n    return 2\n")  # the source after a `git pull`
    with pytest.raises(ImportError, match=r"emotioncot\.measure\._kernel .*make install.*pip install -e \."):
        compiled.check_build(stale, pyx)


def test_a_build_without_a_digest_fails(tmp_path):
    pyx = tmp_path / "_kernel.pyx"
    pyx.write_text("x = 1\n")
    with pytest.raises(ImportError, match="unknown source"):
        compiled.check_build(ModuleType("emotioncot.measure._kernel"), pyx)


def test_an_installed_build_without_its_source_is_trusted(tmp_path):
    module = ModuleType("emotioncot.measure._kernel")
    module.SOURCE_DIGEST = "0" * 64
    compiled.check_build(module, tmp_path / "absent.pyx")


def test_a_missing_build_fails_naming_the_module_and_the_fix():
    with pytest.raises(ImportError, match=r"emotioncot\.measure\._no_such_kernel is missing.*make install"):
        compiled.load("_no_such_kernel")


def test_the_default_measurement_runs_the_compiled_kernels_without_numba_or_praat():
    # the start-up point of issue 33: a fresh process measuring with the default settings loads neither numba
    # (its import and cached-code load cost the first clip about 0.95 s) nor parselmouth
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from emotioncot.measure import measure_signal\n"
        "t = np.arange(16000) / 16000\n"
        "y = 0.3 * np.sign(np.sin(2 * np.pi * 140 * t)) * (t > 0.2) * (t < 0.8)\n"
        "m = measure_signal(y, 16000, None)\n"
        "print(m['jitter_local'] is not None, m['hnr_db'] is not None,\n"
        "      sorted(k for k in ('numba', 'parselmouth', 'emotioncot.measure._pitch_kernels', 'emotioncot.measure._periods',\n"
        "                         'emotioncot.measure._perturbation', 'emotioncot.measure._harmonicity_kernels')\n"
        "             if k in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ("True True ['emotioncot.measure._harmonicity_kernels', 'emotioncot.measure._periods', "
                   "'emotioncot.measure._perturbation', 'emotioncot.measure._pitch_kernels']"), out


def test_the_sdist_carries_the_kernels_sources_and_not_their_generated_c(tmp_path):
    # a wheel built from the sdist compiles the .pyx and embeds their digests (setup.py): without them it cannot
    # be built (setuptools, left alone, ships the C that cythonize made instead)
    import shutil
    import subprocess
    import sys
    import tarfile
    from pathlib import Path

    pytest.importorskip("Cython")  # a build requirement; the test extra installs it
    root = Path(__file__).resolve().parents[1]
    project = tmp_path / "project"
    project.mkdir()
    for name in ("setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE"):
        if (root / name).exists():
            shutil.copy(root / name, project / name)
    shutil.copytree(root / "emotioncot", project / "emotioncot",
                    ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__"))
    subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path / "dist")], cwd=project,
                   check=True, capture_output=True)
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        measure = {Path(n).name for n in archive.getnames() if "/emotioncot/measure/" in n}
    assert {f"{name}.pyx" for name in KERNELS} <= measure, sorted(measure)
    assert not {n for n in measure if n.endswith(".c")}, sorted(measure)
