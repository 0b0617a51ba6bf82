"""Scaffolding: a new city or province center file written from the tree's conventions.

`pesdc new city|province` allocates the center's address plan from space free in the
whole tree (allocate), fills a template with the tree's zone and segment names, uplink
and link habits (conventions, template), edits the parent's router and cross-center
flows where the tree wires its children that way (parent_edit), checks the result as
`pesdc validate` and `pesdc render` would in a scratch copy of the tree, and only then
writes anything (create). Bad input is a Problem with a NEW rule id (problems).
"""

from pesdc.scaffold.create import Created, Request, create
from pesdc.scaffold.problems import SCAFFOLD_RULES, Problem, ScaffoldError

__all__ = ["SCAFFOLD_RULES", "Created", "Problem", "Request", "ScaffoldError", "create"]
