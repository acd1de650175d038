"""Placeholder; the construct issue fills this."""
