"""The reader of ChatGPT's `conversations.json` (api.md §9), without a database: which nodes
become messages and where they hang, what each message's values are, what the report says, and
that a large export is read one conversation at a time."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from importers import chatgpt
from importers.chatgpt import NotAChatGPTExport, looks_like_chatgpt, read_conversation, read_conversations
from importers.conversation import ImportedMessage, ImportedSession
from importers.report import ImportReport
from models import clock, rules
from models.message import MessageRole
from tests.chatgpt_exports import (
    NOVEMBER_2023,
    ChatBuilder,
    Conversation,
    branching_chat,
    conversation_id,
    hidden_nodes_chat,
    image_part,
    linear_chat,
    multimodal_chat,
    node_id,
    null_time_chat,
    realistic_export,
    reasoning_chat,
    text_content,
    tools_chat,
    untimed_chat,
    write_export,
    write_large_export,
)

ROOT_NOTE = {chatgpt.HIDDEN_ROOT: 1}  # every conversation has ChatGPT's root node


def new_report() -> ImportReport:
    return ImportReport(tables=("sessions", "messages"))


def read(conversation: Conversation) -> tuple[ImportedSession, ImportReport]:
    report = new_report()
    return read_conversation(conversation, report), report


def at(seconds: float) -> datetime:
    return clock.to_millisecond(datetime.fromtimestamp(seconds, UTC))


def by_ref(session: ImportedSession) -> dict[str, ImportedMessage]:
    return {message.ref: message for message in session.messages}


def shape(session: ImportedSession) -> list[tuple[str, str | None]]:
    """The messages in their order, each with its parent."""
    return [(message.ref, message.parent_ref) for message in session.messages]


def texts(session: ImportedSession) -> list[str]:
    return [message.values["text"] for message in session.messages]


# --- whole conversations -----------------------------------------------------------------------


def test_a_linear_chat_is_a_chain_with_its_values() -> None:
    session, report = read(linear_chat())
    ids = {label: node_id("linear", label) for label in ("question", "answer", "follow-up", "last answer")}
    assert session.id == conversation_id("linear")
    assert shape(session) == [
        (ids["question"], None),  # under ChatGPT's root, which holds no message
        (ids["answer"], ids["question"]),
        (ids["follow-up"], ids["answer"]),
        (ids["last answer"], ids["follow-up"]),
    ]
    assert [message.values["role"] for message in session.messages] == [
        MessageRole.USER,
        MessageRole.ASSISTANT,
        MessageRole.USER,
        MessageRole.ASSISTANT,
    ]
    assert [message.values["model"] for message in session.messages] == [None, "gpt-4o", None, "gpt-4o"]
    first = session.messages[0].values
    assert first["text"] == "How often should I feed a sourdough starter kept at room temperature?"
    # 1700000007.374187: UTC, cut to the millisecond
    assert first["created_at"] == datetime(2023, 11, 14, 22, 13, 27, 374000, tzinfo=UTC)
    assert {first["token_usage"], first["importance"]} == {None}
    assert all(message.id is None for message in session.messages)
    assert session.active_ref == ids["last answer"]
    assert session.values == {
        "name": "Sourdough starter schedule",
        "model": "gpt-4o",
        "recap": None,
        "persona_id": None,
        "saved": True,
        "metadata": {"chatgpt.default_model_slug": "gpt-4o", "chatgpt.memory_scope": "global_enabled"},
        "created_at": datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC),
        "updated_at": datetime(2023, 11, 14, 22, 13, 56, 377000, tzinfo=UTC),
    }
    assert report.notes == Counter(ROOT_NOTE)
    assert not report.refused
    assert report.kept_in_metadata == Counter({"chatgpt.default_model_slug": 1, "chatgpt.memory_scope": 1})


def test_the_branches_keep_their_places_and_the_active_one_stays_active() -> None:
    session, report = read(branching_chat())
    ids = {
        label: node_id("branching", label)
        for label in ("q1", "a1", "q2 original", "a2", "q2 edited", "a2 interrupted", "a2 regenerated")
    }
    # Parents before children, each node's children in their `children` order (depth first).
    assert shape(session) == [
        (ids["q1"], None),
        (ids["a1"], ids["q1"]),
        (ids["q2 original"], ids["a1"]),
        (ids["a2"], ids["q2 original"]),
        (ids["q2 edited"], ids["a1"]),
        (ids["a2 interrupted"], ids["q2 edited"]),
        (ids["a2 regenerated"], ids["q2 edited"]),
    ]
    # The user went back to the original question: its answer is active, not the newest leaf.
    assert session.active_ref == ids["a2"]
    assert max(session.messages, key=lambda message: message.values["created_at"]).ref == ids["a2 regenerated"]
    # The session's model is the active leaf's, not the newest answer's nor the default.
    assert session.values["model"] == "gpt-4"
    messages = by_ref(session)
    assert messages[ids["a2 regenerated"]].values["model"] == "gpt-4o"
    assert messages[ids["a2 interrupted"]].values["text"] == "You can take a buffer from the caller and"
    assert report.notes == Counter({**ROOT_NOTE, "answers interrupted or still in progress, kept as they were": 1})
    assert not report.refused


def test_hidden_nodes_are_skipped_and_their_children_hang_from_the_nearest_kept_one() -> None:
    session, report = read(hidden_nodes_chat())
    question, answer = node_id("hidden", "question"), node_id("hidden", "answer")
    # root -> hidden system -> custom instructions -> question -> hidden memory -> empty system -> answer
    assert shape(session) == [(question, None), (answer, question)]
    assert texts(session) == [
        "Plan two days in Lisbon for me.",
        "Day one: Alfama and the castle. Day two: Belém and LX Factory.",
    ]
    assert session.active_ref == answer
    assert report.notes == Counter(
        {
            "messages hidden from the conversation, skipped: a node without a message (ChatGPT's root)": 1,
            "messages hidden from the conversation, skipped: is_visually_hidden_from_conversation": 2,
            "messages hidden from the conversation, skipped: custom instructions (user_editable_context)": 1,
            "messages hidden from the conversation, skipped: a system message without text": 1,
        }
    )
    assert not report.refused  # ChatGPT did not show them either: nothing the user saw is lost


def test_a_message_without_a_create_time_takes_its_parents() -> None:
    session, report = read(null_time_chat())
    question, answer, follow_up, last = session.messages
    assert question.values["created_at"] == at(NOVEMBER_2023)  # a first message: the conversation's time
    assert answer.values["created_at"] == at(NOVEMBER_2023 + 7.250731)  # the clock moves on from the conversation's
    assert last.values["created_at"] == follow_up.values["created_at"] == at(NOVEMBER_2023 + 2 * 7.250731)
    assert report.notes == Counter(
        {**ROOT_NOTE, "messages without a create_time: their parent's time (a first message: the conversation's)": 2}
    )


def test_a_conversation_without_times_takes_the_earliest_message_time() -> None:
    session, report = read(untimed_chat())
    earliest = at(1700000100.5)
    assert session.values["created_at"] == session.values["updated_at"] == earliest
    assert [message.values["created_at"] for message in session.messages] == [earliest, earliest]
    assert session.values["name"] == "Untitled Chat"
    assert report.notes == Counter(
        {**ROOT_NOTE, chatgpt.NOTE_PARENT_TIME: 1, "conversations without a title imported as Untitled Chat": 1}
    )


def test_without_an_update_time_the_session_was_updated_by_its_newest_message() -> None:
    conversation = linear_chat() | {"update_time": None}
    session, _ = read(conversation)
    assert session.values["updated_at"] == at(NOVEMBER_2023 + 4 * 7.250731) != session.values["created_at"]


def test_without_any_time_a_conversation_is_imported_now() -> None:
    chat = ChatBuilder("no time at all", title="Timeless", created=None)
    chat.say("question", chat.root, "user", "What time is it?", time=None)
    before = clock.now()
    session, report = read(chat.conversation(chat.root, update_time=None))
    assert before <= session.values["created_at"] <= clock.now()
    assert session.messages[0].values["created_at"] == session.values["created_at"]
    assert report.notes[chatgpt.NOTE_NO_TIME] == 1


def test_an_image_is_refused_and_the_text_beside_it_kept() -> None:
    session, report = read(multimodal_chat())
    ids = {label: node_id("multimodal", label) for label in ("photo with text", "first answer", "photo only")}
    second = node_id("multimodal", "second answer")
    # The image-only question cannot be held: its answer hangs from the answer before it.
    assert shape(session) == [
        (ids["photo with text"], None),
        (ids["first answer"], ids["photo with text"]),
        (second, ids["first answer"]),
    ]
    assert session.messages[0].values["text"] == "What plant is this?"
    assert report.refused == Counter({("messages", "an image_asset_pointer part has no text"): 2})
    assert report.examples["messages", "an image_asset_pointer part has no text"] == [
        ids["photo with text"],
        ids["photo only"],
    ]
    assert report.notes == Counter(ROOT_NOTE)
    assert not report.complete


def test_tool_messages_are_assistant_messages_with_their_text() -> None:
    session, report = read(tools_chat())
    assert [message.values["role"] for message in session.messages] == [MessageRole.USER] + [MessageRole.ASSISTANT] * 5
    assert texts(session) == [
        "What is 1000 at 5% compounded monthly after 10 years?",
        "1000*(1+0.05/12)**120",  # code, for the python tool
        "1647.0094976902801",  # the tool's execution_output
        "Compound Interest: Definition\nhttps://www.investopedia.com/terms/c/compoundinterest.asp\n\n"
        "Compound interest is interest calculated on the initial principal and accumulated interest.",
        "Searched compound interest",  # tether_browsing_display: no result, its summary
        "After 10 years you would have about 1,647.01.",
    ]
    assert [message.values["model"] for message in session.messages] == [None, "gpt-4", None, None, None, "o1-preview"]
    assert session.values["model"] == "o1-preview"
    assert report.notes == Counter({**ROOT_NOTE, "tool messages kept as assistant messages": 3})
    assert not report.refused


def test_a_reasoning_models_thoughts_and_recap_are_text() -> None:
    session, report = read(reasoning_chat())
    assert texts(session)[1:3] == [
        "Trying small factors\n\n221 is odd; 3 does not divide it.\n\nFound one\n\n13 × 17 = 221.",  # noqa: RUF001
        "Thought for 4 seconds",
    ]
    assert [message.values["model"] for message in session.messages] == [None, "o3", "o3", "o3"]
    assert not report.refused


# --- messages, one rule at a time ---------------------------------------------------------------


def small_chat(key: str = "small") -> ChatBuilder:
    return ChatBuilder(key, title="Small")


def test_an_empty_assistant_reply_is_kept_an_empty_user_message_refused() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "Hi")
    empty_answer = chat.answer("empty answer", question, "")
    empty_question = chat.say("empty question", empty_answer, "user", "")
    last = chat.answer("last", empty_question, "Did you mean to send something?")
    session, report = read(chat.conversation(last))
    assert shape(session) == [(question, None), (empty_answer, question), (last, empty_answer)]
    assert by_ref(session)[empty_answer].values["text"] == ""
    assert report.refused == Counter({("messages", "a user message without text"): 1})
    assert report.examples["messages", "a user message without text"] == [empty_question]


def test_a_text_over_the_limit_is_refused_and_its_replies_kept() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "Summarise this.")
    paste = chat.say("paste", question, "user", "x" * (rules.MESSAGE_TEXT_MAX + 1))
    fits = chat.say("fits", question, "user", "y" * rules.MESSAGE_TEXT_MAX)
    answer = chat.answer("answer", paste, "That is a lot of x.")
    session, report = read(chat.conversation(answer))
    assert shape(session) == [(question, None), (answer, question), (fits, question)]
    assert report.refused == Counter({("messages", "text longer than 100,000 characters"): 1})
    assert session.active_ref == answer


def test_a_nul_in_a_text_is_refused_by_the_apis_rule() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "a\x00b")
    session, report = read(chat.conversation(question))
    assert session.messages == []
    assert report.refused == Counter({("messages", "text must not contain the NUL character"): 1})
    assert session.active_ref is None


def test_an_unknown_role_is_refused_and_a_missing_one_too() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "Hi")
    critic = chat.say("critic", question, "critic", "Too short.")
    chat.mapping[critic]["message"]["author"] = {"role": "critic", "name": None, "metadata": {}}
    nobody = chat.say("nobody", critic, "user", "Who wrote this?")
    chat.mapping[nobody]["message"]["author"] = None
    answer = chat.answer("answer", nobody, "Hello!")
    session, report = read(chat.conversation(answer))
    assert shape(session) == [(question, None), (answer, question)]
    assert report.refused == Counter(
        {
            ("messages", "role 'critic' is none of system, user, assistant and tool"): 1,
            ("messages", "a message without an author role"): 1,
        }
    )


def test_a_system_message_with_text_is_kept() -> None:
    chat = small_chat()
    system = chat.say("system", chat.root, "system", "You are a helpful assistant.")
    question = chat.say("question", system, "user", "Hi")
    session, report = read(chat.conversation(question))
    assert shape(session) == [(system, None), (question, system)]
    assert session.messages[0].values["role"] is MessageRole.SYSTEM
    assert report.notes == Counter(ROOT_NOTE)


def test_an_unknown_content_type_with_text_is_read_without_it_refused() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "Connect my app.")
    pairing = chat.add("pairing", question, "assistant", {"content_type": "app_pairing_content", "app_id": "x"})
    note = chat.add("note", pairing, "assistant", {"content_type": "sonic_webpage", "text": "A page, as text."})
    session, report = read(chat.conversation(note))
    # The reply with nothing readable stays, empty, so the branch keeps its shape.
    assert shape(session) == [(question, None), (pairing, question), (note, pairing)]
    assert texts(session) == ["Connect my app.", "", "A page, as text."]
    assert report.refused == Counter({("messages", "an app_pairing_content message has no text"): 1})


def test_an_image_only_user_message_is_refused_once_for_several_images() -> None:
    chat = small_chat()
    content = {"content_type": "multimodal_text", "parts": [image_part("a1"), image_part("b2"), ""]}
    photos = chat.add("photos", chat.root, "user", content)
    session, report = read(chat.conversation(photos))
    assert session.messages == []
    assert report.refused == Counter({("messages", "an image_asset_pointer part has no text"): 1})


def test_a_voice_messages_transcription_is_its_text() -> None:
    chat = small_chat()
    parts = [
        {"content_type": "audio_transcription", "text": "What's the weather like?", "direction": "in"},
        {"content_type": "audio_asset_pointer", "asset_pointer": "sediment://file_00000000a1", "size_bytes": 4100},
    ]
    spoken = chat.add("spoken", chat.root, "user", {"content_type": "multimodal_text", "parts": parts})
    session, report = read(chat.conversation(spoken))
    assert texts(session) == ["What's the weather like?"]
    assert report.refused == Counter({("messages", "an audio_asset_pointer part has no text"): 1})


def test_text_parts_are_joined_by_a_blank_line() -> None:
    chat = small_chat()
    question = chat.add("question", chat.root, "user", text_content("First part.", "", "Second part."))
    session, _ = read(chat.conversation(question))
    assert texts(session) == ["First part.\n\nSecond part."]


def test_a_message_in_progress_is_kept_with_a_note() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "Write a poem.")
    draft = chat.say("draft", question, "assistant", "Roses are", model="gpt-4o", status="in_progress")
    session, report = read(chat.conversation(draft))
    assert texts(session) == ["Write a poem.", "Roses are"]
    assert report.notes[chatgpt.NOTE_INTERRUPTED] == 1


# --- the tree ------------------------------------------------------------------------------------


def test_a_node_whose_parent_is_missing_is_a_first_message() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "Hi")
    answer = chat.answer("answer", question, "Hello")
    chat.mapping[question]["parent"] = "a-node-the-export-left-out"
    session, report = read(chat.conversation(answer))
    assert shape(session) == [(question, None), (answer, question)]
    assert report.notes[chatgpt.NOTE_ORPHAN] == 1


def test_parents_that_form_a_cycle_do_not_loop_and_their_messages_are_refused() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "Hi")
    one = chat.answer("one", question, "One")
    two = chat.answer("two", one, "Two")
    chat.mapping[one]["parent"] = two  # one -> two -> one: no root above either
    chat.mapping[two]["children"].append(one)
    session, report = read(chat.conversation(two))
    assert shape(session) == [(question, None)]
    assert report.refused == Counter({("messages", "its parents form a cycle, so it has no place in the tree"): 2})
    assert session.active_ref is None  # the current node is in the cycle


def test_children_lists_give_the_order_and_nothing_else() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "Hi")
    first = chat.answer("first", question, "One")
    second = chat.answer("second", question, "Two")
    third = chat.answer("third", question, "Three")
    # ChatGPT's list says second, first (twice), and names a node that is not a child; third is missing.
    chat.mapping[question]["children"] = [second, first, first, chat.root]
    session, report = read(chat.conversation(third))
    assert shape(session) == [(question, None), (second, question), (first, question), (third, question)]
    assert report.notes[chatgpt.NOTE_STRAY_CHILD] == 2


def test_the_active_leaf_when_it_is_hidden_is_the_nearest_kept_one_above() -> None:
    chat = small_chat()
    question = chat.say("question", chat.root, "user", "Hi")
    hidden = chat.add("hidden", question, "assistant", text_content("internal"), hidden=True)
    session, _ = read(chat.conversation(hidden))
    assert session.active_ref == question


def test_a_current_node_that_names_no_node_leaves_the_newest_leaf_active() -> None:
    chat = small_chat()
    chat.say("question", chat.root, "user", "Hi")
    session, report = read(chat.conversation("not-a-node"))
    assert session.active_ref is None
    assert report.notes["conversations whose current_node names no node: the newest leaf is active"] == 1


def test_a_chain_thousands_deep_is_read_without_recursion() -> None:
    chat = small_chat()
    parent = chat.root
    for turn in range(3000):
        parent = chat.say(f"q{turn}", parent, "user", f"Question {turn}")
        parent = chat.answer(f"a{turn}", parent, f"Answer {turn}")
    session, _ = read(chat.conversation(parent))
    assert len(session.messages) == 6000
    assert session.messages[-1].parent_ref == session.messages[-2].ref
    assert session.active_ref == parent


# --- the session's values ----------------------------------------------------------------------


def test_the_session_model_falls_back_to_the_answer_above_then_the_default() -> None:
    chat = ChatBuilder("models", title="Models", default_model="gpt-4o-mini")
    question = chat.say("question", chat.root, "user", "Hi")
    session, _ = read(chat.conversation(question))
    assert session.values["model"] == "gpt-4o-mini"  # nothing answered: the default
    answer = chat.answer("answer", question, "Hello", model="gpt-4")
    follow_up = chat.say("follow-up", answer, "user", "Still there?")
    session, _ = read(chat.conversation(follow_up))
    assert session.values["model"] == "gpt-4"  # the leaf is unanswered: the answer above it
    session, _ = read(chat.conversation(follow_up) | {"default_model_slug": None})
    assert session.values["model"] == "gpt-4"


def test_no_model_at_all_is_none() -> None:
    chat = ChatBuilder("no model", title="No model", default_model=None)
    question = chat.say("question", chat.root, "user", "Hi")
    session, _ = read(chat.conversation(question))
    assert session.values["model"] is None
    assert "chatgpt.default_model_slug" not in session.values["metadata"]


@pytest.mark.parametrize(
    ("title", "name", "notes"),
    [
        (None, "Untitled Chat", {chatgpt.NOTE_UNTITLED: 1}),
        ("   ", "Untitled Chat", {chatgpt.NOTE_UNTITLED: 1}),
        ("  Trip plans ", "Trip plans", {}),
        ("Line one\nline two", "Line one line two", {chatgpt.NOTE_CONTROL_TITLE: 1}),
        ("é" * 250, "é" * 200, {"titles longer than 200 characters: cut to 200": 1}),
        ("word " * 40 + "end", ("word " * 40).rstrip(), {chatgpt.NOTE_LONG_TITLE: 1}),
    ],
)
def test_the_title_is_made_a_name(title: str | None, name: str, notes: dict[str, int]) -> None:
    chat = ChatBuilder("titles", title=title)
    session, report = read(chat.conversation(chat.root))
    assert session.values["name"] == name
    assert report.notes == Counter({**ROOT_NOTE, **notes})


def test_other_string_values_go_into_metadata_within_its_limits() -> None:
    chat = small_chat()
    chat.extra = {
        "gizmo_id": "g-2fkFE8rbu",
        "conversation_template_id": "g-2fkFE8rbu",
        "long_value": "v" * (rules.METADATA_VALUE_MAX + 1),
        "k" * 60: "a key too long once prefixed",
        "empty": "",
        "plugin_ids": ["plugin-1"],  # not a string: nothing to keep
    }
    session, report = read(chat.conversation(chat.root))
    assert session.values["metadata"] == {
        "chatgpt.default_model_slug": "gpt-4o",
        "chatgpt.memory_scope": "global_enabled",
        "chatgpt.gizmo_id": "g-2fkFE8rbu",
        "chatgpt.conversation_template_id": "g-2fkFE8rbu",
    }
    assert report.notes == Counter(
        {
            **ROOT_NOTE,
            "chatgpt.long_value not kept in metadata: metadata values must be at most 512 characters": 1,
            f"chatgpt.{'k' * 60} not kept in metadata: metadata keys must be 1 to 64 characters": 1,
        }
    )
    assert rules.check_metadata("metadata", session.values["metadata"]) == session.values["metadata"]


def test_metadata_holds_at_most_its_sixteen_keys() -> None:
    chat = small_chat()
    chat.extra = {f"extra_{number:02}": "x" for number in range(20)}
    session, report = read(chat.conversation(chat.root))
    assert len(session.values["metadata"]) == rules.METADATA_KEYS_MAX
    assert sum(count for note, count in report.notes.items() if "at most 16 keys" in note) == 20 + 2 - 16


def test_the_id_is_the_conversation_id_when_there_is_no_id() -> None:
    conversation = linear_chat()
    del conversation["id"]
    session, _ = read(conversation)
    assert session.id == conversation_id("linear")


# --- files that are not an export ---------------------------------------------------------------


def broken(change: str) -> Conversation:
    conversation = linear_chat()
    question = node_id("linear", "question")
    if change == "no id":
        del conversation["id"], conversation["conversation_id"]
    elif change == "no mapping":
        del conversation["mapping"]
    elif change == "mapping a list":
        conversation["mapping"] = list(conversation["mapping"].values())
    elif change == "node a string":
        conversation["mapping"][question] = "node"
    elif change == "message a list":
        conversation["mapping"][question]["message"] = []
    return conversation


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no id", "conversation 1: a conversation needs an id or a conversation_id (a string)"),
        ("no mapping", "conversation 1 ({id}): a conversation's mapping must be an object of nodes"),
        ("mapping a list", "conversation 1 ({id}): a conversation's mapping must be an object of nodes"),
        ("node a string", "conversation 1 ({id}): node '{node}' of the mapping is not an object"),
        ("message a list", "conversation 1 ({id}): the message of node '{node}' is neither an object nor null"),
    ],
)
def test_a_structure_that_is_not_chatgpts_says_what_and_where(change: str, message: str, tmp_path: Path) -> None:
    path = write_export(tmp_path / "conversations.json", [tools_chat(), broken(change)])
    expected = message.format(id=conversation_id("linear"), node=node_id("linear", "question"))
    read_so_far = []
    with path.open("rb") as stream, pytest.raises(NotAChatGPTExport) as raised:
        for session in read_conversations(stream, new_report()):
            read_so_far.append(session.id)
    assert str(raised.value) == expected
    assert read_so_far == [conversation_id("tools")]  # the one before was read


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b'{"mapping": {}}', "an object"),
        (b'"conversations"', "a string"),
        (b"3.5", "a number"),
        (b"null", "null"),
    ],
)
def test_a_file_that_is_no_list_is_not_an_export(content: bytes, found: str) -> None:
    with pytest.raises(
        NotAChatGPTExport, match=f"^a ChatGPT export is a JSON list of conversations, this file holds {found}$"
    ):
        list(read_conversations(io.BytesIO(content), new_report()))


def test_a_list_of_something_else_is_not_an_export() -> None:
    with pytest.raises(NotAChatGPTExport, match=r"^conversation 0: a conversation must be an object, not a list$"):
        list(read_conversations(io.BytesIO(b"[[1, 2]]"), new_report()))


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "parse error: premature EOF"),
        (b"[{", "parse error: premature EOF"),
        (b'[{"id": "x",}]', 'parse error: invalid object key (must be a string) near \'[{"id": "x",}]\''),
        (b'[] ["again"]', "parse error: trailing garbage near '[] [\"again\"]'"),
        (b'["\xff"]', "lexical error: invalid bytes in UTF8 string near '[\"\ufffd\"]'"),
    ],
)
def test_invalid_json_is_not_an_export_in_ijsons_words_on_one_line(content: bytes, error: str) -> None:
    with pytest.raises(NotAChatGPTExport) as raised:
        list(read_conversations(io.BytesIO(content), new_report()))
    assert str(raised.value) == f"the file is not valid JSON: {error}"


def test_a_file_cut_short_gives_what_came_before_then_fails(tmp_path: Path) -> None:
    whole = json.dumps([linear_chat(), branching_chat()]).encode()
    stream = io.BytesIO(whole[: len(whole) - 200])
    sessions = read_conversations(stream, new_report())
    assert next(sessions).id == conversation_id("linear")
    with pytest.raises(NotAChatGPTExport, match=r"^the file is not valid JSON: "):
        next(sessions)


def test_an_empty_export_holds_no_conversation() -> None:
    assert list(read_conversations(io.BytesIO(b" [ ] \n"), new_report())) == []


@pytest.mark.parametrize(
    ("parsed", "expected"),
    [
        (realistic_export(), True),
        ([], True),  # an account without conversations
        ({"mapping": {}}, False),
        ([{"id": "x"}], False),
        ([{"id": "x", "mapping": []}], False),
        ([linear_chat(), "not a conversation"], False),
        ({"sessions": [], "messages": []}, False),
    ],
)
def test_looks_like_chatgpt_tells_the_format_from_others(parsed: Any, expected: bool) -> None:
    assert looks_like_chatgpt(parsed) is expected


# --- the file, streamed ------------------------------------------------------------------------


def test_the_streamed_file_reads_as_the_parsed_conversations(tmp_path: Path) -> None:
    conversations = realistic_export()
    path = write_export(tmp_path / "conversations.json", conversations)
    streamed, parsed = new_report(), new_report()
    with path.open("rb") as stream:
        from_file = list(read_conversations(stream, streamed))
    assert from_file == [read_conversation(conversation, parsed) for conversation in conversations]
    assert streamed == parsed
    assert len(from_file) == 8


def test_a_large_export_is_read_one_conversation_at_a_time(tmp_path: Path) -> None:
    """20 MB of conversations: the peak of Python memory while reading it all stays under a
    quarter of the file. Measured: about 0.075 of the file (one conversation parsed, at most
    ~170 kB of JSON, and the parser's 64 kB buffers); keeping every session read would take
    about 1.0 of the file, and json.load about 4.2, so the bound fails for either."""
    path = tmp_path / "conversations.json"
    written, largest = write_large_export(path, 20_000_000)
    size = path.stat().st_size
    assert size >= 20_000_000 and largest < size / 50
    report = new_report()
    sessions = messages = 0
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            for session in read_conversations(stream, report):
                seen: set[str] = set()
                for message in session.messages:  # each parent before its children
                    assert message.parent_ref is None or message.parent_ref in seen
                    seen.add(message.ref)
                sessions += 1
                messages += len(session.messages)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sessions == written
    assert messages > 10_000
    assert peak < 0.25 * size, f"peak {peak:,} bytes reading {size:,}"
    assert not report.refused
