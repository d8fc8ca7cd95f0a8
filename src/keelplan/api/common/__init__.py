"""Plumbing shared by every API dialect."""
