"""The national roll-up (`pesdc report national`): many centers' verify and audit
results on one page, on the ministry -> province -> city tree.

:mod:`.evidence` reads a results folder, :mod:`.rollup` joins it with the tree and the
stage check, :mod:`.page` writes the HTML page and the JSON."""
