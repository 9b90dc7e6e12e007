"""Decide what to handle first, who may approve what, when to escalate, and
how each incident improves the playbook."""
