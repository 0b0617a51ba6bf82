"""Where a connecting command goes: a lab, or a live center through its bastion."""
