"""Retention rules, holds and the purge."""
