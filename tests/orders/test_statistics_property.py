"""The suppression rule for products and categories (P9), checked by exhaustion on random shops:
nothing resting on fewer than k people can be computed from the published figures, by any linear
combination of them (exact rational arithmetic, every subset of the hidden products)."""
from fractions import Fraction
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders.analytics import hide_products

K = 3


def rank(rows: list[list[Fraction]]) -> int:
    rows = [r[:] for r in rows]
    rank, cols = 0, len(rows[0]) if rows else 0
    for col in range(cols):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                factor = rows[i][col] / rows[rank][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def derivable(target: list[Fraction], published: list[list[Fraction]]) -> bool:
    return bool(published) and rank(published) == rank([*published, target])


shops = st.dictionaries(
    keys=st.tuples(st.sampled_from("abcdef"), st.sampled_from(["X", "Y", "Z", None])),
    values=st.sets(st.integers(min_value=1, max_value=9), min_size=1, max_size=6),
    min_size=1, max_size=7)


@pytest.mark.promise("P9")
@settings(max_examples=300, deadline=None)
@given(people=shops)
def test_no_hidden_group_of_fewer_than_k_people_can_be_computed(people):
    people = {p: {f"person{i}" for i in who} for p, who in people.items()}
    hidden, hidden_cats = hide_products(people=people, k=K)
    products = list(people)
    index = {p: i for i, p in enumerate(products)}

    def vector(members) -> list[Fraction]:
        v = [Fraction(0)] * len(products)
        for p in members:
            v[index[p]] = Fraction(1)
        return v

    everyone = set().union(*people.values())
    published = [vector([p]) for p in products if p not in hidden]
    published += [vector([p for p in products if p[1] == c]) for c in {p[1] for p in products} - hidden_cats]
    if len(everyone) >= K:
        published.append(vector(products))  # the window's total
    for p in products:  # what is shown rests on k people
        assert p in hidden or len(people[p]) >= K
    for c in {p[1] for p in products} - hidden_cats:
        assert len(set().union(*(people[p] for p in products if p[1] == c))) >= K
    hidden_list = sorted(hidden, key=str)
    for n in range(1, len(hidden_list) + 1):
        for group in combinations(hidden_list, n):
            if len(set().union(*(people[p] for p in group))) < K:
                assert not derivable(vector(group), published), group


PRODUCTS = [("a", "X"), ("b", "X"), ("c", "Y"), ("d", None)]


@st.composite
def grids(draw):
    """Every (day, product) cell sold: the guarantee is about an observer who does not know which
    products sold on which day (one who knows a cell is empty can solve more; see the report)."""
    days = draw(st.integers(min_value=1, max_value=3))
    products = draw(st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=4, unique=True))
    return {(d, p): draw(st.sets(st.integers(min_value=1, max_value=8), min_size=1, max_size=4))
            for d in range(days) for p in products}


@pytest.mark.promise("P9")
@settings(max_examples=200, deadline=None)
@given(cells=grids())
def test_days_and_products_together_never_give_away_a_cell_or_a_hidden_group(cells):
    """The page publishes the margins of a (day x product) table: days, products, categories, the
    total. No cell of the table on fewer than k people, and no group of hidden days or of hidden
    products on fewer than k people, is a linear combination of what is published."""
    from orders.analytics import protect

    cells = {c: {f"person{i}" for i in who} for c, who in cells.items()}
    days = sorted({d for d, _ in cells})
    products = sorted({p for _, p in cells}, key=str)

    def people(members) -> set:
        return set().union(set(), *(who for c, who in cells.items() if c in members))

    def on_day(d):
        return [c for c in cells if c[0] == d]

    def of_products(ps):
        return [c for c in cells if c[1] in ps]

    day_people = {(d,): people(on_day(d)) for d in days}
    hidden_days = protect(cells=list(day_people), weight=lambda ds: len(set().union(*(day_people[d] for d in ds))),
                          groups=[list(day_people)], k=K)
    product_people = {p: people(of_products([p])) for p in products}
    hidden, hidden_cats = hide_products(people=product_people, k=K)
    order = list(cells)

    def vector(members) -> list[Fraction]:
        members = set(members)
        return [Fraction(int(c in members)) for c in order]

    published = [vector(on_day(d)) for d in days if (d,) not in hidden_days]
    published += [vector(of_products([p])) for p in products if p not in hidden]
    published += [vector(of_products([p for p in products if p[1] == c]))
                  for c in {p[1] for p in products} - hidden_cats]
    if len(people(order)) >= K:
        published.append(vector(order))
    for c in order:
        if len(cells[c]) < K:
            assert not derivable(vector([c]), published), c
    for n in range(1, len(hidden_days) + 1):
        for group in combinations(sorted(hidden_days), n):
            members = [c for d in group for c in on_day(d[0])]
            if len(people(members)) < K:
                assert not derivable(vector(members), published), group
    for n in range(1, len(hidden) + 1):
        for group in combinations(sorted(hidden, key=str), n):
            if len(people(of_products(group))) < K:
                assert not derivable(vector(of_products(group)), published), group
