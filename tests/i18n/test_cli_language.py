"""The command line speaks the user's language: ``pesdc --lang``, else PESDC_LANG or the
locale; its help is the catalog's translation of the commands' own docstrings."""

from __future__ import annotations

from click.testing import CliRunner

from pesdc.cli.language import help_messages
from pesdc.cli.main import main
from pesdc.i18n import translator

EN_ENV = {"PESDC_LANG": "", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}


def run(*args: str, **env: str) -> str:
    result = CliRunner().invoke(main, list(args), env={**EN_ENV, **env})
    assert result.exit_code == 0, result.output
    return result.output


def test_help_in_chinese_with_lang_and_with_the_locale():
    for out in (run("--lang", "zh", "--help"), run("--help", LANG="zh_CN.UTF-8"),
                run("--help", PESDC_LANG="zh")):
        assert "公共就业服务数据中心即代码" in out
        assert "检查拓扑文件或文件夹" in out  # a subcommand's short help, translated
        assert "显示版本并退出。" in out


def test_a_subcommand_help_in_chinese():
    out = run("--lang", "zh", "audit", "--help")
    assert "按等级保护 2.0 第三级测评数据中心" in out and "总分低于此值时退出码为 1。" in out
    out = run("lab", "up", "--help", LANG="zh_CN.UTF-8")  # a group's subcommand
    assert "幂等" in out


def test_english_stays_english_after_a_chinese_run_in_the_same_process():
    run("--lang", "zh", "audit", "--help")
    out = run("audit", "--help")
    assert "Audit a center against MLPS 2.0 level 3" in out and "按等级保护" not in out
    assert "Exit 1 when the overall score is below this." in out
    assert "--lang en" not in out
    out = run("--lang", "en", "--help", LANG="zh_CN.UTF-8")  # --lang beats the locale
    assert "public employment service data centers as code" in out


def test_every_help_text_has_a_chinese_translation():
    zh = translator("zh")
    untranslated = [text for text in help_messages(main) if zh.gettext(text) == text]
    assert not untranslated, untranslated
