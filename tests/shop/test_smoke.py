import pytest


@pytest.mark.django_db
def test_home_lists_new_products(client, catalogue):
    response = client.get("/")
    assert response.status_code == 200
    assert "Item 029" in response.content.decode()
