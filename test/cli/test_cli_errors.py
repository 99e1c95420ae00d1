"""The command line reports a user's fault as one line (``error: ...``, exit 1) and keeps the
traceback for bugs; every named error of the package derives from ``CrowdPerceptionError``."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import crowd_perception.cli as cli
from crowd_perception.cli import Command, main
from crowd_perception.core.errors import CrowdPerceptionError, one_line

PACKAGE = Path(cli.__file__).resolve().parents[1]

# every `class XError(` of the package, found by reading the sources (new ones are picked up)
NAMED_ERRORS = sorted(
    (".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts), name)
    for path in PACKAGE.rglob("*.py")
    for name in re.findall(r"^class (\w+Error)\(", path.read_text(encoding="utf-8"), flags=re.M)
)


def _with_command(monkeypatch, run) -> None:
    monkeypatch.setattr(cli, "_commands", lambda: [Command(("boom",), "raises", lambda p: None, run)])


def test_the_package_has_named_errors():
    names = {name for _, name in NAMED_ERRORS}
    assert {"BagError", "ParameterError", "FormatError", "UnsupportedEncodingError", "InvalidIntrinsicsError",
            "ModelMismatchError", "BackendUnavailableError", "EngineCacheError"} <= names


@pytest.mark.parametrize(("module", "name"), NAMED_ERRORS)
def test_every_named_error_derives_from_the_base_and_prints_one_line(monkeypatch, capsys, module, name):
    error_cls = getattr(importlib.import_module(module), name)
    assert issubclass(error_cls, CrowdPerceptionError)

    def run(args):
        raise error_cls(f"{name} happened\nwith a second line")

    _with_command(monkeypatch, run)
    assert main(["boom"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {name} happened with a second line\n"


def test_a_bug_keeps_its_traceback(monkeypatch):
    def run(args):
        raise KeyError("not a user's fault")

    _with_command(monkeypatch, run)
    with pytest.raises(KeyError):
        main(["boom"])


def test_debug_shows_the_traceback_of_named_errors_too(monkeypatch, capsys):
    from crowd_perception.ros.bag import BagError

    def run(args):
        raise BagError("bad bag")

    _with_command(monkeypatch, run)
    assert main(["boom", "--debug"]) == 1  # after the command's words
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("error: bad bag")
    assert main(["--debug", "boom"]) == 1  # before them
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("error", [FileNotFoundError(2, "No such file or directory", "/no/such/file.yaml"),
                                   PermissionError(13, "Permission denied", "/root/secret"),
                                   IsADirectoryError(21, "Is a directory", "/tmp")])
def test_file_system_errors_name_the_path(monkeypatch, capsys, error):
    def run(args):
        raise error

    _with_command(monkeypatch, run)
    assert main(["boom"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and error.filename in err and err.startswith("error: ")
    assert one_line(error) == f"{error.strerror}: {error.filename}"


def test_system_exit_messages_become_error_lines(monkeypatch, capsys):
    def run(args):
        raise SystemExit("--runs entries are LABEL=WEIGHTS")

    _with_command(monkeypatch, run)
    assert main(["boom"]) == 1
    assert capsys.readouterr().err == "error: --runs entries are LABEL=WEIGHTS\n"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crowd_perception.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_replay_of_a_missing_bag_is_one_line(tmp_path):
    result = _cli("replay", "--bag", "/nonexistent", "--out", str(tmp_path / "out"))
    assert result.returncode != 0
    assert result.stderr == "error: bag /nonexistent does not exist\n"
    assert not (tmp_path / "out").exists()


def test_replay_onto_an_existing_output_is_one_line(tmp_path):
    result = _cli("replay", "--bag", str(tmp_path), "--out", str(tmp_path))
    assert result.returncode == 1 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "exists already" in result.stderr
