"""Listing sessions: the filter, every order, totalCount, page-size bounds and cursor checks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import models
from tests.operations import SESSIONS

if TYPE_CHECKING:
    from tests.conftest import GraphQLClient

SESSION_IDS = """
query SessionIds($filter: SessionFilter, $orderBy: SessionOrder, $first: Int) {
  sessions(filter: $filter, orderBy: $orderBy, first: $first) { edges { node { id } } }
}
"""

SESSION = """
query Session($id: ID!) {
  session(id: $id) { id name model recap personaId saved createdAt updatedAt }
}
"""

BASE = datetime(2025, 9, 16, 10, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


def iso(minutes: int) -> str:
    return at(minutes).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def add_session(
    session_id: str, *, updated: int = 0, created: int | None = None, saved: bool = True, **columns: Any
) -> models.Session:
    """A session row as the database holds it, with timestamps `updated`/`created` minutes past BASE."""
    columns.setdefault("name", session_id)
    return await models.Session.create(
        id=session_id,
        saved=saved,
        created_at=at(updated if created is None else created),
        updated_at=at(updated),
        **columns,
    )


async def listed_ids(gql: GraphQLClient, **variables: Any) -> list[str]:
    data = await gql.data(SESSION_IDS, variables)
    return [edge["node"]["id"] for edge in data["sessions"]["edges"]]


def forged_cursor(*parts: Any) -> str:
    raw = json.dumps(list(parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- session(id) --------------------------------------------------------------------------


async def test_session_by_id_answers_every_field(gql: GraphQLClient) -> None:
    await add_session(
        "trip", updated=5, created=1, name="Trip", model="llama3", recap="Rome", persona_id="default-local"
    )

    data = await gql.data(SESSION, {"id": "trip"})

    assert data == {
        "session": {
            "id": "trip",
            "name": "Trip",
            "model": "llama3",
            "recap": "Rome",
            "personaId": "default-local",
            "saved": True,
            "createdAt": iso(1),
            "updatedAt": iso(5),
        }
    }


async def test_session_by_unknown_id_is_null(gql: GraphQLClient) -> None:
    assert await gql.data(SESSION, {"id": "nobody"}) == {"session": None}


async def test_session_by_id_finds_ephemeral_sessions_too(gql: GraphQLClient) -> None:
    await add_session("draft", saved=False)

    data = await gql.data(SESSION, {"id": "draft"})

    assert data["session"]["saved"] is False


# --- the saved filter -----------------------------------------------------------------------


@pytest.fixture
async def saved_and_ephemeral(db: str) -> None:
    await add_session("saveda", updated=1)
    await add_session("ephemerala", updated=2, saved=False)
    await add_session("savedb", updated=3)
    await add_session("ephemeralb", updated=4, saved=False)


@pytest.mark.usefixtures("saved_and_ephemeral")
async def test_sessions_without_a_filter_lists_saved_sessions_only(gql: GraphQLClient) -> None:
    assert await listed_ids(gql) == ["savedb", "saveda"]


@pytest.mark.usefixtures("saved_and_ephemeral")
async def test_a_filter_without_saved_still_lists_saved_sessions_only(gql: GraphQLClient) -> None:
    assert await listed_ids(gql, filter={}) == ["savedb", "saveda"]


@pytest.mark.usefixtures("saved_and_ephemeral")
async def test_saved_false_lists_ephemeral_sessions_only(gql: GraphQLClient) -> None:
    assert await listed_ids(gql, filter={"saved": False}) == ["ephemeralb", "ephemerala"]


@pytest.mark.usefixtures("saved_and_ephemeral")
async def test_saved_null_lists_saved_and_ephemeral_sessions(gql: GraphQLClient) -> None:
    assert await listed_ids(gql, filter={"saved": None}) == ["ephemeralb", "savedb", "ephemerala", "saveda"]


# --- personaId, model, search, updatedAfter/Before -----------------------------------------


async def test_persona_id_filter_lists_that_personas_sessions(gql: GraphQLClient) -> None:
    await add_session("cloudone", updated=1, persona_id="default-cloud")
    await add_session("local", updated=2, persona_id="default-local")
    await add_session("cloudtwo", updated=3, persona_id="default-cloud")
    await add_session("nopersona", updated=4)

    assert await listed_ids(gql, filter={"personaId": "default-cloud"}) == ["cloudtwo", "cloudone"]


async def test_persona_id_filter_naming_no_persona_lists_nothing(gql: GraphQLClient) -> None:
    await add_session("local", persona_id="default-local")

    assert await listed_ids(gql, filter={"personaId": "nosuchpersona"}) == []


async def test_model_filter_lists_sessions_of_exactly_that_model(gql: GraphQLClient) -> None:
    await add_session("gpt", updated=1, model="gpt-4o")
    await add_session("gptmini", updated=2, model="gpt-4o-mini")
    await add_session("llama", updated=3, model="llama3")
    await add_session("nomodel", updated=4)

    assert await listed_ids(gql, filter={"model": "gpt-4o"}) == ["gpt"]


async def test_search_matches_name_or_recap_ignoring_case(gql: GraphQLClient) -> None:
    await add_session("byname", updated=1, name="Weekend in ROME")
    await add_session("byrecap", updated=2, name="Travel", recap="We talked about rome and Naples.")
    await add_session("neither", updated=3, name="Groceries", recap="Milk, eggs")
    await add_session("ephemeral", updated=4, name="Rome again", saved=False)

    assert await listed_ids(gql, filter={"search": "Rome"}) == ["byrecap", "byname"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("%", ["percent"]),
        ("100%", ["percent"]),
        ("_", ["underscore"]),
        ("a_b", ["underscore"]),
        ("\\", ["backslash"]),
    ],
)
async def test_search_takes_like_wildcards_literally(gql: GraphQLClient, search: str, expected: list[str]) -> None:
    await add_session("percent", updated=1, name="100% done")
    await add_session("hundred", updated=2, name="1000 done")
    await add_session("underscore", updated=3, name="a_b")
    await add_session("plain", updated=4, name="axb")
    await add_session("backslash", updated=5, name="C:\\temp")

    assert await listed_ids(gql, filter={"search": search}) == expected


async def test_updated_after_and_before_bound_the_last_activity(gql: GraphQLClient) -> None:
    for minutes in (10, 20, 30, 40):
        await add_session(f"at{minutes}", updated=minutes)

    after = await listed_ids(gql, filter={"updatedAfter": iso(15)})
    before = await listed_ids(gql, filter={"updatedBefore": iso(35)})
    between = await listed_ids(gql, filter={"updatedAfter": iso(15), "updatedBefore": iso(35)})

    assert (after, before, between) == (
        ["at40", "at30", "at20"],
        ["at30", "at20", "at10"],
        ["at30", "at20"],
    )


async def test_updated_after_with_a_utc_offset_means_that_moment(gql: GraphQLClient) -> None:
    await add_session("early", updated=10)
    await add_session("late", updated=30)

    # 12:20+02:00 is 10:20 UTC, between the two.
    ids = await listed_ids(gql, filter={"updatedAfter": "2025-09-16T12:20:00+02:00"})

    assert ids == ["late"]


async def test_filters_combine(gql: GraphQLClient) -> None:
    await add_session("match", updated=10, model="llama3", persona_id="default-local", name="rome")
    await add_session("othermodel", updated=11, model="gpt-4o", persona_id="default-local", name="rome")
    await add_session("otherpersona", updated=12, model="llama3", persona_id="default-cloud", name="rome")
    await add_session("othername", updated=13, model="llama3", persona_id="default-local", name="paris")
    await add_session("tooold", updated=1, model="llama3", persona_id="default-local", name="rome")
    await add_session("ephemeral", updated=14, model="llama3", persona_id="default-local", name="rome", saved=False)

    ids = await listed_ids(
        gql,
        filter={"model": "llama3", "personaId": "default-local", "search": "ROME", "updatedAfter": iso(5)},
    )

    assert ids == ["match"]


# --- orders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("UPDATED_AT_DESC", ["e", "c", "b", "a", "d"]),
        ("UPDATED_AT_ASC", ["d", "a", "b", "c", "e"]),
        ("CREATED_AT_DESC", ["e", "d", "a", "c", "b"]),
        ("CREATED_AT_ASC", ["b", "c", "a", "d", "e"]),
        ("NAME_ASC", ["b", "d", "e", "c", "a"]),
        ("NAME_DESC", ["a", "c", "e", "d", "b"]),
    ],
)
async def test_every_order_sorts_by_its_column_and_breaks_ties_by_id(
    gql: GraphQLClient, order: str, expected: list[str]
) -> None:
    # a, b and c share updatedAt; d and e share createdAt; b and d share a name.
    await add_session("a", name="delta", created=3, updated=5)
    await add_session("b", name="alpha", created=1, updated=5)
    await add_session("c", name="charlie", created=2, updated=5)
    await add_session("d", name="alpha", created=4, updated=2)
    await add_session("e", name="bravo", created=4, updated=9)

    assert await listed_ids(gql, orderBy=order) == expected


async def test_default_order_is_newest_activity_first(gql: GraphQLClient) -> None:
    await add_session("old", created=9, updated=1)
    await add_session("new", created=1, updated=9)
    await add_session("middle", created=5, updated=5)

    assert await listed_ids(gql) == ["new", "middle", "old"]


# --- totalCount and page size ---------------------------------------------------------------


async def test_total_count_counts_the_whole_filtered_list_whatever_the_page(gql: GraphQLClient) -> None:
    for minutes in range(5):
        await add_session(f"saved{minutes}", updated=minutes)
    await add_session("ephemeral", updated=10, saved=False)

    first_page = (await gql.data(SESSIONS, {"first": 2}))["sessions"]
    second_page = (await gql.data(SESSIONS, {"first": 2, "after": first_page["pageInfo"]["endCursor"]}))["sessions"]
    last_page = (await gql.data(SESSIONS, {"last": 1}))["sessions"]
    everything = (await gql.data(SESSIONS, {"filter": {"saved": None}, "first": 1}))["sessions"]

    assert [len(first_page["edges"]), len(second_page["edges"]), len(last_page["edges"])] == [2, 2, 1]
    assert [page["totalCount"] for page in (first_page, second_page, last_page, everything)] == [5, 5, 5, 6]


async def test_total_count_of_an_empty_list_is_zero(gql: GraphQLClient) -> None:
    data = await gql.data(SESSIONS)

    assert data == {
        "sessions": {
            "totalCount": 0,
            "edges": [],
            "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        }
    }


async def test_default_page_holds_twenty_sessions(gql: GraphQLClient) -> None:
    await models.Session.bulk_create(
        [
            models.Session(id=f"s{index:02d}", name="chat", saved=True, created_at=at(index), updated_at=at(index))
            for index in range(25)
        ]
    )

    connection = (await gql.data(SESSIONS))["sessions"]

    assert [edge["node"]["id"] for edge in connection["edges"]] == [f"s{index:02d}" for index in range(24, 4, -1)]
    assert (connection["totalCount"], connection["pageInfo"]["hasNextPage"]) == (25, True)


@pytest.mark.parametrize("argument", ["first", "last"])
async def test_a_page_of_one_hundred_is_allowed(gql: GraphQLClient, argument: str) -> None:
    await models.Session.bulk_create(
        [
            models.Session(id=f"s{index:03d}", name="chat", saved=True, created_at=at(index), updated_at=at(index))
            for index in range(101)
        ]
    )

    connection = (await gql.data(SESSIONS, {argument: 100}))["sessions"]

    assert len(connection["edges"]) == 100
    assert connection["totalCount"] == 101


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 0}, "first"),
        ({"first": -1}, "first"),
        ({"first": 101}, "first"),
        ({"last": 0}, "last"),
        ({"last": -1}, "last"),
        ({"last": 101}, "last"),
    ],
)
async def test_a_page_size_outside_one_to_one_hundred_is_bad_user_input(
    gql: GraphQLClient, variables: dict[str, int], field: str
) -> None:
    await add_session("one")

    body = await gql(SESSIONS, variables)

    assert body["data"] is None
    [error] = body["errors"]
    assert error["path"] == ["sessions"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)


async def test_first_and_last_together_are_bad_user_input(gql: GraphQLClient) -> None:
    error = await gql.error(SESSIONS, {"first": 5, "last": 5})

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] in ("first", "last")


# --- cursors --------------------------------------------------------------------------------


MOMENT = "2025-09-16T10:00:00+00:00"


@pytest.mark.parametrize("argument", ["after", "before"])
@pytest.mark.parametrize(
    ("order", "cursor"),
    [
        ("UPDATED_AT_DESC", "not a cursor"),
        ("UPDATED_AT_DESC", "!!!"),
        ("UPDATED_AT_DESC", "bm90IGpzb24"),  # base64 of "not json"
        ("UPDATED_AT_DESC", forged_cursor({"order": "UPDATED_AT_DESC"})),
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", MOMENT)),  # too few parts
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", 5, "a")),  # a number where a moment belongs
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", "yesterday", "a")),
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", MOMENT, None)),  # no id
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", MOMENT, True)),
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", "2025-09-16T10:00:00", "a")),  # no offset
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", "0001-01-01T00:00:00+14:00", "a")),  # year 0 in UTC
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", "9999-12-31T23:59:59-14:00", "a")),  # year 10000
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", MOMENT, "a" * 65)),  # longer than any id
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", MOMENT, 10**30)),
        ("UPDATED_AT_DESC", forged_cursor("UPDATED_AT_DESC", MOMENT, "a\x00")),
        ("NAME_ASC", forged_cursor("NAME_ASC", "a\x00", "a")),  # PostgreSQL text cannot hold NUL
        ("NAME_ASC", forged_cursor("NAME_ASC", "\ud800", "a")),  # a lone surrogate cannot be encoded
        ("NAME_ASC", forged_cursor("NAME_ASC", "a", "\udfff")),
        ("NAME_ASC", forged_cursor("NAME_ASC", "a" * 201, "a")),  # longer than any name
    ],
)
async def test_a_malformed_cursor_is_bad_user_input_naming_the_argument(
    gql: GraphQLClient, argument: str, order: str, cursor: str
) -> None:
    await add_session("one")

    error = await gql.error(SESSIONS, {"orderBy": order, argument: cursor})

    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", argument)


@pytest.mark.parametrize("argument", ["after", "before"])
async def test_a_cursor_of_another_ordering_is_bad_user_input(gql: GraphQLClient, argument: str) -> None:
    await add_session("a", updated=1)
    await add_session("b", updated=2)
    by_name = (await gql.data(SESSIONS, {"orderBy": "NAME_ASC", "first": 1}))["sessions"]

    error = await gql.error(SESSIONS, {"orderBy": "UPDATED_AT_DESC", argument: by_name["pageInfo"]["endCursor"]})

    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", argument)


async def test_a_cursor_of_the_opposite_direction_is_bad_user_input(gql: GraphQLClient) -> None:
    await add_session("a", updated=1)
    await add_session("b", updated=2)
    ascending = (await gql.data(SESSIONS, {"orderBy": "UPDATED_AT_ASC", "first": 1}))["sessions"]

    error = await gql.error(SESSIONS, {"after": ascending["pageInfo"]["endCursor"]})

    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "after")


# Any text at all, lone surrogates included (hypothesis leaves them out by default).
_any_text = st.text(st.characters(exclude_categories=()))
_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _any_text)


@st.composite
def _order_and_cursor(draw: st.DrawFn) -> tuple[str, str]:
    """An order, and a cursor for it: garbage, any JSON list, or one shaped like a real cursor."""
    order = draw(st.sampled_from(["NAME_ASC", "UPDATED_AT_DESC"]))
    moment = st.datetimes(timezones=st.timezones() | st.none()).map(datetime.isoformat)
    cursor = draw(
        st.one_of(
            _any_text,
            st.lists(_json_scalars, max_size=4).map(lambda parts: forged_cursor(*parts)),
            st.tuples(st.just(order), _any_text | moment, _any_text | st.integers()).map(
                lambda parts: forged_cursor(*parts)
            ),
        )
    )
    return order, cursor


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_and_cursor=_order_and_cursor())
@example(order_and_cursor=("NAME_ASC", "\ud800"))  # a lone surrogate, as JSON can carry it
async def test_any_cursor_either_pages_or_is_bad_user_input(
    gql: GraphQLClient, order_and_cursor: tuple[str, str]
) -> None:
    # Read-only: the examples share one database, which stays as it is.
    order, cursor = order_and_cursor

    body = await gql(SESSIONS, {"orderBy": order, "after": cursor})

    if "errors" in body:
        [error] = body["errors"]
        assert (error["extensions"]["code"], error["extensions"].get("field")) == ("BAD_USER_INPUT", "after")
    else:
        assert body["data"]["sessions"]["edges"] == []
