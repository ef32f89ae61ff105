"""{% url %} keeps a URL without arguments per process (issue 15, shop.templatetags.memo_url): the
kept answer must be exactly Django's for the prefix and URL configuration in force."""
from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.template import Context, Template
from django.urls import NoReverseMatch, include, path, reverse, set_script_prefix, set_urlconf

from shop.templatetags import memo_url

# Another URL configuration, with its own "shop:cart" and no "shop:home" (used as a urlconf below).
urlpatterns = [path("other/", include(([path("basket/", lambda request: HttpResponse(), name="cart")], "shop")))]


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_a_fixed_url_follows_the_script_prefix_and_the_url_configuration():
    try:
        for prefix in ("/", "/shop-a/", "/shop-b/", "/"):
            set_script_prefix(prefix)
            for _ in range(2):  # the second render is the kept answer
                assert render("{% url 'shop:cart' %}") == reverse("shop:cart") == f"{prefix}cart/"
        set_urlconf(__name__)
        assert render("{% url 'shop:cart' %}") == "/other/basket/"
        with pytest.raises(NoReverseMatch):
            render("{% url 'shop:home' %}")
        assert render("{% url 'shop:home' as link %}[{{ link }}]") == "[]"
    finally:
        set_urlconf(None)
        set_script_prefix("/")
    assert render("{% url 'shop:cart' as link %}[{{ link }}]") == "[/cart/]"


def test_urls_with_arguments_are_reversed_each_time_and_never_kept():
    kept = dict(memo_url._reversed)
    for slug in ("oak-shelf", "iron-pan"):
        assert render("{% url 'shop:product_detail' slug %}", slug=slug) == reverse("shop:product_detail", args=[slug])
    assert memo_url._reversed == kept
    assert render("{% url 'shop:home' %}") == "/"
    assert render('<a href="{% url \'shop:product_list\' %}?q={{ q }}">', q="<b>") == '<a href="/products/?q=&lt;b&gt;">'
