"""The top-level commands are imported when used (cli/lazy.py): every name maps to the
command of that name, and a start-up imports none of the heavy modules."""

from __future__ import annotations

import ast
import subprocess
import sys

import click
import pytest

from pesdc.cli.lazy import LazyCommands
from pesdc.cli.main import COMMANDS, main


def test_every_name_loads_the_command_of_that_name() -> None:
    for name in COMMANDS:
        command = main.commands[name]
        assert isinstance(command, click.Command) and command.name == name
    assert sorted(main.list_commands(click.Context(main))) == sorted(COMMANDS)


def test_a_start_up_imports_no_command_module() -> None:
    probe = ("import sys, pesdc.cli.main as m; "
             "print(sorted(n for n in sys.modules if n.startswith(('pesdc.cli.', 'pesdc.render',"
             " 'pesdc.verify', 'pesdc.lab', 'pesdc.scaffold', 'jinja2', 'hier_config'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    loaded = ast.literal_eval(out)
    assert loaded == sorted(["pesdc.cli.common", "pesdc.cli.language", "pesdc.cli.lazy",
                             "pesdc.cli.main"])


def test_one_lookup_imports_one_module() -> None:
    probe = ("import sys, click, pesdc.cli.main as m; "
             "m.main.get_command(click.Context(m.main), 'validate'); "
             "print('pesdc.cli.model_cmds' in sys.modules, 'pesdc.cli.verify_cmd' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "False"]


def test_a_wrong_entry_is_refused_by_name() -> None:
    commands = LazyCommands({"render": ("pesdc.cli.model_cmds", "validate")})
    with pytest.raises(TypeError, match="not the command 'render'"):
        commands["render"]
    with pytest.raises(KeyError):
        commands["nothing"]
    assert "render" in commands and "nothing" not in commands and len(commands) == 1


def test_an_unknown_command_is_a_usage_error_with_suggestions() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["validat"])
    assert result.exit_code == 2 and "validate" in result.output
