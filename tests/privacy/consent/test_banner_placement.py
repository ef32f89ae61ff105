"""The cookie banner floats at the bottom instead of pushing the page down, and is not shown again on
the cookie settings page, where the same choices are the page itself."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db
CSS = (Path(settings.BASE_DIR) / "static" / "css" / "shop.css").read_text()


def test_banner_is_on_pages_but_not_on_the_cookie_settings_page(client):
    assert 'class="cookie-banner"' in client.get(reverse("shop:home")).content.decode()
    page = client.get(reverse("privacy:cookies")).content.decode()
    assert 'class="cookie-banner"' not in page
    assert "Accept all" in page or "accept_all" in page  # the choices are on the page itself


@pytest.mark.promise("P19")
def test_accept_and_reject_are_the_same_kind_of_button(client):
    page = client.get(reverse("shop:home")).content.decode()
    accept = re.search(r'<button[^>]*value="accept_all"[^>]*>', page).group(0)
    reject = re.search(r'<button[^>]*value="reject_all"[^>]*>', page).group(0)
    assert accept.replace("accept_all", "X") == reject.replace("reject_all", "X")


def test_banner_is_fixed_at_the_bottom_and_the_page_keeps_room_for_it():
    rule = re.search(r"\.cookie-banner \{([^}]*)\}", CSS).group(1)
    assert "position:fixed" in rule and "bottom:0" in rule
    assert re.search(r"body:has\(\.cookie-banner\) \{ padding-bottom:", CSS)
    assert re.search(r"html:has\(\.cookie-banner\) \{ scroll-padding-bottom:", CSS)
