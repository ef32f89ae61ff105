"""Device and network data serve security only, and only coarsely (P28): an IP address is cut
to its network (/24, /48) and a browser's user agent to "browser on system"."""
from __future__ import annotations

import ipaddress
import re

_BROWSERS = [("Edge", r"Edg/"), ("Opera", r"OPR/"), ("Firefox", r"Firefox/"), ("Chrome", r"Chrome/|Chromium/"),
             ("Safari", r"Safari/"), ("curl", r"^curl/")]
_SYSTEMS = [("Android", r"Android"), ("iOS", r"iPhone|iPad"), ("Windows", r"Windows"), ("macOS", r"Mac OS X"),
            ("Linux", r"Linux|X11")]


def truncate_ip(value: str | None) -> str:
    try:
        ip = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return "0.0.0.0"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def coarse_user_agent(value: str | None) -> str:
    value = value or ""
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, value)), "Other browser")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, value)), "other system")
    return f"{browser} on {system}"
