import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from shop.models import Cart, CartItem
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def cart_lines(client) -> dict[str, int]:
    view = client.get(reverse("shop:cart")).context["cart"]
    return {line.product.name: line.quantity for line in view.lines}


def flash(response) -> str:
    """The newest message shown to the shopper after this request."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def test_guest_adds_changes_and_removes(client, shopper, product):
    shopper.add(product, 2)
    assert cart_lines(client) == {"Walnut Desk Lamp": 2}
    shopper.add(product, 1)
    assert cart_lines(client) == {"Walnut Desk Lamp": 3}
    client.post(reverse("shop:cart_update"), {"product": product.pk, "quantity": 1})
    assert cart_lines(client) == {"Walnut Desk Lamp": 1}
    client.post(reverse("shop:cart_remove"), {"product": product.pk})
    assert cart_lines(client) == {}
    assert "Your cart is empty" in client.get(reverse("shop:cart")).content.decode()


def test_setting_quantity_zero_removes_the_line(client, shopper, product):
    shopper.add(product, 2)
    client.post(reverse("shop:cart_update"), {"product": product.pk, "quantity": 0})
    assert cart_lines(client) == {}


def test_cart_shows_subtotal_and_free_shipping_in_usd(client, shopper, product):
    shopper.add(product, 2)
    body = client.get(reverse("shop:cart")).content.decode()
    assert "$99.00" in body
    assert "Shipping and duties" in body and "Free" in body


def test_quantity_above_stock_is_refused_with_a_clear_message(client, shopper, product):
    shopper.add(product, 4)
    response = shopper.add(product, 2)
    assert flash(response) == "Only 5 of “Walnut Desk Lamp” can be ordered; you asked for 6."
    assert cart_lines(client) == {"Walnut Desk Lamp": 4}
    response = client.post(reverse("shop:cart_update"), {"product": product.pk, "quantity": 9})
    assert flash(response).startswith("Only 5 of")
    assert cart_lines(client) == {"Walnut Desk Lamp": 4}


@pytest.mark.parametrize("quantity", ["-1", "0", "abc", "1.5", "100000000000000000000", "", "1;2"])
def test_malformed_quantities_are_refused_and_change_nothing(client, shopper, product, quantity):
    shopper.add(product, 1)
    response = client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": quantity})
    assert response.status_code == 302
    assert flash(response)
    assert cart_lines(client) == {"Walnut Desk Lamp": 1}


@pytest.mark.parametrize("product_id", ["999999", "-3", "x", ""])
def test_unknown_products_cannot_be_added(client, db, product_id):
    response = client.post(reverse("shop:cart_add"), {"product": product_id, "quantity": 1})
    assert response.status_code == 302
    assert flash(response)
    assert not CartItem.objects.exists()


def test_out_of_stock_and_inactive_products_cannot_be_added(client, shopper, db):
    empty = ProductFactory(name="Sold Out Tent", stock=0)
    retired = ProductFactory(name="Retired Lamp", is_active=False)
    assert flash(shopper.add(empty)) == "“Sold Out Tent” is out of stock."
    assert flash(shopper.add(retired)) == "This product is no longer available."
    assert not CartItem.objects.exists()


def test_cart_pages_refuse_get_for_changes(client, product):
    assert client.get(reverse("shop:cart_add")).status_code == 405


def test_redirect_after_add_never_leaves_the_site(client, product):
    response = client.post(reverse("shop:cart_add"),
                           {"product": product.pk, "quantity": 1, "next": "https://evil.example/phish"})
    assert response["Location"] == reverse("shop:cart")


def test_a_users_cart_is_kept_across_logins(client, user, password, product):
    client.force_login(user)
    client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 2})
    client.logout()
    assert cart_lines(client) == {}
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert cart_lines(client) == {"Walnut Desk Lamp": 2}


def test_guest_cart_merges_into_the_users_cart_at_login(client, user, password, product):
    other = ProductFactory(name="Linen Cushion", stock=3)
    client.force_login(user)
    client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 3})
    client.logout()
    client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 4})
    client.post(reverse("shop:cart_add"), {"product": other.pk, "quantity": 2})
    response = client.post(reverse("account_login"), {"login": user.email, "password": password}, follow=True)
    assert cart_lines(client) == {"Walnut Desk Lamp": 5, "Linen Cushion": 2}  # 3+4 capped at stock 5
    assert "“Walnut Desk Lamp”: only 5 available, your cart was adjusted." in [
        str(m) for m in response.context["messages"]]
    assert Cart.objects.count() == 1  # the guest cart is gone, nothing left behind


def test_two_guests_never_see_each_others_carts(client, product, django_user_model):
    from django.test import Client

    other = Client()
    other.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1})
    assert cart_lines(client) == {}
    cart = Cart.objects.get()
    session = client.session
    session["cart_id"] = cart.pk + 1000
    session.save()
    assert cart_lines(client) == {}


def _session_names_an_accounts_cart(client, product) -> Cart:
    """A guest whose session names (guesses) the id of an account's cart holding one unit."""
    cart = Cart.objects.create(user=UserFactory())
    CartItem.objects.create(cart=cart, product=product, quantity=1)
    session = client.session
    session["cart_id"] = cart.pk
    session.save()
    return cart


def test_a_users_cart_is_not_readable_by_a_guest_who_guesses_its_id(client, product):
    _session_names_an_accounts_cart(client, product)
    assert cart_lines(client) == {}


def test_a_guest_whose_session_names_an_accounts_cart_adds_to_a_new_cart_of_their_own(client, product):
    """The one-statement add checks that a guest's cart belongs to no account (issue 15)."""
    cart = _session_names_an_accounts_cart(client, product)
    assert client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 2}).status_code == 302
    assert CartItem.objects.get(cart=cart).quantity == 1  # the account's line is untouched
    assert cart_lines(client) == {"Walnut Desk Lamp": 2}
    assert Cart.objects.exclude(pk=cart.pk).get().user is None


def test_adding_to_a_line_counts_every_unit_and_a_refused_add_changes_nothing(client, shopper, product):
    """Add to cart writes its line in one statement (issue 15): the units add up whether the line
    is new or not, and an add past the stock leaves the line and the cart's time as they were."""
    other = ProductFactory(name="Oak Shelf", stock=30)
    for _ in range(3):
        shopper.add(other, 2)
    shopper.add(product, 5)
    cart = Cart.objects.get()
    touched = cart.updated_at
    response = shopper.add(product, 1)
    assert flash(response) == "Only 5 of “Walnut Desk Lamp” can be ordered; you asked for 6."
    assert cart_lines(client) == {"Oak Shelf": 6, "Walnut Desk Lamp": 5}
    assert Cart.objects.get().updated_at == touched and CartItem.objects.count() == 2
    assert flash(shopper.add(other, 1)) == "Added to your cart: Oak Shelf (now 7)."


def test_add_to_cart_makes_a_fixed_number_of_queries(client, shopper, product, django_assert_max_num_queries):
    shopper.add(product, 1)
    # session, the line (one statement checks the guest's cart, the product and its stock), the
    # cart's time: no cart lookup, no transaction. The notice rides in its cookie: no session write.
    with django_assert_max_num_queries(3):
        assert client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1}).status_code == 302


def test_notices_not_yet_shown_are_kept_to_the_newest_ten(client, shopper, db):
    """A client that posts without reading the pages it is sent to must not grow its session by a
    notice per request (issue 15: every later request decoded them all)."""
    products = [ProductFactory(name=f"Jar {n:02d}", stock=5) for n in range(15)]
    for product in products:
        shopper.add(product, 1)
    html = client.get(reverse("shop:cart")).content.decode()
    shown = [n for n in range(15) if f"Added to your cart: Jar {n:02d} (now 1)." in html]
    assert shown == list(range(5, 15))  # the newest ten, the last one included
    assert client.cookies["messages"].value == ""  # they rode in the cookie, deleted once shown
    assert "Added to your cart" not in client.get(reverse("shop:cart")).content.decode()  # shown once
    assert len(cart_lines(client)) == 15  # every add happened
