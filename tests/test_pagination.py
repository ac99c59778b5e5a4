"""Keyset pagination of sessions: complete walks both ways, pageInfo, stability under writes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

import models
from tests.operations import SESSIONS

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

ORDERS = ["UPDATED_AT_DESC", "UPDATED_AT_ASC", "CREATED_AT_DESC", "CREATED_AT_ASC", "NAME_ASC", "NAME_DESC"]
# The column each order sorts by, and whether it runs backwards; ties are broken by id.
ORDER_KEYS = {
    "UPDATED_AT_DESC": ("updated_at", True),
    "UPDATED_AT_ASC": ("updated_at", False),
    "CREATED_AT_DESC": ("created_at", True),
    "CREATED_AT_ASC": ("created_at", False),
    "NAME_ASC": ("name", False),
    "NAME_DESC": ("name", True),
}

BASE = datetime(2025, 9, 16, 10, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


def row(
    session_id: str, *, updated: int, created: int | None = None, name: str = "chat", saved: bool = True
) -> models.Session:
    return models.Session(
        id=session_id,
        name=name,
        saved=saved,
        created_at=at(updated if created is None else created),
        updated_at=at(updated),
    )


def expected_order(rows: list[models.Session], order: str) -> list[str]:
    column, descending = ORDER_KEYS[order]
    return [r.id for r in sorted(rows, key=lambda r: (getattr(r, column), r.id), reverse=descending)]


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def page_info(connection: dict[str, Any], *, has_next: bool, has_previous: bool) -> dict[str, Any]:
    """The pageInfo a page with these edges must carry: its cursors are its first and last edge's."""
    edges = connection["edges"]
    return {
        "hasNextPage": has_next,
        "hasPreviousPage": has_previous,
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }


async def fetch(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = (await gql.data(SESSIONS, variables))["sessions"]
    return connection


async def walk_forward(gql: GraphQLClient, size: int, **variables: Any) -> list[dict[str, Any]]:
    pages = [await fetch(gql, first=size, **variables)]
    while pages[-1]["pageInfo"]["hasNextPage"]:
        assert len(pages) <= 200, "pagination does not end"
        pages.append(await fetch(gql, first=size, after=pages[-1]["pageInfo"]["endCursor"], **variables))
    return pages


async def walk_backward(gql: GraphQLClient, size: int, **variables: Any) -> list[dict[str, Any]]:
    pages = [await fetch(gql, last=size, **variables)]
    while pages[-1]["pageInfo"]["hasPreviousPage"]:
        assert len(pages) <= 200, "pagination does not end"
        pages.append(await fetch(gql, last=size, before=pages[-1]["pageInfo"]["startCursor"], **variables))
    return pages


def tied_rows() -> list[models.Session]:
    """23 sessions with few distinct values in every sort column, so that most pages cut through ties."""
    return [row(f"s{index:02d}", updated=index % 4, created=index % 3, name="abcde"[index % 5]) for index in range(23)]


# --- forward --------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
async def test_walking_forward_visits_every_session_once_in_order(gql: GraphQLClient, order: str) -> None:
    rows = tied_rows()
    await models.Session.bulk_create(rows)

    pages = await walk_forward(gql, 5, orderBy=order)

    assert [ids(page) for page in pages] == [
        expected_order(rows, order)[start : start + 5] for start in range(0, 23, 5)
    ]


async def test_page_info_on_the_first_middle_and_last_page_going_forward(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"s{index}", updated=index) for index in range(7)])

    first = await fetch(gql, first=3)
    middle = await fetch(gql, first=3, after=first["pageInfo"]["endCursor"])
    last = await fetch(gql, first=3, after=middle["pageInfo"]["endCursor"])

    assert [ids(first), ids(middle), ids(last)] == [["s6", "s5", "s4"], ["s3", "s2", "s1"], ["s0"]]
    assert [first["pageInfo"], middle["pageInfo"], last["pageInfo"]] == [
        page_info(first, has_next=True, has_previous=False),
        page_info(middle, has_next=True, has_previous=True),
        page_info(last, has_next=False, has_previous=True),
    ]


async def test_a_last_page_that_is_exactly_full_says_there_is_no_next_page(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"s{index}", updated=index) for index in range(6)])

    first = await fetch(gql, first=3)
    last = await fetch(gql, first=3, after=first["pageInfo"]["endCursor"])

    assert ids(last) == ["s2", "s1", "s0"]
    assert last["pageInfo"] == page_info(last, has_next=False, has_previous=True)


async def test_a_single_page_has_neither_next_nor_previous(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"s{index}", updated=index) for index in range(3)])

    page = await fetch(gql, first=3)

    assert ids(page) == ["s2", "s1", "s0"]
    assert page["pageInfo"] == page_info(page, has_next=False, has_previous=False)


async def test_after_the_last_cursor_is_an_empty_page(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"s{index}", updated=index) for index in range(3)])
    everything = await fetch(gql, first=3)

    beyond = await fetch(gql, first=3, after=everything["pageInfo"]["endCursor"])

    assert beyond["edges"] == []
    assert beyond["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": None,
        "endCursor": None,
    }


async def test_each_edge_cursor_continues_right_after_its_edge(gql: GraphQLClient) -> None:
    rows = tied_rows()
    await models.Session.bulk_create(rows)
    everything = await fetch(gql, first=23)

    continuations = [ids(await fetch(gql, first=2, after=edge["cursor"])) for edge in everything["edges"]]

    order = expected_order(rows, "UPDATED_AT_DESC")
    assert continuations == [order[index + 1 : index + 3] for index in range(23)]


# --- backward -------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
async def test_walking_backward_visits_every_session_once_in_order(gql: GraphQLClient, order: str) -> None:
    rows = tied_rows()
    await models.Session.bulk_create(rows)

    pages = await walk_backward(gql, 5, orderBy=order)

    expected = expected_order(rows, order)
    assert [ids(page) for page in pages] == [expected[max(end - 5, 0) : end] for end in range(23, 0, -5)]


async def test_page_info_on_the_last_middle_and_first_page_going_backward(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"s{index}", updated=index) for index in range(7)])

    last = await fetch(gql, last=3)
    middle = await fetch(gql, last=3, before=last["pageInfo"]["startCursor"])
    first = await fetch(gql, last=3, before=middle["pageInfo"]["startCursor"])

    assert [ids(last), ids(middle), ids(first)] == [["s2", "s1", "s0"], ["s5", "s4", "s3"], ["s6"]]
    assert [last["pageInfo"], middle["pageInfo"], first["pageInfo"]] == [
        page_info(last, has_next=False, has_previous=True),
        page_info(middle, has_next=True, has_previous=True),
        page_info(first, has_next=True, has_previous=False),
    ]


async def test_before_a_forward_cursor_goes_back_to_the_previous_page(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"s{index}", updated=index) for index in range(9)])
    first = await fetch(gql, first=3)
    second = await fetch(gql, first=3, after=first["pageInfo"]["endCursor"])

    back = await fetch(gql, last=3, before=second["pageInfo"]["startCursor"])

    assert back["edges"] == first["edges"]
    assert back["pageInfo"] == page_info(back, has_next=True, has_previous=False)


async def test_after_and_before_together_give_the_sessions_between(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"s{index}", updated=index) for index in range(8)])
    everything = await fetch(gql, first=8)
    cursors = [edge["cursor"] for edge in everything["edges"]]  # s7 ... s0

    forward = await fetch(gql, first=10, after=cursors[1], before=cursors[6])
    backward = await fetch(gql, last=10, after=cursors[1], before=cursors[6])
    clipped = await fetch(gql, first=2, after=cursors[1], before=cursors[6])

    assert [ids(forward), ids(backward), ids(clipped)] == [
        ["s5", "s4", "s3", "s2"],
        ["s5", "s4", "s3", "s2"],
        ["s5", "s4"],
    ]


# --- stability under writes -----------------------------------------------------------------


async def test_sessions_inserted_between_pages_do_not_shift_the_next_page(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"old{index}", updated=index) for index in range(6)])
    first = await fetch(gql, first=3)
    await models.Session.bulk_create([row(f"new{index}", updated=100 + index) for index in range(3)])

    second = await fetch(gql, first=3, after=first["pageInfo"]["endCursor"])

    assert (ids(first), ids(second)) == (["old5", "old4", "old3"], ["old2", "old1", "old0"])
    assert second["totalCount"] == 9
    assert second["pageInfo"] == page_info(second, has_next=False, has_previous=True)


async def test_sessions_inserted_within_a_tie_do_not_shift_the_next_page(gql: GraphQLClient) -> None:
    # All share one updatedAt; the page cuts through the tie, and new ties land on both sides of the cut.
    await models.Session.bulk_create([row(f"s{index}", updated=5) for index in (1, 3, 5, 7)])
    first = await fetch(gql, first=2)
    await models.Session.bulk_create([row(f"s{index}", updated=5) for index in (0, 4, 8)])

    second = await fetch(gql, first=10, after=first["pageInfo"]["endCursor"])

    assert (ids(first), ids(second)) == (["s7", "s5"], ["s4", "s3", "s1", "s0"])


async def test_the_next_page_continues_after_a_cursor_whose_session_was_deleted(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"s{index}", updated=index) for index in range(6)])
    first = await fetch(gql, first=3)
    await models.Session.filter(id="s3").delete()

    second = await fetch(gql, first=3, after=first["pageInfo"]["endCursor"])

    assert ids(second) == ["s2", "s1", "s0"]


async def test_a_session_updated_between_pages_moves_without_hiding_others(gql: GraphQLClient) -> None:
    await models.Session.bulk_create([row(f"s{index}", updated=index) for index in range(6)])
    first = await fetch(gql, first=3)
    await models.Session.filter(id="s1").update(updated_at=at(100))  # moves to the front, already passed

    second = await fetch(gql, first=3, after=first["pageInfo"]["endCursor"])

    assert ids(second) == ["s2", "s0"]


# --- randomized property ----------------------------------------------------------------------


async def test_random_lists_walk_completely_both_ways_in_every_order(gql: GraphQLClient) -> None:
    """Random lists full of ties, random page sizes: every walk is the whole list, in order, once.

    A fixed seed keeps it reproducible; each round replaces the whole table (the database is
    one per test, not one per example, which is why this is not a hypothesis test).
    """
    generator = random.Random(20250916)
    for round_number in range(12):
        await models.Session.all().delete()
        rows = [
            row(
                f"r{round_number:02d}x{index:02d}",
                updated=generator.randrange(4),
                created=generator.randrange(3),
                name=generator.choice(["alpha", "beta", "gamma"]),
                saved=generator.random() < 0.7,
            )
            for index in range(generator.randrange(0, 30))
        ]
        await models.Session.bulk_create(rows)
        saved = generator.choice([True, None])
        listed = [r for r in rows if saved is None or r.saved]
        order = generator.choice(ORDERS)
        size = generator.randrange(1, 8)
        context = f"round {round_number}: {len(listed)} sessions, {order}, pages of {size}, saved={saved}"

        forward = await walk_forward(gql, size, orderBy=order, filter={"saved": saved})
        backward = await walk_backward(gql, size, orderBy=order, filter={"saved": saved})

        expected = expected_order(listed, order)
        assert [i for page in forward for i in ids(page)] == expected, context
        assert [i for page in reversed(backward) for i in ids(page)] == expected, context
        assert {page["totalCount"] for page in forward + backward} == {len(listed)}, context
        assert [page["pageInfo"]["hasPreviousPage"] for page in forward] == [False] + [True] * (len(forward) - 1), (
            context
        )
        assert [page["pageInfo"]["hasNextPage"] for page in backward] == [False] + [True] * (len(backward) - 1), context
