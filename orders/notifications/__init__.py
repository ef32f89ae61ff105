"""The outbox of customer emails and the emails themselves (P6)."""
