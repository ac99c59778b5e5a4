"""ChatGPT's data export (`conversations.json`) read as sessions and message trees (api.md §9).

The file is a JSON list of conversations, each a tree of nodes (`mapping`) in which editing a
question or regenerating an answer starts a branch; `current_node` is the leaf the user last saw.
Every node that holds a message the conversation shows becomes an ImportedMessage under its
nearest shown ancestor, so the branches survive and the active one stays active. What ChatGPT
itself hid (its synthetic root, system prompts, custom instructions) is skipped and counted in
the report; what the API cannot hold (an image, a message beyond the text limit) is refused
there, so that nothing is dropped without a line. Neither makes the tree fall apart: a skipped
node's children hang from its nearest kept ancestor.

An export runs to tens of megabytes, so the file is read one conversation at a time (ijson),
never whole. The reader knows nothing of the database: it gives the neutral structure of
importers/conversation.py, which the writer stores.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, BinaryIO

import ijson

from importers.conversation import ImportedMessage, ImportedSession
from importers.report import ImportReport
from models import clock, rules
from models.errors import InvalidInput
from models.message import MessageRole

UNTITLED = "Untitled Chat"  # what the Kalito importer names a session without a name, too
METADATA_PREFIX = "chatgpt."
TABLE = "messages"  # what the report names the table of every refusal here
# The conversation's keys read into a field; its other string values go into the metadata.
MAPPED_KEYS = frozenset({"title", "create_time", "update_time", "id", "conversation_id", "current_node", "mapping"})
# A tool's output (code it ran, a page it read) is part of the answer the user saw.
ROLES = {
    "system": MessageRole.SYSTEM,
    "user": MessageRole.USER,
    "assistant": MessageRole.ASSISTANT,
    "tool": MessageRole.ASSISTANT,
}
PART_SEPARATOR = "\n\n"

# What the report says, word for word (tests and the documentation quote these).
NOTE_TOOL = "tool messages kept as assistant messages"
NOTE_INTERRUPTED = "answers interrupted or still in progress, kept as they were"
NOTE_PARENT_TIME = "messages without a create_time: their parent's time (a first message: the conversation's)"
NOTE_NO_TIME = "conversations without any time: imported at the moment of the import"
NOTE_UNTITLED = f"conversations without a title imported as {UNTITLED}"
NOTE_LONG_TITLE = f"titles longer than {rules.NAME_MAX} characters: cut to {rules.NAME_MAX}"
NOTE_CONTROL_TITLE = "titles with control characters (line breaks, tabs): each replaced by a space"
NOTE_ORPHAN = "nodes whose parent is not in the mapping: read as first messages"
NOTE_STRAY_CHILD = "children entries that repeat a node or name another node's child: ignored"
NOTE_NO_CURRENT_NODE = "conversations whose current_node names no node: the newest leaf is active"
HIDDEN = "messages hidden from the conversation, skipped: "
HIDDEN_ROOT = HIDDEN + "a node without a message (ChatGPT's root)"
HIDDEN_FLAG = HIDDEN + "is_visually_hidden_from_conversation"
HIDDEN_CONTEXT = HIDDEN + "custom instructions (user_editable_context)"
HIDDEN_EMPTY_SYSTEM = HIDDEN + "a system message without text"
# Refusals (table "messages", the node id as the example) that are not built from a value.
REFUSED_NO_CONTENT = "a message without content"
REFUSED_NO_ROLE = "a message without an author role"
REFUSED_EMPTY_USER = "a user message without text"
REFUSED_CYCLE = "its parents form a cycle, so it has no place in the tree"
REFUSED_TOO_LONG = f"text longer than {rules.MESSAGE_TEXT_MAX:,} characters"

Nodes = Mapping[str, dict[str, Any]]  # a conversation's mapping: node id -> node
_KINDS = {"start_map": "an object", "string": "a string", "number": "a number", "boolean": "a boolean", "null": "null"}


class NotAChatGPTExport(ValueError):
    """The file is not ChatGPT's export: nothing in it can be read as conversations."""


def looks_like_chatgpt(parsed: object) -> bool:
    """Whether a parsed document has the shape of `conversations.json`, for a caller that must
    tell it from another format. An empty list passes: it is the export of an account without
    conversations."""
    return isinstance(parsed, list) and all(
        isinstance(item, dict) and isinstance(item.get("mapping"), dict) for item in parsed
    )


def read_conversations(stream: BinaryIO, report: ImportReport) -> Iterator[ImportedSession]:
    """The conversations of the file, each read as soon as the parser has it, so that memory
    holds one conversation at a time whatever the file's size. A conversation already given
    stays given when a later part of the file turns out broken (NotAChatGPTExport then)."""
    for index, raw in enumerate(_items(stream)):
        if not isinstance(raw, dict):
            raise NotAChatGPTExport(f"conversation {index}: a conversation must be an object, not {_kind(raw)}")
        yield read_conversation(raw, report, index=index)


def read_conversation(raw: dict[str, Any], report: ImportReport, *, index: int | None = None) -> ImportedSession:
    """One conversation (`index`: its place in the file, for the error messages)."""
    session_id, mapping = _checked_structure(raw, index)
    tree = _tree(mapping, report)
    created_at = _session_created_at(raw, mapping, report)
    walk = _Walk(mapping, report)
    walk.run(tree, created_at)
    _refuse_unreached(mapping, walk.above, report)
    active_ref = _active_ref(raw.get("current_node"), mapping, walk.above, report)
    newest = max((message.values["created_at"] for message in walk.messages), default=created_at)
    return ImportedSession(
        id=session_id,
        values={
            "name": _name(raw.get("title"), report),
            "model": _session_model(active_ref, walk.kept, raw.get("default_model_slug"), report),
            "recap": None,
            "persona_id": None,
            "saved": True,  # a conversation the user kept in ChatGPT is one they meant to keep
            "metadata": _metadata(raw, report),
            "created_at": created_at,
            "updated_at": _moment(raw.get("update_time")) or newest,
        },
        messages=walk.messages,
        active_ref=active_ref,
    )


# --- the file ----------------------------------------------------------------------------------


def _items(stream: BinaryIO) -> Iterator[object]:
    """The top-level list's items, one at a time. The first event is looked at first: without
    that, ijson finds no `item` in a top-level object and the file would read as no conversation."""
    try:
        events = ijson.parse(stream, use_float=True)
        first = next(events, None)
        if first is None or first[1] != "start_array":
            found = "nothing" if first is None else _KINDS.get(first[1], first[1])
            raise NotAChatGPTExport(f"a ChatGPT export is a JSON list of conversations, this file holds {found}")
        yield from ijson.items(itertools.chain([first], events), "item")
    except ijson.JSONError as error:
        raise NotAChatGPTExport(f"the file is not valid JSON: {_parse_error(error)}") from error


def _parse_error(error: Exception) -> str:
    """ijson's message on one line: yajl writes the error, then the text around it and an arrow
    under it (on lines of their own, sometimes as the repr of bytes)."""
    message = str(error)
    if message.startswith(("b'", 'b"')):
        with contextlib.suppress(ValueError, SyntaxError, AttributeError):  # not bytes after all: as it is
            message = ast.literal_eval(message).decode("utf-8", "replace")
    lines = message.splitlines() or [""]
    near = lines[1].strip() if len(lines) > 2 else ""  # the text around the error, when there is some
    return f"{lines[0].rstrip('.')} near {near!r}" if near else lines[0].rstrip(".")


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _where(index: int | None, session_id: object) -> str:
    place = "conversation" if index is None else f"conversation {index}"
    return f"{place} ({session_id})" if isinstance(session_id, str) and session_id else place


def _checked_structure(raw: Mapping[str, Any], index: int | None) -> tuple[str, dict[str, Any]]:
    """The conversation's id and mapping, or NotAChatGPTExport saying what is missing where:
    without these there is no session to make, and another file's data is not to be guessed at."""
    session_id = raw.get("id") or raw.get("conversation_id")
    where = _where(index, session_id)
    if not isinstance(session_id, str):
        raise NotAChatGPTExport(f"{where}: a conversation needs an id or a conversation_id (a string)")
    mapping = raw.get("mapping")
    if not isinstance(mapping, dict):
        raise NotAChatGPTExport(f"{where}: a conversation's mapping must be an object of nodes")
    for node_id, node in mapping.items():
        if not isinstance(node, dict):
            raise NotAChatGPTExport(f"{where}: node {node_id!r} of the mapping is not an object")
        if not isinstance(node.get("message"), dict | None):
            raise NotAChatGPTExport(f"{where}: the message of node {node_id!r} is neither an object nor null")
    return session_id, mapping


# --- the tree ----------------------------------------------------------------------------------


@dataclass
class _Tree:
    roots: list[str]
    children: dict[str, list[str]]  # node id -> its children, in the order ChatGPT lists them


def _tree(mapping: Nodes, report: ImportReport) -> _Tree:
    """The nodes by their `parent`, each node's one and only place; the `children` lists give
    only the order (a list naming a node twice, or one whose parent is another, cannot move it)."""
    roots: list[str] = []
    by_parent: dict[str, list[str]] = {node_id: [] for node_id in mapping}
    for node_id, node in mapping.items():
        parent = node.get("parent")
        if isinstance(parent, str) and parent in mapping:
            by_parent[parent].append(node_id)
        else:
            roots.append(node_id)
            if parent is not None:
                report.notes[NOTE_ORPHAN] += 1
    return _Tree(roots, {node_id: _ordered(node_id, mapping, by_parent[node_id], report) for node_id in mapping})


def _ordered(node_id: str, mapping: Nodes, children: list[str], report: ImportReport) -> list[str]:
    """A node's children in its `children` list's order, then any it does not list."""
    listed = mapping[node_id].get("children")
    mine = set(children)
    ordered: dict[str, None] = {}
    for child in listed if isinstance(listed, list) else []:
        if isinstance(child, str) and child in mine and child not in ordered:
            ordered[child] = None
        else:
            report.notes[NOTE_STRAY_CHILD] += 1
    return [*ordered, *(child for child in children if child not in ordered)]


class _Walk:
    """From the roots down, parents before children: each node read as a message or skipped,
    and each node's nearest kept self-or-ancestor remembered (re-parenting, the active leaf)."""

    def __init__(self, mapping: Nodes, report: ImportReport) -> None:
        self.mapping = mapping
        self.report = report
        self.messages: list[ImportedMessage] = []
        self.kept: dict[str, ImportedMessage] = {}
        self.above: dict[str, str | None] = {}  # every node reached -> its nearest kept self-or-ancestor

    def run(self, tree: _Tree, created_at: datetime) -> None:
        # A stack, not recursion: a long conversation is a chain thousands of nodes deep.
        stack: list[tuple[str, str | None, datetime]] = [(root, None, created_at) for root in reversed(tree.roots)]
        while stack:
            node_id, parent_ref, parent_time = stack.pop()
            message = _message(node_id, self.mapping[node_id].get("message"), parent_ref, parent_time, self.report)
            if message is not None:
                self.messages.append(message)
                self.kept[node_id] = message
                parent_ref, parent_time = node_id, message.values["created_at"]
            self.above[node_id] = parent_ref
            stack += [(child, parent_ref, parent_time) for child in reversed(tree.children[node_id])]


def _refuse_unreached(mapping: Nodes, reached: Mapping[str, object], report: ImportReport) -> None:
    """Nodes no root leads to (their parents point at each other): their messages are lost."""
    for node_id, node in mapping.items():
        if node_id not in reached and node.get("message") is not None:
            report.refuse(TABLE, node_id, REFUSED_CYCLE)


def _active_ref(
    current_node: object, mapping: Mapping[str, object], above: Mapping[str, str | None], report: ImportReport
) -> str | None:
    """The leaf the user last saw, or the nearest message above it that was kept."""
    if not isinstance(current_node, str) or current_node not in mapping:
        report.notes[NOTE_NO_CURRENT_NODE] += 1
        return None
    return above.get(current_node)


# --- one message -------------------------------------------------------------------------------


def _message(
    node_id: str, message: dict[str, Any] | None, parent_ref: str | None, parent_time: datetime, report: ImportReport
) -> ImportedMessage | None:
    """A node as a message, or None where it is skipped (the reason in the report)."""
    hidden = _hidden(message)
    if hidden is not None or message is None:
        report.notes[hidden or HIDDEN_ROOT] += 1
        return None
    role = _role(node_id, message, report)
    if role is None:
        return None
    text = _text(node_id, message, role, report)
    if text is None:
        return None
    if _dict(message.get("author")).get("role") == "tool":
        report.notes[NOTE_TOOL] += 1
    if _interrupted(message):
        report.notes[NOTE_INTERRUPTED] += 1
    return ImportedMessage(
        ref=node_id,
        parent_ref=parent_ref,
        values={
            "role": role,
            "text": text,
            "model": _model(_dict(message.get("metadata")).get("model_slug"), report),
            "token_usage": None,  # the export holds none
            "importance": None,  # computed as for an append
            "created_at": _message_time(message, parent_time, report),
        },
    )


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _hidden(message: dict[str, Any] | None) -> str | None:
    """Why ChatGPT does not show the node, if it does not (its own UI is the measure)."""
    if message is None:
        return HIDDEN_ROOT
    if _dict(message.get("content")).get("content_type") == "user_editable_context":
        return HIDDEN_CONTEXT
    if _dict(message.get("metadata")).get("is_visually_hidden_from_conversation") is True:
        return HIDDEN_FLAG
    return None


def _role(node_id: str, message: dict[str, Any], report: ImportReport) -> MessageRole | None:
    role = _dict(message.get("author")).get("role")
    if not isinstance(role, str):
        report.refuse(TABLE, node_id, REFUSED_NO_ROLE)
        return None
    if role not in ROLES:
        report.refuse(TABLE, node_id, f"role {role!r} is none of system, user, assistant and tool")
        return None
    return ROLES[role]


def _text(node_id: str, message: dict[str, Any], role: MessageRole, report: ImportReport) -> str | None:
    """The message's text as the API holds it, or None where the message cannot be kept. What
    has no text (an image) is refused by itself; an assistant's reply may stay empty (§8)."""
    content = message.get("content")
    text, refusals = content_text(content) if isinstance(content, dict) else ("", [REFUSED_NO_CONTENT])
    for reason in dict.fromkeys(refusals):  # one line per reason per message, however many images
        report.refuse(TABLE, node_id, reason)
    if role is MessageRole.SYSTEM and not text.strip():
        if not refusals:
            report.notes[HIDDEN_EMPTY_SYSTEM] += 1
        return None
    if role is MessageRole.USER and not text:
        if not refusals:
            report.refuse(TABLE, node_id, REFUSED_EMPTY_USER)
        return None
    if len(text) > rules.MESSAGE_TEXT_MAX:  # the rule's own words would read "1 to 100000" here
        report.refuse(TABLE, node_id, REFUSED_TOO_LONG)
        return None
    try:  # what else the rule refuses: a NUL, a lone surrogate
        return rules.check_message_text("text", text, may_be_empty=role is MessageRole.ASSISTANT)
    except InvalidInput as refusal:
        report.refuse(TABLE, node_id, refusal.message)
        return None


def _interrupted(message: dict[str, Any]) -> bool:
    finish = _dict(_dict(message.get("metadata")).get("finish_details")).get("type")
    return finish == "interrupted" or message.get("status") == "in_progress"


def _model(slug: object, report: ImportReport) -> str | None:
    if not isinstance(slug, str) or not slug:
        return None
    try:
        return rules.check_model("model", slug)
    except InvalidInput as refusal:
        report.notes[f"model slugs the API refuses ({refusal.message}): left out"] += 1
        return None


def _message_time(message: dict[str, Any], parent_time: datetime, report: ImportReport) -> datetime:
    moment = _moment(message.get("create_time"))
    if moment is None:
        report.notes[NOTE_PARENT_TIME] += 1
        return parent_time
    return moment


# --- a message's text, by its content_type ------------------------------------------------------


def content_text(content: Mapping[str, Any]) -> tuple[str, list[str]]:
    """A message's content as text, and the reasons for what of it has no text (refusals)."""
    kind = content.get("content_type")
    reader = _READERS.get(kind) if isinstance(kind, str) else None
    if reader is not None:
        return reader(content)
    text, refusals = _generic_text(content)
    if not text and not refusals:
        name = kind if isinstance(kind, str) else "untyped"
        refusals = [f"{_article(name)} {name} message has no text"]
    return text, refusals


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def _joined(*texts: str) -> str:
    return PART_SEPARATOR.join(text for text in texts if text)


def _parts_text(content: Mapping[str, Any]) -> tuple[str, list[str]]:
    """`text` and `multimodal_text`: the string parts. A voice message's transcription is text;
    an image, a file or an audio recording is not, and is refused by its content_type."""
    texts: list[str] = []
    refusals: list[str] = []
    parts = content.get("parts")
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("content_type") == "audio_transcription":
            texts.append(_string(part.get("text")))
        elif part is not None:
            kind = _dict(part).get("content_type")
            name = kind if isinstance(kind, str) else "untyped"
            refusals.append(f"{_article(name)} {name} part has no text")
    return _joined(*texts), refusals


def _field_text(name: str) -> Callable[[Mapping[str, Any]], tuple[str, list[str]]]:
    return lambda content: (_string(content.get(name)), [])


def _quote_text(content: Mapping[str, Any]) -> tuple[str, list[str]]:
    """A page ChatGPT quoted: its title and address, then the quoted passage."""
    heading = "\n".join(_string(content.get(name)) for name in ("title", "url") if _string(content.get(name)))
    return _joined(heading, _string(content.get("text"))), []


def _browsing_text(content: Mapping[str, Any]) -> tuple[str, list[str]]:
    return _string(content.get("result")) or _string(content.get("summary")), []


def _thoughts_text(content: Mapping[str, Any]) -> tuple[str, list[str]]:
    """A reasoning model's thoughts, each its summary and its content."""
    thoughts = content.get("thoughts")
    texts = [
        _joined(_string(thought.get("summary")), _string(thought.get("content")))
        for thought in (thoughts if isinstance(thoughts, list) else [])
        if isinstance(thought, dict)
    ]
    return _joined(*texts), []


def _generic_text(content: Mapping[str, Any]) -> tuple[str, list[str]]:
    """A content_type this reader does not know: its `text`, else its string `parts`."""
    if isinstance(content.get("text"), str):
        return content["text"], []
    if isinstance(content.get("parts"), list):
        return _parts_text(content)
    return "", []


_READERS: dict[str, Callable[[Mapping[str, Any]], tuple[str, list[str]]]] = {
    "text": _parts_text,
    "multimodal_text": _parts_text,
    "code": _field_text("text"),
    "execution_output": _field_text("text"),
    "system_error": _field_text("text"),
    "tether_quote": _quote_text,
    "tether_browsing_display": _browsing_text,
    "thoughts": _thoughts_text,
    "reasoning_recap": _field_text("content"),
}


# --- the session's values ----------------------------------------------------------------------


def _moment(value: object) -> datetime | None:
    """ChatGPT's times are Unix seconds with a fraction; None where there is no readable one."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        return clock.to_millisecond(datetime.fromtimestamp(float(value), UTC))
    except (OverflowError, OSError, ValueError):  # out of datetime's range, or NaN
        return None


def _session_created_at(raw: Mapping[str, Any], mapping: Nodes, report: ImportReport) -> datetime:
    """create_time, else the earliest message's, else update_time: a session needs a moment."""
    moments = (_moment(_dict(node.get("message")).get("create_time")) for node in mapping.values())
    earliest = min((moment for moment in moments if moment is not None), default=None)
    created_at = _moment(raw.get("create_time")) or earliest or _moment(raw.get("update_time"))
    if created_at is None:
        report.notes[NOTE_NO_TIME] += 1
        return clock.now()
    return created_at


def _name(title: object, report: ImportReport) -> str:
    """The title, made to fit the name rule (§4): trimmed, one line, at most NAME_MAX."""
    if not isinstance(title, str) or not title.strip():
        report.notes[NOTE_UNTITLED] += 1
        return UNTITLED
    name = title.strip()
    if any(unicodedata.category(char) == "Cc" for char in name):
        name = "".join(" " if unicodedata.category(char) == "Cc" else char for char in name)
        report.notes[NOTE_CONTROL_TITLE] += 1
    if len(name) > rules.NAME_MAX:
        name = name[: rules.NAME_MAX].rstrip()
        report.notes[NOTE_LONG_TITLE] += 1
    try:
        return rules.check_name("name", name)
    except InvalidInput as refusal:  # a lone surrogate: nothing of the title can be trusted
        report.notes[f"titles the API refuses ({refusal.message}): imported as {UNTITLED}"] += 1
        return UNTITLED


def _session_model(
    active_ref: str | None, kept: Mapping[str, ImportedMessage], default: object, report: ImportReport
) -> str | None:
    """The model that answered last on the active branch (the leaf's own, or the nearest above
    it: a leaf may be the user's unanswered question), else the conversation's default."""
    ref = active_ref
    while ref is not None:
        message = kept[ref]
        if message.values["model"] is not None:
            return str(message.values["model"])
        ref = message.parent_ref
    return _model(default, report)


def _metadata(raw: Mapping[str, Any], report: ImportReport) -> dict[str, str]:
    """The conversation's other string values, `chatgpt.<key>`, as far as the metadata rules
    (§4: 16 keys, lengths) let them in; a value left out is named in the report."""
    metadata: dict[str, str] = {}
    for key, value in raw.items():
        if key in MAPPED_KEYS or not isinstance(value, str) or not value:
            continue
        name = METADATA_PREFIX + key
        try:
            rules.check_metadata("metadata", {**metadata, name: value})
        except InvalidInput as refusal:
            report.notes[f"{name} not kept in metadata: {refusal.message}"] += 1
            continue
        metadata[name] = value
        report.kept_in_metadata[name] += 1
    return metadata
