"""Tortoise models and the rules of the data. Never imports strawberry or starlette."""

from models.columns import Row
from models.database import (
    MODEL_MODULES,
    SchemaBehind,
    SchemaError,
    UnownedRows,
    give_unowned_rows,
    migrate,
    migrate_database,
    pending_migrations,
    prepare_database,
    tortoise_config,
)
from models.errors import Conflict, DomainError, InvalidInput, NotFound
from models.events import SessionEvent, SessionEventKind
from models.fork import fork_session
from models.message import Message, MessageRole, MessageRow
from models.message_tree import chain_every_session
from models.owners import EVERYONE, ONE_USER, Owner, Viewer
from models.pagination import Page, PageRequest
from models.persona import Persona, PersonaRow
from models.pin import Pin, PinRow, PinType
from models.session import Session, SessionFilter, SessionOrder
from models.session_columns import SessionRow
from models.session_import import SessionImport
from models.summary import Summary, SummaryRow

__all__ = [
    "EVERYONE",
    "MODEL_MODULES",
    "ONE_USER",
    "Conflict",
    "DomainError",
    "InvalidInput",
    "Message",
    "MessageRole",
    "MessageRow",
    "NotFound",
    "Owner",
    "Page",
    "PageRequest",
    "Persona",
    "PersonaRow",
    "Pin",
    "PinRow",
    "PinType",
    "Row",
    "SchemaBehind",
    "SchemaError",
    "Session",
    "SessionEvent",
    "SessionEventKind",
    "SessionFilter",
    "SessionImport",
    "SessionOrder",
    "SessionRow",
    "Summary",
    "SummaryRow",
    "UnownedRows",
    "Viewer",
    "chain_every_session",
    "fork_session",
    "give_unowned_rows",
    "migrate",
    "migrate_database",
    "pending_migrations",
    "prepare_database",
    "tortoise_config",
]
