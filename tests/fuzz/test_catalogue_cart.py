"""Fuzz the catalogue's query string and the cart's add / update / remove endpoints."""
from __future__ import annotations

import pytest
from django import forms
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from shop.models import Cart, CartItem
from tests.fuzz.hostile import (
    assert_no_raw_markup,
    assert_not_5xx,
    assert_safe_redirect,
    assert_shown_escaped,
    assert_unchanged,
    field,
    form,
    fuzz,
    hostile_number,
    hostile_text,
    isolated,
    last,
    safe_next,
    snapshot,
)

pytestmark = pytest.mark.django_db

QUERY_KEYS = st.sampled_from(["q", "category", "sort", "page", "q", "page", "next", "csrfmiddlewaretoken"])


@fuzz(80)
@given(params=st.dictionaries(st.one_of(QUERY_KEYS, hostile_text().filter(bool)),
                              field(st.one_of(hostile_text(), hostile_number(),
                                              st.sampled_from(["kitchen", "garden", "price", "-price", "newest",
                                                               "name", "2", "fuzz", "item"])), missing=False),
                              max_size=5))
@example(params={"q": '"><img src=x onerror=alert(fz)>'})
@example(params={"page": ["2", "999999999999999999999"], "sort": "-price", "category": "kitchen"})
@example(params={"q": "a" * 10_001})
def test_product_list_never_fails_and_echoes_the_search_escaped(anon, fuzz_catalogue, settings, params):
    settings.SHOP_PAGE_SIZE = 2
    with isolated(anon):
        before = snapshot()
        response = anon.get(reverse("shop:product_list"), params)
        assert_not_5xx(response, f"GET /products/ {params!r}")
        if _refused_at_the_door(params):
            # A character no database can store: the guard answers 400 and echoes nothing.
            assert response.status_code == 400
            assert_unchanged(before, "(a refused GET)")
            return
        assert response.status_code == 200
        page = assert_no_raw_markup(response, "the product list")
        assert "Fuzz item 4" not in page  # the inactive product is never listed
        assert "prefs_sort" not in response.cookies  # no preference consent, no preference cookie
        assert_unchanged(before, "(a GET)")
        q = last(params, "q")
        if isinstance(q, str) and response.context["form"].is_valid():
            assert_shown_escaped(page, q.strip(), "the search box")


def _refused_at_the_door(params) -> bool:
    from config.middleware import unstorable

    items = params.items() if isinstance(params, dict) else params
    return any(unstorable(str(k)) or any(unstorable(str(v)) for v in (vs if isinstance(vs, list) else [vs]))
               for k, vs in items)


def _int(value, low, high):
    """Django's IntegerField parsing of a submitted value; None when the form refuses it."""
    try:
        return forms.IntegerField(min_value=low, max_value=high).clean(value)
    except forms.ValidationError:
        return None


def _products(catalogue):
    """Product ids to send: real ones (in stock, low stock, out of stock, inactive) and hostile."""
    real = st.sampled_from([str(p.pk) for p in catalogue])
    return st.one_of(real, real, hostile_number())


@fuzz(80)
@given(data=st.data())
def test_cart_add_update_remove_keep_every_line_within_stock(anon, fuzz_catalogue, data):
    catalogue = {p.pk: p for p in fuzz_catalogue}
    action = data.draw(st.sampled_from(["cart_add", "cart_update", "cart_remove"]), label="action")
    start = data.draw(st.sampled_from([None, 0, 3]), label="existing line (product index, 1 unit)")
    quantity = st.one_of(st.integers(-3, 130).map(str), hostile_number())
    body = data.draw(form(product=field(_products(fuzz_catalogue)), quantity=field(quantity),
                          next=field(safe_next(st.one_of(hostile_text(), st.sampled_from(
                              ["/products/", "//evil.example/", "https://evil.example/"]))))),
                     label="POST")
    with isolated(anon):
        if start is not None:
            assert anon.post(reverse("shop:cart_add"), {"product": fuzz_catalogue[start].pk,
                                                        "quantity": 1}).status_code == 302
        cart = Cart.objects.filter(user__isnull=True).first()
        lines = dict(CartItem.objects.filter(cart=cart).values_list("product_id", "quantity")) if cart else {}
        before = snapshot()

        response = anon.post(reverse(f"shop:{action}"), body)

        assert_not_5xx(response, f"POST {action} {body!r}")
        assert response.status_code == 302
        assert_safe_redirect(response)
        cart = Cart.objects.filter(user__isnull=True).first()
        after = dict(CartItem.objects.filter(cart=cart).values_list("product_id", "quantity")) if cart else {}

        product_id = _int(last(body, "product"), 1, 2**31 - 1)
        product = catalogue.get(product_id)
        expected = dict(lines)
        if action == "cart_add":
            qty = _int(last(body, "quantity"), 1, 99)
            if product_id is not None and qty is not None and product is not None and product.is_active:
                wanted = lines.get(product_id, 0) + qty
                if wanted <= min(product.stock, 99):
                    expected[product_id] = wanted
        elif action == "cart_update":
            qty = _int(last(body, "quantity"), 0, 99)
            if product_id is not None and qty is not None and cart is not None and start is not None:
                if qty == 0:
                    expected.pop(product_id, None)
                elif product is not None and product.is_active and qty <= min(product.stock, 99):
                    expected[product_id] = qty
        elif product_id is not None and start is not None:
            expected.pop(product_id, None)
        assert after == expected, f"{action} {body!r}: cart {lines} became {after}, expected {expected}"
        if after == lines:
            assert_unchanged(before, f"by {action} {body!r}")
        for pid, qty in after.items():
            assert 1 <= qty <= min(catalogue[pid].stock, 99)

        page = anon.get(reverse("shop:cart"))
        assert page.status_code == 200
        assert_no_raw_markup(page, "the cart")
