"""Checks on a loaded topology, keyed by rule id (see ``pesdc rules``)."""
