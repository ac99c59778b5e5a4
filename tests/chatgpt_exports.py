"""ChatGPT data exports (`conversations.json`) for the tests, built from the format as ChatGPT
writes it: the synthetic root, the hidden system prompt and custom instructions, branches from
edited questions and regenerated answers, tool messages, images, reasoning, null times.

Node and conversation ids are UUIDs derived from a readable label (`node_id("branching",
"edited question")`), so that a test names the node it means and the file still looks real.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

NAMESPACE = uuid.UUID("6f1c1d1e-3b0a-4c55-9d43-7a5e0f1b2c3d")
NOVEMBER_2023 = 1700000000.123456  # 2023-11-14T22:13:20.123Z: every chat starts about then
NEXT: Literal["next"] = "next"  # a message's time: a few seconds after the one before

Conversation = dict[str, Any]


def node_id(conversation: str, label: str) -> str:
    """The node id a builder gave the node it called `label` in `conversation`."""
    return str(uuid.uuid5(NAMESPACE, f"{conversation}/{label}"))


def conversation_id(conversation: str) -> str:
    return str(uuid.uuid5(NAMESPACE, conversation))


def text_content(*parts: str) -> dict[str, Any]:
    return {"content_type": "text", "parts": list(parts)}


def image_part(file_id: str, *, width: int = 1024, height: int = 768) -> dict[str, Any]:
    """An uploaded or generated image, as a multimodal_text part names it."""
    return {
        "content_type": "image_asset_pointer",
        "asset_pointer": f"file-service://file-{file_id}",
        "size_bytes": width * height // 7,
        "width": width,
        "height": height,
        "fovea": None,
        "metadata": None,
    }


class ChatBuilder:
    """One conversation under construction: its mapping, starting with ChatGPT's root node
    (message null), and a clock that moves on with each message."""

    def __init__(
        self,
        key: str,
        *,
        title: str | None,
        created: float | None = NOVEMBER_2023,
        default_model: str | None = "gpt-4o",
    ) -> None:
        self.key = key
        self.title = title
        self.created = created
        self.default_model = default_model
        self.clock = created if created is not None else NOVEMBER_2023
        self.mapping: dict[str, dict[str, Any]] = {}
        self.root = self._node("root", None, None)
        self.extra: dict[str, Any] = {}

    def _node(self, label: str, parent: str | None, message: dict[str, Any] | None) -> str:
        identifier = node_id(self.key, label)
        self.mapping[identifier] = {"id": identifier, "message": message, "parent": parent, "children": []}
        if parent is not None:
            self.mapping[parent]["children"].append(identifier)
        return identifier

    def _time(self, time: float | Literal["next"] | None) -> float | None:
        if time == NEXT:
            self.clock = round(self.clock + 7.250731, 6)
            return self.clock
        return time

    def add(
        self,
        label: str,
        parent: str,
        role: str,
        content: dict[str, Any],
        *,
        time: float | Literal["next"] | None = NEXT,
        model: str | None = None,
        name: str | None = None,
        hidden: bool = False,
        status: str = "finished_successfully",
        finish: str | None = None,
        recipient: str = "all",
    ) -> str:
        """A node with a message, under `parent`; its id is node_id(key, label)."""
        metadata: dict[str, Any] = {}
        if model is not None:
            metadata |= {"model_slug": model, "default_model_slug": self.default_model, "parent_id": parent}
        if finish is not None:
            metadata["finish_details"] = (
                {"type": finish, "stop_tokens": [200002]} if finish == "stop" else {"type": finish}
            )
        if hidden:
            metadata["is_visually_hidden_from_conversation"] = True
        if role == "user":
            metadata |= {"request_id": f"{uuid.uuid5(NAMESPACE, label).hex[:16]}-IAD", "message_type": None}
        identifier = node_id(self.key, label)
        message: dict[str, Any] = {
            "id": identifier,
            "author": {"role": role, "name": name, "metadata": {}},
            "create_time": self._time(time),
            "update_time": None,
            "content": content,
            "status": status,
            "end_turn": True if role == "assistant" and status == "finished_successfully" else None,
            "weight": 0.0 if hidden and role == "system" else 1.0,
            "metadata": metadata,
            "recipient": recipient,
            "channel": None,
        }
        return self._node(label, parent, message)

    def say(self, label: str, parent: str, role: str, *parts: str, **options: Any) -> str:
        """A text message (most of a conversation)."""
        return self.add(label, parent, role, text_content(*parts), **options)

    def answer(self, label: str, parent: str, text: str, *, model: str = "gpt-4o", **options: Any) -> str:
        return self.say(label, parent, "assistant", text, model=model, finish="stop", **options)

    def conversation(self, current_node: str, *, update_time: float | Literal["next"] | None = NEXT) -> Conversation:
        """The conversation as the export writes it, every key ChatGPT gives one."""
        return {
            "title": self.title,
            "create_time": self.created,
            "update_time": self._time(update_time),
            "mapping": self.mapping,
            "moderation_results": [],
            "current_node": current_node,
            "plugin_ids": None,
            "conversation_id": conversation_id(self.key),
            "conversation_template_id": None,
            "gizmo_id": None,
            "gizmo_type": None,
            "is_archived": False,
            "is_starred": None,
            "safe_urls": [],
            "blocked_urls": [],
            "default_model_slug": self.default_model,
            "conversation_origin": None,
            "voice": None,
            "async_status": None,
            "disabled_tool_ids": [],
            "is_do_not_remember": False,
            "memory_scope": "global_enabled",
            "sugar_item_id": None,
            "id": conversation_id(self.key),
            **self.extra,
        }


# --- the conversations -------------------------------------------------------------------------


def linear_chat() -> Conversation:
    """Two questions, two answers, no branch: root -> question -> answer -> question -> answer."""
    chat = ChatBuilder("linear", title="Sourdough starter schedule")
    question = chat.say(
        "question", chat.root, "user", "How often should I feed a sourdough starter kept at room temperature?"
    )
    answer = chat.answer(
        "answer",
        question,
        "At room temperature (around 21–24 °C) feed it once or twice a day: discard all but about 50 g, "  # noqa: RUF001
        "then add equal weights of flour and water.",
    )
    follow_up = chat.say("follow-up", answer, "user", "And in the fridge?")
    last = chat.answer("last answer", follow_up, "In the fridge once a week is enough; let it warm up before baking.")
    return chat.conversation(last)


def branching_chat() -> Conversation:
    """Two branch points: the second question was edited (two versions under the first answer)
    and the edited one's answer regenerated after the first try was stopped (interrupted). The
    user went back to the original question's branch, older than the others: current_node is its
    answer, not the newest leaf.

        root - q1 - a1 -+- q2 (original) - a2 (gpt-4)           <- current_node
                        +- q2 (edited) -+- a2 interrupted (gpt-4)
                                        +- a2 regenerated (gpt-4o)   <- the newest leaf
    """
    chat = ChatBuilder("branching", title="Rust lifetimes", default_model="gpt-4o")
    q1 = chat.say("q1", chat.root, "user", "Why does the borrow checker reject returning a reference to a local?")
    a1 = chat.answer("a1", q1, "Because the local is dropped when the function returns.", model="gpt-4")
    q2 = chat.say("q2 original", a1, "user", "How do I return it then?")
    a2 = chat.answer("a2", q2, "Return an owned value such as `String` instead of `&str`.", model="gpt-4")
    edited = chat.say("q2 edited", a1, "user", "How do I return it without allocating?")
    chat.say(
        "a2 interrupted",
        edited,
        "assistant",
        "You can take a buffer from the caller and",
        model="gpt-4",
        finish="interrupted",
        status="finished_partial_completion",
    )
    chat.answer("a2 regenerated", edited, "Take a `&mut String` from the caller and write into it.", model="gpt-4o")
    return chat.conversation(a2)


def hidden_nodes_chat() -> Conversation:
    """What ChatGPT writes but does not show, in the chain: the null root, the empty system
    prompt, the custom instructions (user_editable_context), and a visually hidden assistant
    node (memory context) between the question and its answer."""
    chat = ChatBuilder("hidden", title="Weekend trip to Lisbon")
    system = chat.add("system", chat.root, "system", text_content(""), hidden=True)
    context = chat.add(
        "custom instructions",
        system,
        "user",
        {
            "content_type": "user_editable_context",
            "user_profile": "The user provided the following information about themselves: I live in Porto.",
            "user_instructions": "The user provided the additional info about how they would like you to respond: "
            "Be brief.",
        },
        hidden=True,
    )
    question = chat.say("question", context, "user", "Plan two days in Lisbon for me.")
    memory = chat.add(
        "memory context",
        question,
        "assistant",
        {"content_type": "model_editable_context", "model_set_context": "1. Lives in Porto.", "repository": None},
        hidden=True,
        model="gpt-4o",
    )
    empty_system = chat.say("empty system", memory, "system", "")
    answer = chat.answer("answer", empty_system, "Day one: Alfama and the castle. Day two: Belém and LX Factory.")
    return chat.conversation(answer)


def null_time_chat() -> Conversation:
    """Messages without a create_time: the first one (under the root), and an answer."""
    chat = ChatBuilder("null times", title="Unit conversion")
    question = chat.say("question", chat.root, "user", "How many cups is 250 ml?", time=None)
    answer = chat.answer("answer", question, "About 1.06 US cups.")
    follow_up = chat.say("follow-up", answer, "user", "And 500 ml?")
    last = chat.answer("last answer", follow_up, "About 2.11 US cups.", time=None)
    return chat.conversation(last)


def untimed_chat() -> Conversation:
    """A conversation without create_time whose first message has none either: the earliest
    message time stands in for both."""
    chat = ChatBuilder("untimed", title=None, created=None)
    question = chat.say("question", chat.root, "user", "Hello?", time=None)
    answer = chat.answer("answer", question, "Hello! How can I help?", time=1700000100.5)
    return chat.conversation(answer, update_time=None)


def multimodal_chat() -> Conversation:
    """Images: a photo beside a question (text kept, image refused), then a photo alone (the
    message refused, its answer re-parented onto the answer before it)."""
    chat = ChatBuilder("multimodal", title="What plant is this?")
    photo_question = chat.add(
        "photo with text",
        chat.root,
        "user",
        {"content_type": "multimodal_text", "parts": [image_part("3nJdWq8xLm2"), "What plant is this?"]},
    )
    first = chat.answer("first answer", photo_question, "It looks like a Monstera deliciosa.")
    photo_only = chat.add(
        "photo only",
        first,
        "user",
        {"content_type": "multimodal_text", "parts": [image_part("Zr5TqP0aBc1", width=768, height=1024)]},
    )
    second = chat.answer("second answer", photo_only, "That one is a fiddle-leaf fig.")
    return chat.conversation(second)


def tools_chat() -> Conversation:
    """Tools: the assistant writes code for the python tool (content_type code), the tool's
    output comes back (a tool message, execution_output), then a browsing quote (tether_quote)
    and the browser's display (tether_browsing_display), and the final answer (o1-preview)."""
    chat = ChatBuilder("tools", title="Compound interest", default_model="gpt-4")
    question = chat.say("question", chat.root, "user", "What is 1000 at 5% compounded monthly after 10 years?")
    code = chat.add(
        "code",
        question,
        "assistant",
        {"content_type": "code", "language": "unknown", "response_format_name": None, "text": "1000*(1+0.05/12)**120"},
        model="gpt-4",
        recipient="python",
        status="finished_successfully",
    )
    output = chat.add(
        "output",
        code,
        "tool",
        {"content_type": "execution_output", "text": "1647.0094976902801"},
        name="python",
    )
    quote = chat.add(
        "quote",
        output,
        "tool",
        {
            "content_type": "tether_quote",
            "url": "https://www.investopedia.com/terms/c/compoundinterest.asp",
            "domain": "www.investopedia.com",
            "text": "Compound interest is interest calculated on the initial principal and accumulated interest.",
            "title": "Compound Interest: Definition",
        },
        name="browser",
    )
    display = chat.add(
        "display",
        quote,
        "tool",
        {
            "content_type": "tether_browsing_display",
            "result": "",
            "summary": "Searched compound interest",
            "assets": [],
        },
        name="browser",
    )
    answer = chat.answer("answer", display, "After 10 years you would have about 1,647.01.", model="o1-preview")
    return chat.conversation(answer)


def reasoning_chat() -> Conversation:
    """A reasoning model's thoughts and their recap before its answer."""
    chat = ChatBuilder("reasoning", title="Prime check", default_model="o3")
    question = chat.say("question", chat.root, "user", "Is 221 prime?")
    thoughts = chat.add(
        "thoughts",
        question,
        "assistant",
        {
            "content_type": "thoughts",
            "thoughts": [
                {"summary": "Trying small factors", "content": "221 is odd; 3 does not divide it.", "finished": True},
                {"summary": "Found one", "content": "13 × 17 = 221.", "finished": True},  # noqa: RUF001
            ],
            "source_analysis_msg_id": node_id("reasoning", "analysis"),
        },
        model="o3",
    )
    recap = chat.add(
        "recap",
        thoughts,
        "assistant",
        {"content_type": "reasoning_recap", "content": "Thought for 4 seconds"},
        model="o3",
    )
    answer = chat.answer("answer", recap, "No: 221 = 13 × 17.", model="o3")  # noqa: RUF001
    return chat.conversation(answer)


def realistic_export() -> list[Conversation]:
    """Every conversation above, as one export holds them."""
    return [
        linear_chat(),
        branching_chat(),
        hidden_nodes_chat(),
        null_time_chat(),
        untimed_chat(),
        multimodal_chat(),
        tools_chat(),
        reasoning_chat(),
    ]


def write_export(path: Path, conversations: list[Conversation]) -> Path:
    """The export as ChatGPT's zip holds it (UTF-8, not ASCII-escaped)."""
    path.write_text(json.dumps(conversations, ensure_ascii=False), encoding="utf-8")
    return path


# --- a large export ----------------------------------------------------------------------------

# The vocabulary of the generated chats (their size, not their sense, is what matters).
_VOCABULARY = (
    "the model answer question branch token context window latency cache index query schema "
    "request response stream buffer parser export import session message tree node parent child "
    "regenerate edit interrupt summary memory importance persona recap timestamp moment"
)
_WORDS = tuple(_VOCABULARY.split())
_MODELS = ("gpt-4o", "gpt-4", "o1-preview", "gpt-4o-mini")


def _prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def _generated_chat(rng: random.Random, number: int) -> Conversation:
    """A conversation of 10 to 40 exchanges, one in four of its answers regenerated and one in
    six of its questions edited, so the file holds branches as real ones do."""
    chat = ChatBuilder(f"generated {number}", title=_prose(rng, 4)[:60], created=NOVEMBER_2023 + number * 3600.5)
    parent = chat.root
    for turn in range(rng.randint(10, 40)):
        question = chat.say(f"q{turn}", parent, "user", _prose(rng, rng.randint(5, 60)))
        if rng.random() < 1 / 6:
            question = chat.say(f"q{turn} edited", parent, "user", _prose(rng, rng.randint(5, 60)))
        parent = chat.answer(f"a{turn}", question, _prose(rng, rng.randint(20, 400)), model=rng.choice(_MODELS))
        if rng.random() < 1 / 4:
            parent = chat.answer(f"a{turn} again", question, _prose(rng, rng.randint(20, 400)), model="gpt-4o")
    return chat.conversation(parent)


def generated_chats(seed: int = 0) -> Iterator[Conversation]:
    rng = random.Random(seed)
    number = 0
    while True:
        yield _generated_chat(rng, number)
        number += 1


def write_large_export(path: Path, target_bytes: int, *, seed: int = 0) -> tuple[int, int]:
    """An export of about `target_bytes` (a little more: whole conversations), written one
    conversation at a time so that writing it holds no more than reading it should. Returns the
    number of conversations and the size of the largest one, in bytes of JSON."""
    written = count = largest = 0
    with path.open("w", encoding="utf-8") as file:
        file.write("[")
        for conversation in generated_chats(seed):
            if written >= target_bytes:
                break
            text = json.dumps(conversation, ensure_ascii=False)
            file.write((", " if count else "") + text)
            written += len(text.encode()) + 2
            count += 1
            largest = max(largest, len(text.encode()))
        file.write("]")
    return count, largest
