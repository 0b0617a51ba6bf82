"""Errors the lab reports to the user (never as a traceback)."""


class LabError(Exception):
    """A lab operation that cannot proceed; the message says why and what to do."""
