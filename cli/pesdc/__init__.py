"""pesdc: infrastructure as code for public employment service data centers."""

__version__ = "0.1.0"
