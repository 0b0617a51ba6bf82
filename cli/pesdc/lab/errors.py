"""Errors the lab reports to the user (never as a traceback)."""

from pesdc.localized import LocalizedError


class LabError(LocalizedError):
    """A lab operation that cannot proceed; the message says why and what to do (an
    ``N_`` template and its values: the command line shows it in its language)."""
