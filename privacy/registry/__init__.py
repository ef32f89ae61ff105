"""The personal-data registry: the vocabulary (taxonomy), what each model declares
(declarations), what the owning apps say about erasure and retention (hooks) and the system
check (checks). Imports nothing else of privacy.

The names below are the registry's public API: the owning apps' personal_data.py modules
import them from here (`from privacy.registry import Personal, DataCategory, ...`).
"""
from .declarations import (
    Anonymise,
    Decay,
    Delete,
    Drop,
    Entry,
    Erasure,
    Keep,
    NotPersonal,
    Personal,
    Remove,
    Retention,
    Truncate,
    entries,
    entry_for,
    is_classified,
    network_prefix,
    non_personal,
    not_personal,
    outward_postcode,
    register,
    unregister,
)
from .hooks import (
    PartialOutcome,
    block_erasure,
    hold_retention,
    hold_target,
    on_erasure,
    on_partial_erasure,
    on_withdrawal,
    residence_from,
)
from .taxonomy import DataCategory, DecayTrigger, LegalBasis, ProcessingPurpose

__all__ = [
    "Anonymise", "DataCategory", "Decay", "DecayTrigger", "Delete", "Drop", "Remove", "Truncate", "network_prefix", "Entry", "Erasure", "Keep", "LegalBasis", "NotPersonal", "Personal",
    "ProcessingPurpose", "Retention", "block_erasure", "entries", "entry_for", "hold_retention", "hold_target", "is_classified",
    "non_personal", "not_personal", "on_erasure", "on_partial_erasure", "on_withdrawal", "outward_postcode",
    "residence_from", "register", "unregister", "PartialOutcome",
]
