"""The pesdc command line. The library never imports this module."""

from __future__ import annotations

import click

from pesdc.cli.common import CONTEXT
from pesdc.cli.language import LANG_OPTION, VERSION_MESSAGE, TranslatedGroup
from pesdc.cli.lazy import LazyCommands

# Where each command lives: its module is imported when the command is used (cli/lazy.py)
COMMANDS: dict[str, tuple[str, str]] = {
    name: (f"pesdc.cli.{module}", name.replace("-", "_"))
    for module, names in {
        "model_cmds": ("validate", "schema", "rules"),
        "render_cmd": ("render",), "lab_cmd": ("lab",), "show_cmd": ("show",),
        "graph_cmd": ("graph",), "net_cmd": ("net",),
        "provision_cmd": ("plan", "apply", "controls"),
        "journal_cmd": ("journal", "lock"), "verify_cmd": ("verify",),
        "export_cmd": ("export",), "stage_cmd": ("stage", "diff"), "audit_cmd": ("audit",),
        "targets_cmd": ("targets",), "ledger_cmd": ("ledger",), "report_cmd": ("report",),
        "new_cmd": ("new",),
    }.items()
    for name in names
}


@click.group(cls=TranslatedGroup, context_settings=CONTEXT)
@click.version_option(package_name="pesdc", message=VERSION_MESSAGE)
@LANG_OPTION
def main() -> None:
    """pesdc: public employment service data centers as code.

    Describe ministry, province and city centers in YAML; validate, render,
    bring up a lab, provision, verify, audit, and plan consolidation stages.
    """


main.commands = LazyCommands(COMMANDS)
