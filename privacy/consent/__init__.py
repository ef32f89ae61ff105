"""Cookies, the consent ledger, GPC, marketing, personalisation and anonymous counts."""
