"""The record of processing, generated from the registry (never written by hand)."""
from __future__ import annotations

import re

from allauth.mfa.adapter import get_adapter as mfa_adapter
from allauth.mfa.models import Authenticator

from privacy.processors.disclosure import PROCESSORS
from privacy.protection.sealing import PERSON_KEY_MODELS
from privacy.registry import declarations as registry

PROBE = "probe-not-a-secret"


def _secrets_encrypted_by_mfa_adapter() -> bool:
    """allauth keeps TOTP secrets and recovery-code seeds inside a JSON field, through its MFA
    adapter's encrypt(): what that adapter really does decides, not what anyone wrote down."""
    adapter = mfa_adapter()
    return adapter.encrypt(PROBE) != PROBE


def encryption(entry: registry.Entry, name: str) -> tuple[bool, str]:
    """(encrypted?, in words) for one registered field, from what stores it: the field's class
    (django-cryptography's encrypted fields), or for allauth's authenticators the adapter that
    writes the secrets. Otherwise not encrypted, with the registry's reason."""
    field = entry.model._meta.get_field(name)
    if registry.encrypted_at_rest(field):
        return True, "Encrypted"
    if entry.model is Authenticator and name == "data" and _secrets_encrypted_by_mfa_adapter():
        return True, "The secrets inside are encrypted"
    reason = entry.fields[name].plaintext_reason
    return False, f"Not encrypted: {reason}" if reason else "Not encrypted"


# How the policy and the record name what each model sealed per person holds; every model of
# PERSON_KEY_MODELS has its words here (a test checks), so the text lists exactly what is covered.
PER_PERSON_WORDS = {
    "shop.User": "your account", "shop.Address": "your address book", "orders.Order": "your orders",
    "orders.Payment": "the card brand and last four digits of your payments",
    "orders.ReturnRequest": "why you returned something", "orders.SupportThread": "your conversations with "
    "customer service", "orders.SupportMessage": "their messages",
    "orders.Attachment": "the files you attached (the files themselves too)",
    "privacy.MarketingSubscriber": "your newsletter subscription",
    "privacy.AffectedPerson": "our notices to you about a security incident",
    "privacy.PrivacyRequest": "your privacy requests and questions",
}


def backups_text() -> str:
    """What erasure reaches in backups, from PERSON_KEY_MODELS (never listed by hand twice)."""
    covered = [PER_PERSON_WORDS.get(label, label) for label in PERSON_KEY_MODELS]
    return (
        f"The personal details of {', '.join(covered[:-1])} and {covered[-1]} are encrypted under a key of the "
        "person's own, kept in the key store (a separate database, never in the shop's database, its files or "
        "their backups). Erasure destroys that key, so copies of these details in every backup of the shop's "
        "database and of its file storage stop opening at once. What must stay readable as a legal record after "
        "an erasure (the details of a legal hold, the incident register, staff's access log) and the few other "
        "encrypted fields use the shop-wide key and leave backups when those expire. The key store keeps only "
        "tombstones of erased people (an account id or an email's keyed hash, and a date). The key store's own "
        "backups must be kept no longer than the shop's database backups, and after restoring either, the "
        "erasures are replayed (manage.py privacy_replay_erasures) before the shop reopens. The email you sign in "
        "with is encrypted under your key too: the shop finds your account by a keyed fingerprint of the "
        "address, which cannot be turned back into it, and replaying the erasures deletes that too. The backups "
        f"themselves go on their own schedule: {PROCESSORS['hosting'].deletion.rstrip('.').lower()}.")


def _retention_text(entry: registry.Entry) -> list[str]:
    return [f"{r.description}" + (f" (after {r.period.days} days, then {r.then.label})" if r.period.days
                                   else f" ({r.then.label} at once)") for r in entry.retention]


def inventory() -> dict:
    models = []
    for entry in registry.entries():
        models.append({
            "model": entry.label,
            "name": entry.verbose_name,
            "description": entry.description,
            "purpose": entry.purpose.label,
            "legal_basis": entry.legal_basis.label,
            "categories": [c.label for c in entry.categories()],
            "fields": [{
                "field": name, "category": p.category.label, "purpose": entry.field_purpose(name).label,
                "erasure": p.erase.label + (f": {p.erase.reason}" if isinstance(p.erase, registry.Keep) else ""),
                "exported": p.export, "encrypted": encryption(entry, name)[0],
                "encryption": encryption(entry, name)[1],
            } for name, p in entry.fields.items()],
            "retention": _retention_text(entry) or ["Kept while your account or order needs it; erased on request."],
            "recipients": [PROCESSORS[r].name for r in entry.recipients if r in PROCESSORS],
            "encryption_key": "per person" if entry.label in PERSON_KEY_MODELS else "shop-wide",
        })
    return {
        "models": models,
        "processors": [{"key": p.key, "name": p.name, "purpose": p.purpose, "receives": sorted(p.receives),
                        "country": p.country, "safeguard": p.safeguard, "deletion": p.deletion}
                       for p in PROCESSORS.values()],
        "not_personal": [{"model": n.model._meta.label, "reason": re.sub(r"\s*\(P\d+\)", "", n.reason)}
                         for n in registry.non_personal()],
        "erasure_and_backups": backups_text(),
    }


def inventory_markdown() -> str:
    data = inventory()
    out = ["# Record of processing", "", "## Personal data by model", ""]
    for m in data["models"]:
        out += [f"### {m['name']} (`{m['model']}`)", "", m["description"], "",
                f"- Purpose: {m['purpose']}", f"- Legal basis: {m['legal_basis']}",
                f"- Categories: {', '.join(m['categories']) or '—'}",
                f"- Retention: {'; '.join(m['retention'])}",
                f"- Recipients: {', '.join(m['recipients']) or 'none'}",
                f"- Encryption key: {m['encryption_key']}", ""]
        if m["fields"]:
            out += ["| field | category | purpose | on erasure | exported | encrypted |", "|---|---|---|---|---|---|"]
            out += [f"| {f['field']} | {f['category']} | {f['purpose']} | {f['erasure']} | "
                    f"{'yes' if f['exported'] else 'no'} | {'yes' if f['encrypted'] else 'no'} |" for f in m["fields"]]
            out.append("")
    out += ["## Processors and transfers", "", "| processor | purpose | receives | country | safeguard |",
            "|---|---|---|---|---|"]
    out += [f"| {p['name']} | {p['purpose']} | {', '.join(p['receives']) or '—'} | {p['country']} | "
            f"{p['safeguard']} |" for p in data["processors"]]
    out += ["", "## Erasure and backups", "", data["erasure_and_backups"]]
    out += ["", "## Models without personal data", ""]
    out += [f"- `{n['model']}`: {n['reason']}" for n in data["not_personal"]]
    return "\n".join(out) + "\n"
