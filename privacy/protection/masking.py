"""How staff see personal data: masked by default, in every admin list, detail view,
search result, export and staff email. Only an explicit, logged reveal shows the value."""
from __future__ import annotations

DOT = "•"


def mask_text(value) -> str:
    return DOT * 3 if value not in (None, "") else ""


def mask_email(value) -> str:
    """jane.doe@example.com → j•••@e•••.com"""
    value = str(value or "")
    if "@" not in value:
        return mask_text(value)
    local, _, domain = value.partition("@")
    host, dot, tld = domain.rpartition(".")
    if not dot:
        host, tld = domain, ""
    return f"{local[:1]}{DOT * 3}@{host[:1]}{DOT * 3}{'.' + tld if tld else ''}"


def mask_name(value) -> str:
    """Ada Lovelace → A•• L•••"""
    return " ".join(f"{w[:1]}{DOT * 3}" for w in str(value or "").split())


def mask_phone(value) -> str:
    """+44 20 7946 0942 → •••• •••• 42"""
    digits = [c for c in str(value or "") if c.isdigit()]
    if not digits:
        return ""
    return f"{DOT * 4} {DOT * 4} {''.join(digits[-2:])}"


def mask_address_line(value) -> str:
    """Street lines and postal codes are hidden entirely; city and country stay readable."""
    return mask_text(value)


def show(value) -> str:
    """For fields that are personal but meant to be seen (city, country): shown as they are."""
    return "" if value is None else str(value)



def mask_declared(personal, value) -> str:
    """`value` as staff see it by default: the field's declared mask, else mask_text."""
    return (personal.mask or mask_text)(value)
