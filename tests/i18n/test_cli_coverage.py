"""Every help page of pesdc is Chinese under ``--lang zh`` and under LANG=zh_CN.UTF-8:
the click tree is walked from ``pesdc.cli.main:main``, each command's and subcommand's
``--help`` is asked in both ways, and no English sentence may be left in it (click's own
words included: Usage, Options, Commands, "Show this message and exit."). Usage errors
are Chinese too, and ``--lang en`` stays English."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from pesdc.cli import language
from pesdc.cli.main import main

EN_ENV = {"PESDC_LANG": "", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}

# What is not prose in a help page: option names, metavars and their choice lists,
# quoted values, file names and other code-like words, placeholders.
NOT_PROSE = re.compile(
    r"--?[\w-]+"                      # options
    r"|\[[^\]\u4e00-\u9fff]*\|[^\]]*\]"  # choice lists [text|json]
    r"|'[^']*'|\"[^\"]*\"|`[^`]*`"    # quoted
    r"|\b[A-Z][A-Z0-9_]+\b"           # metavars, abbreviations (PATH, JSON, MLPS)
    r"|\S*(?:[_/=<>{}%@\\]|\w[.:]\w)\S*"  # code-like words: files, keys, paths, formats
    r"|\S*\d\S*")                     # numbers, versions, ids
# An English sentence: four ASCII words in a row.
ENGLISH_RUN = re.compile(r"[A-Za-z]+(?:[ ,;()]+[A-Za-z]+){3,}")


def english_sentences(page: str) -> list[str]:
    """The runs of 4+ English words in a help page, outside its usage line and code."""
    found = []
    for line in page.splitlines():
        if line.startswith(("Usage:", "用法:")):
            continue  # the program's name and metavars
        found += ENGLISH_RUN.findall(NOT_PROSE.sub(" ", line))
    return found


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from command_paths(command.commands[name], (*path, name))


PATHS = list(command_paths(main))


def run(*args: str, **env: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), env={**EN_ENV, **env})


def test_the_checker_finds_an_english_sentence_and_leaves_code_alone() -> None:
    assert english_sentences("  -h, --help  Show this message and exit.") == [
        "Show this message and exit"]
    assert english_sentences("用法: pesdc validate [OPTIONS] PATHS...") == []
    page = "  --format [text|json]  json：供程序读取的单个文档。  [默认：text]"
    assert english_sentences(page) == []
    assert english_sentences("  运行 pesdc lab up PATH --dc NAME 之后") == []


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "pesdc" for p in PATHS])
def test_help_is_chinese(path: tuple[str, ...]) -> None:
    for result in (run("--lang", "zh", *path, "--help"),
                   run(*path, "--help", LANG="zh_CN.UTF-8")):
        assert result.exit_code == 0, result.output
        assert "用法:" in result.output and "选项:" in result.output
        assert english_sentences(result.output) == [], result.output


def test_help_with_lang_en_stays_english() -> None:
    out = run("--lang", "en", "validate", "--help", LANG="zh_CN.UTF-8").output
    assert "Usage:" in out and "Show this message and exit." in out and "用法" not in out
    out = run("validate", "--help").output  # after zh runs in the same process
    assert "Options:" in out and "选项" not in out


def test_usage_errors_are_chinese() -> None:
    result = run("--lang", "zh", "validate", "--bogus")
    assert result.exit_code == 2
    assert "错误：没有选项 '--bogus'" in result.output and "查看帮助" in result.output
    result = run("render", "topologies", LANG="zh_CN.UTF-8")
    assert "错误：缺少选项 '-o' / '--output'" in result.output, result.output
    result = run("--lang", "zh", "nosuch")
    assert "没有命令 'nosuch'" in result.output
    assert "版本" in run("--version", LANG="zh_CN.UTF-8").output
    assert ", version " in run("--version").output
    result = run("--lang", "en", "validate", "--bogus", LANG="zh_CN.UTF-8")
    assert "Error: No such option '--bogus'" in result.output


def test_click_speaks_english_outside_an_invocation() -> None:
    """At import time and for a command invoked directly click is left as written: a
    zh locale must not fix a Chinese text into a command object."""
    assert click.core._("Options") == "Options"  # type: ignore[attr-defined]


def test_every_listed_click_message_is_one_of_clicks() -> None:
    """A click upgrade that rewords a message must be seen: each msgid pesdc translates
    for click is still in click's source."""
    import inspect

    source = "".join(inspect.getsource(m) for m in (
        click.core, click.decorators, click.exceptions, click.formatting, click.parser,
        click.types, click.termui))
    msgids = list(language.CLICK_MESSAGES) + [s for pair in language.CLICK_PLURALS for s in pair]
    gone = [m for m in msgids if f'"{m}"' not in source]
    assert not gone, gone


@pytest.mark.parametrize(("args", "lang"), [
    (["--lang", "zh", "validate"], "zh"), (["--lang=en", "audit", "--lang", "zh"], "en"),
    (["-h"], None), (["validate", "--lang", "zh"], None), (["--lang"], None)])
def test_the_top_level_lang_is_read_before_click_parses(args: list[str], lang: str | None) -> None:
    assert language.lang_in_args(args) == lang
