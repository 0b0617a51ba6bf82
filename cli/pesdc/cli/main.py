"""The pesdc command line. The library never imports this module."""

from __future__ import annotations

import click

from pesdc.cli.audit_cmd import audit
from pesdc.cli.common import CONTEXT
from pesdc.cli.export_cmd import export
from pesdc.cli.graph_cmd import graph
from pesdc.cli.journal_cmd import journal, lock
from pesdc.cli.lab_cmd import lab
from pesdc.cli.language import LANG_OPTION, VERSION_MESSAGE, TranslatedGroup
from pesdc.cli.ledger_cmd import ledger
from pesdc.cli.model_cmds import rules, schema, validate
from pesdc.cli.net_cmd import net
from pesdc.cli.new_cmd import new
from pesdc.cli.provision_cmd import apply, controls, plan
from pesdc.cli.render_cmd import render
from pesdc.cli.report_cmd import report
from pesdc.cli.show_cmd import show
from pesdc.cli.stage_cmd import diff, stage
from pesdc.cli.targets_cmd import targets
from pesdc.cli.verify_cmd import verify


@click.group(cls=TranslatedGroup, context_settings=CONTEXT)
@click.version_option(package_name="pesdc", message=VERSION_MESSAGE)
@LANG_OPTION
def main() -> None:
    """pesdc: public employment service data centers as code.

    Describe ministry, province and city centers in YAML; validate, render,
    bring up a lab, provision, verify, audit, and plan consolidation stages.
    """


for command in (validate, schema, rules, render, lab, show, graph, net, plan, apply, journal,
                lock, controls, verify, export, stage, diff, audit, targets, ledger, report, new):
    main.add_command(command)
