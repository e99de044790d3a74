"""The edges every command shares: its options (never abbreviated, misspellings named), Ctrl-C's line."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import lgrin_edge
from lgrin_edge.cli import (
    INTERRUPT_DEFAULT,
    Parser,
    given,
    on_interrupt,
    option_strings,
    run,
    startup_interrupt,
)

PACKAGE = Path(lgrin_edge.__file__).parent
ROOT = PACKAGE.parent


def _commands() -> dict[str, Path]:
    """Every ``python -m lgrin_edge.<command>`` and its source: the package's modules that run as a
    script."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "c_sources" not in path.parts and 'if __name__ == "__main__":' in path.read_text():
            parts = path.relative_to(ROOT).with_suffix("").parts
            # a __main__.py that only starts another module's main: that module builds the parser
            delegate = re.search(r"^from (lgrin_edge\S*) import main$", path.read_text(), re.M)
            if parts[-1] == "__main__" and delegate:
                path = ROOT.joinpath(*delegate.group(1).split(".")).with_suffix(".py")
            found[".".join(parts[:-1] if parts[-1] == "__main__" else parts)] = path
    return found


COMMANDS = _commands()


class _Captured(BaseException):
    """Carries the parser a command built out of its ``main`` (past lgrin_edge.cli.run's handlers)."""


def parser_of(command: str, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser ``command``'s main builds, taken as it starts parsing."""

    def capture(self: Parser, *args: object, **kwargs: object) -> None:
        raise _Captured(self)

    module = importlib.import_module(command)
    if not hasattr(module, "main"):  # a package run by its __main__.py
        module = importlib.import_module(command + ".__main__")
    with monkeypatch.context() as m:
        m.setattr(Parser, "parse_known_args", capture)
        with pytest.raises(_Captured) as caught:
            module.main([])
    return caught.value.args[0]


def test_every_command_is_found_and_builds_its_parser_with_the_one_parser():
    assert {"lgrin_edge.train", "lgrin_edge.export", "lgrin_edge.features", "lgrin_edge.sweep"} <= set(
        COMMANDS
    )
    for command, path in COMMANDS.items():
        source = path.read_text()
        assert "Parser(" in source and "ArgumentParser(" not in source, command


@pytest.mark.parametrize("command", COMMANDS)
def test_no_long_option_is_abbreviated_and_each_is_suggested(command, monkeypatch, capsys):
    parser = parser_of(command, monkeypatch)
    assert isinstance(parser, Parser)
    known = set(option_strings(parser))
    checked = 0
    for option in sorted(o for o in known if o.startswith("--") and o != "--help"):
        short = option[:-1]
        if len(short) < 4 or short in known:
            continue
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([short, "1"])
        assert exit_info.value.code == 2, option
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"error: unrecognized option {short}; did you mean {option}?" in err, err
        checked += 1
    assert checked or command == "lgrin_edge.params", f"{command} has no long option to check"


def test_a_misspelt_option_names_the_closest_and_an_unknown_one_just_itself(capsys):
    from lgrin_edge.train import build_parser

    parser = build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--epcohs", "3"])
    assert exit_info.value.code == 2
    assert "did you mean --epochs?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["--quantum=3"])
    err = capsys.readouterr().err
    assert "unrecognized option --quantum (--help lists the options)" in err and "did you mean" not in err
    args = parser.parse_args(["--epochs=3", "--dataset", "a b --c"])  # a value with a space is no option
    assert args.epochs == 3 and args.dataset == "a b --c"


def test_a_required_option_misspelt_is_named_as_the_misspelling(capsys):
    from lgrin_edge.explain import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--checkpont", "runs/x"])
    assert "unrecognized option --checkpont; did you mean --checkpoint?" in capsys.readouterr().err


def test_an_abbreviation_on_the_command_line_exits_2_in_one_line():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "lgrin_edge.train", "--epoch", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "python -m lgrin_edge.train: error: unrecognized option --epoch; did you mean --epochs? "
        "(--help lists the options)\n"
    )


def test_given_names_only_the_options_the_command_line_gives():
    from lgrin_edge.train import build_parser

    assert given(build_parser(), ["--layers", "2", "--no-inception", "--eta", "4", "2"]) == {
        "layers",
        "no_inception",
        "eta",
    }
    assert given(build_parser(), []) == set()


def test_a_command_says_what_an_interrupt_leaves(capsys):
    def keeps_work(argv: list[str] | None) -> int:
        on_interrupt("finished cells are kept; the same command resumes")
        raise KeyboardInterrupt

    def plain(argv: list[str] | None) -> int:
        raise KeyboardInterrupt

    assert run(keeps_work, []) == 130
    assert capsys.readouterr().err == "interrupted: finished cells are kept; the same command resumes\n"
    assert run(plain, []) == 130  # each command starts from the default
    assert capsys.readouterr().err == f"interrupted: {INTERRUPT_DEFAULT}\n"


def test_run_puts_pythons_sigint_handler_back():
    before = signal.signal(signal.SIGINT, startup_interrupt)
    try:
        assert run(lambda argv: int(signal.getsignal(signal.SIGINT) is not signal.default_int_handler)) == 0
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_library_import_installs_no_handler():
    code = "import signal as s, lgrin_edge.cli; print(s.getsignal(s.SIGINT) is s.default_int_handler)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
