"""The personal-data registry: taxonomy, declarations, subjects and the system check.
Imports nothing else of privacy."""
