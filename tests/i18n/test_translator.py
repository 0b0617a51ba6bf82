"""One translator per language, side by side in one process, and the language the command
line speaks taken from the environment."""

from __future__ import annotations

import builtins

import pytest

from pesdc.i18n import label, language_from_env, translator
from pesdc.model.schema import Encryption, IsolationType, Tier


def test_zh_and_en_in_one_process_without_a_global_install():
    zh, en = translator("zh"), translator("en")
    assert zh.gettext("Overall score") == "总体得分"
    assert en.gettext("Overall score") == "Overall score"
    assert zh.gettext("Overall score") == "总体得分"  # en did not replace zh
    assert not hasattr(builtins, "_")


def test_labels_take_the_enum_as_context():
    assert (label(Tier.city, "zh"), label(Tier.city, "en")) == ("地市级", "city")
    # "none" is three words in Chinese: the enum (or the word list) tells which
    assert label(IsolationType.none, "zh") == "不隔离"
    assert label(Encryption.none, "zh") == "不加密"
    assert label("none", "zh") == "无"
    assert label(Encryption.sm_vpn, "en") == "SM VPN"
    assert label("not a word pesdc knows", "zh") == "not a word pesdc knows"


@pytest.mark.parametrize(("environ", "lang"), [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "PESDC_LANG": "en"}, "en"),
    ({"PESDC_LANG": "zh"}, "zh"),
])
def test_the_command_line_language_from_the_environment(environ, lang):
    assert language_from_env(environ) == lang
