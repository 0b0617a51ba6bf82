"""The command line in its user's language, through the gettext catalog (pesdc.i18n).

The language is ``pesdc --lang zh|en`` when given, else the environment
(:func:`pesdc.i18n.language_from_env`: ``PESDC_LANG``, then the locale such as
``LANG=zh_CN.UTF-8``); English by default. It is the command line's own language: the
``--lang`` of a report (audit, verify, stage) still chooses the report's.

Help texts are the commands' docstrings and their options' ``help=``, written in English.
:func:`extract_help` hands them to Babel as they are, so they need no marker, and
:class:`TranslatedGroup` shows a translated copy of a command for the invocation: the
command objects stay as written, so a zh and an en run can follow each other in one
process. Messages are marked with :func:`_`, which translates at the moment they are
shown."""

from __future__ import annotations

import copy
import gettext
import inspect
from collections.abc import Iterator
from typing import Any

import click

from pesdc.i18n import LANGS, language_from_env, translator

META_KEY = "pesdc.lang"  # where the root context keeps the language of --lang


def cli_language(ctx: click.Context | None = None) -> str:
    """The language of this invocation: its ``--lang``, else the environment's."""
    ctx = ctx or click.get_current_context(silent=True)
    lang = ctx.find_root().meta.get(META_KEY) if ctx is not None else None
    return lang or language_from_env()


def _(message: str) -> str:
    """A message of the command line, in its language (and marked for extraction)."""
    return translator(cli_language()).gettext(message)


def remember_language(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """The ``--lang`` callback: eager, so that help asked after it is translated."""
    if value:
        ctx.find_root().meta[META_KEY] = value


LANG_OPTION = click.option(
    "--lang", type=click.Choice(LANGS), is_eager=True, expose_value=False,
    callback=remember_language,
    help="Language of pesdc's messages and help (default: PESDC_LANG, else the locale, "
         "e.g. LANG=zh_CN.UTF-8; else en).")


def help_text(command: click.Command) -> str | None:
    """A command's help as click shows it (the part before a form feed), the msgid."""
    if not command.help:
        return None
    return inspect.cleandoc(command.help).partition("\f")[0]


def translated(command: click.Command, t: gettext.NullTranslations) -> click.Command:
    """A copy of ``command`` (and of a group's subcommands) with its help in ``t``."""
    twin = copy.copy(command)
    text = help_text(command)
    twin.help = t.gettext(text) if text else command.help
    if command.short_help:
        twin.short_help = t.gettext(command.short_help)
    twin.params = [_translated_param(p, t) for p in command.params]
    if isinstance(command, click.Group) and isinstance(twin, click.Group):
        twin.commands = {name: translated(sub, t) for name, sub in command.commands.items()}
    return twin


def _translated_param(param: click.Parameter, t: gettext.NullTranslations) -> click.Parameter:
    if not isinstance(param, click.Option) or not param.help:
        return param  # an argument has no help of its own
    twin = copy.copy(param)
    twin.help = t.gettext(param.help)
    return twin


class TranslatedGroup(click.Group):
    """The top-level group: it hands out its subcommands, and shows its own help, in the
    invocation's language."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        lang = cli_language(ctx)
        if command is None or lang == "en":
            return command
        return translated(command, translator(lang))

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang = cli_language(ctx)
        if lang == "en":
            super().format_help(ctx, formatter)
            return
        t = translator(lang)
        own = copy.copy(self)  # this group's text and options; subcommands via get_command
        text = help_text(self)
        own.help = t.gettext(text) if text else self.help
        own.params = [_translated_param(p, t) for p in self.params]
        click.Group.format_help(own, ctx, formatter)


def help_messages(command: click.Command) -> Iterator[str]:
    """Every help text of ``command`` and below, as click shows it: the msgids."""
    text = help_text(command)
    if text:
        yield text
    if command.short_help:
        yield command.short_help
    for param in command.params:
        if isinstance(param, click.Option) and param.help:
            yield param.help
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from help_messages(sub)


def extract_help(fileobj: Any, keywords: Any, comment_tags: Any,
                 options: Any) -> Iterator[tuple[Any, ...]]:
    """Babel extractor for this module (``babel.cfg``): its marked strings as Python,
    plus the help of every command of ``pesdc`` (docstrings and options' help)."""
    from babel.messages.extract import extract_python

    from pesdc.cli.main import main

    yield from extract_python(fileobj, keywords, comment_tags, options)
    for text in help_messages(main):
        yield 0, "gettext", text, []
