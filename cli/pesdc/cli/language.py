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
shown.

Click's own words (``Usage:``, ``Options``, ``Show this message and exit.``, ``Error:``,
``No such option``, ...) are gettext calls of click's modules: :func:`route_click` points
them at this catalog for the time of an invocation of :class:`TranslatedGroup` (the
msgids are listed, marked, in :data:`CLICK_MESSAGES`); outside one (an import, a test
invoking a command object directly) click speaks English as it was written."""

from __future__ import annotations

import copy
import gettext
import inspect
import sys
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import click

from pesdc.i18n import LANGS, N_, language_from_env, translator

META_KEY = "pesdc.lang"  # where the root context keeps the language of --lang
# The language of the running invocation of TranslatedGroup.main, known before click
# parses anything: a usage error is raised, and shown, before --lang's callback runs.
_INVOCATION: ContextVar[str | None] = ContextVar("pesdc_cli_language", default=None)


def cli_language(ctx: click.Context | None = None) -> str:
    """The language of this invocation: its ``--lang``, else the environment's."""
    ctx = ctx or click.get_current_context(silent=True)
    lang = ctx.find_root().meta.get(META_KEY) if ctx is not None else None
    return lang or _INVOCATION.get() or language_from_env()


def lang_in_args(args: Sequence[str]) -> str | None:
    """The top-level ``--lang`` of a command line: the options before the subcommand
    (a report's own ``--lang``, after it, chooses the report's language)."""
    for i, arg in enumerate(args):
        if arg == "--lang":
            return args[i + 1] if i + 1 < len(args) and args[i + 1] in LANGS else None
        if arg.startswith("--lang="):
            return arg.partition("=")[2] if arg.partition("=")[2] in LANGS else None
        if not arg.startswith("-") or arg == "--":
            return None
    return None


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
    twin._help_option = None  # its own --help, made in this invocation's language
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

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        token = _INVOCATION.set(lang_in_args(argv) or language_from_env())
        try:
            return super().main(argv, *rest, **kwargs)
        finally:
            _INVOCATION.reset(token)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        # click keeps one --help option per command, its help text fixed when made:
        # this group (used by every invocation) keeps one per language
        lang = cli_language(ctx)
        per_lang: dict[str, click.Option | None] = self.__dict__.setdefault("_help_by_lang", {})
        if lang not in per_lang:
            self._help_option = None
            per_lang[lang] = super().get_help_option(ctx)
        self._help_option = per_lang[lang]
        return per_lang[lang]

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


# Click's messages that pesdc's users meet (help, usage errors), as click writes them:
# translated in this catalog, through route_click. tests/i18n checks each is still one of
# click's msgids.
CLICK_MESSAGES = (
    N_("Usage:"), N_("Options"), N_("Commands"), N_("Positional arguments"),
    N_("Show this message and exit."), N_("Show the version and exit."),
    N_("%(prog)s, version %(version)s"), N_("default: {default}"), N_("required"),
    N_("env var: {var}"), N_("Error: {message}"), N_("Try '{command} {option}' for help."),
    N_("Aborted!"), N_("Missing command."), N_("Missing argument"), N_("Missing option"),
    N_("Missing parameter"), N_("Missing {param_type}"), N_("Missing parameter: {param_name}"),
    N_("No such option {name!r}."), N_("No such command {name!r}."),
    N_("Invalid value: {message}"), N_("Invalid value for {param_hint}: {message}"),
    N_("Could not open file {filename!r}: {message}"), N_("unknown error"),
    N_("Option {name!r} does not take a value."), N_("Argument {name!r} takes {nargs} values."),
    N_("{value!r} is not a valid {number_type}."), N_("{value} is not in the range {range}."),
    N_("{value!r} is not a valid boolean. Recognized values: {states}"),
    N_("file"), N_("directory"), N_("path"),
    N_("{name} {filename!r} does not exist."), N_("{name} {filename!r} is a file."),
    N_("{name} {filename!r} is a directory."), N_("{name} {filename!r} is not readable."),
    N_("{name} {filename!r} is not writable."), N_("{name} {filename!r} is not executable."),
    N_("Do you want to continue?"), N_("Repeat for confirmation"),
    N_("Error: The two entered values do not match."), N_("Error: invalid input"),
)


class _Plural:
    """Marks click's plural messages for extraction (Babel reads ``ngettext`` calls)."""

    @staticmethod
    def ngettext(singular: str, plural: str, n: int) -> tuple[str, str]:
        return singular, plural


CLICK_PLURALS = (
    _Plural.ngettext("Got unexpected extra argument ({args})",
                     "Got unexpected extra arguments ({args})", 1),
    _Plural.ngettext("Did you mean {possibility}?",
                     "(Did you mean one of: {possibilities}?)", 1),
    _Plural.ngettext("Option {name!r} requires an argument.",
                     "Option {name!r} requires {nargs} arguments.", 1),
    _Plural.ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", 1),
    _Plural.ngettext("Takes {nargs} values but 1 was given.",
                     "Takes {nargs} values but {len} were given.", 1),
)


def _click_gettext(message: str) -> str:
    if _INVOCATION.get() is None:  # not inside an invocation: click as written
        return message
    return translator(cli_language()).gettext(message)


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    if _INVOCATION.get() is None:
        return singular if n == 1 else plural
    return translator(cli_language()).ngettext(singular, plural, n)


class VersionMessage(str):
    """``--version``'s format string, translated when click fills it in (click takes the
    message once, when the option is declared, and formats it with ``%``)."""

    def __mod__(self, values: Any) -> str:
        return _click_gettext(str(self)) % values


VERSION_MESSAGE = VersionMessage("%(prog)s, version %(version)s")


def route_click() -> None:
    """Point the gettext calls of click's modules (``from gettext import gettext as _``,
    ``ngettext``) at :func:`_click_gettext`: click has no hook of its own for a
    per-invocation language."""
    for name, module in list(sys.modules.items()):
        if name != "click" and not name.startswith("click."):
            continue
        if getattr(module, "_", None) is gettext.gettext:
            module._ = _click_gettext  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]


route_click()


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


def rule_summaries() -> Iterator[str]:
    """What each rule id checks, as ``pesdc rules`` shows it: the loader's, ``pesdc
    new``'s and every registered rule's summary (written in ``@rule(...)``, unmarked)."""
    from pesdc.rules.registry import LOADER_RULES, all_rules
    from pesdc.scaffold.problems import SCAFFOLD_RULES

    for _name, summary in (*LOADER_RULES.values(), *SCAFFOLD_RULES.values()):
        yield summary
    for registered in all_rules().values():
        yield registered.summary


def extract_help(fileobj: Any, keywords: Any, comment_tags: Any,
                 options: Any) -> Iterator[tuple[Any, ...]]:
    """Babel extractor for this module (``babel.cfg``): its marked strings as Python,
    plus the help of every command of ``pesdc`` (docstrings and options' help) and the
    summary of every rule (:func:`rule_summaries`)."""
    from babel.messages.extract import extract_python

    from pesdc.cli.main import main

    yield from extract_python(fileobj, keywords, comment_tags, options)
    for text in help_messages(main):
        yield 0, "gettext", text, []
    for text in rule_summaries():
        yield 0, "gettext", text, []
