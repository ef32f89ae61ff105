"""What a person reads on a page, checked the same way on every customer and staff screen: no
raw timestamps, no model class names, no "User #", no internal labels. Plus the screenshot at
desktop and phone width and the axe audit, in one call per page."""
from __future__ import annotations

import re

from tests.e2e.test_accessibility import assert_accessible, audit

WIDTHS = {"desktop": 1280, "phone": 390}

# Words a person should never read: the developer's names for things.
RAW = [
    (re.compile(r"\d{2}:\d{2}:\d{2}\.\d{3,}"), "a timestamp with microseconds"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"), "an ISO timestamp"),
    (re.compile(r"User #\d*"), '"User #"'),
    (re.compile(r"\b(?:Order line|Export job|User session|Log entry|Access log (?:entry|subject)|Consent record"
                r"|Privacy request|Browsing event|Cart item|Support (?:message|thread)|Email confirmation"
                r"|Marketing subscriber|Policy acknowledgement|Processor deletion|Affected person)\b"),
     "a model class name"),
    (re.compile(r"\bDisclosure\b"), "a model class name"),
    (re.compile(r"\b(?:orders|shop|privacy|account|mfa|usersessions|sessions|admin)\.[A-Z]\w+\b"), "an app.Model label"),
    (re.compile(r"\bIp\b"), 'the label "Ip"'),
    (re.compile(r"\(0 days\)"), '"(0 days)"'),
    (re.compile(r"\(P\d+\)"), "an internal promise id"),
]


def raw_words(text: str, *, skip_model_names: bool = False) -> list[str]:
    found = []
    for pattern, what in RAW:
        if skip_model_names and what in ("a model class name", "an app.Model label"):
            continue
        for m in pattern.finditer(text):
            found.append(f"{what}: {text[max(0, m.start() - 40):m.end() + 40]!r}")
    return found


def assert_reads_well(page, label: str, *, root: str = "main", skip_model_names: bool = False) -> None:
    text = page.locator(root).first.inner_text()
    problems = raw_words(text, skip_model_names=skip_model_names)
    assert not problems, f"{label} ({page.url}) shows what a person should not read:\n  " + "\n  ".join(problems)


def check_page(page, snap, label: str, *, width: str, root: str = "main", skip_model_names: bool = False) -> list[str]:
    """At the given width: screenshot, the reading checks, the axe audit (failures returned), and
    no box that scrolls sideways inside the page."""
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    page.wait_for_load_state("load")
    snap(page, f"{label}-{width}")
    assert_reads_well(page, label, root=root, skip_model_names=skip_model_names)
    overflow = page.evaluate("""() => document.documentElement.scrollWidth - document.documentElement.clientWidth""")
    assert overflow <= 1, f"{label} at {width} width scrolls sideways by {overflow}px"
    return audit(page, f"{label} ({width})")


__all__ = ["WIDTHS", "assert_accessible", "assert_reads_well", "check_page", "raw_words"]
