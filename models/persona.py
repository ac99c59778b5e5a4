"""Personas: the system prompts and presets a session can run with.

Kalito's defaults are everyone's, and read-only but to an admin (or without accounts); a
user's own personas are theirs alone (models/owners.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from tortoise import fields
from tortoise.expressions import Q
from tortoise.indexes import Index
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models import clock, rules
from models.columns import WRITABLE, Row, Writable, column
from models.default_personas import DEFAULT_PERSONAS
from models.errors import Conflict, InvalidInput, NotFound
from models.memory import MAX_TOKENS_LIMIT
from models.owners import OWNER_MAX, UNOWNED, Owner

PROMPT_MAX = rules.MESSAGE_TEXT_MAX

_short_text = partial(rules.check_text, minimum=1, maximum=rules.SHORT_TEXT_MAX)
# A list setting: null in the update input empties it, as null clears the scalar settings.
_LIST_SETTING = Writable(null_resets=True)


class Persona(Model):
    id = column(
        fields.CharField(max_length=64, primary_key=True),
        rule=rules.check_id,
        create=Writable(description="Generated when omitted."),
    )
    name = column(fields.CharField(max_length=rules.NAME_MAX), rule=rules.check_name, create=WRITABLE, update=WRITABLE)
    prompt = column(
        fields.TextField(),
        rule=partial(rules.check_text, minimum=1, maximum=PROMPT_MAX),
        create=WRITABLE,
        update=WRITABLE,
    )
    description = column(
        fields.TextField(null=True),
        rule=partial(rules.check_text, maximum=rules.DESCRIPTION_MAX),
        create=WRITABLE,
        update=WRITABLE,
    )
    icon = column(
        fields.CharField(max_length=rules.SHORT_TEXT_MAX, null=True), rule=_short_text, create=WRITABLE, update=WRITABLE
    )
    category = column(
        fields.CharField(max_length=rules.SHORT_TEXT_MAX, null=True), rule=_short_text, create=WRITABLE, update=WRITABLE
    )
    default_model = column(
        fields.CharField(max_length=rules.MODEL_MAX, null=True),
        rule=rules.check_model,
        create=WRITABLE,
        update=WRITABLE,
    )
    # The generation settings (api.md §8); any may be absent, as in Kalito.
    temperature = column(
        fields.FloatField(null=True),
        rule=partial(rules.check_number, minimum=0, maximum=2),
        create=WRITABLE,
        update=WRITABLE,
        description="Sampling temperature, 0 to 2.",
    )
    max_tokens = column(
        fields.IntField(null=True),
        rule=partial(rules.check_integer, minimum=1, maximum=MAX_TOKENS_LIMIT),
        create=WRITABLE,
        update=WRITABLE,
        description="The longest answer, in tokens: 1 to 1,000,000.",
    )
    top_p = column(
        fields.FloatField(null=True),
        rule=partial(rules.check_number, minimum=0, maximum=1),
        create=WRITABLE,
        update=WRITABLE,
        description="Nucleus sampling (top-p), 0 to 1.",
    )
    repeat_penalty = column(
        fields.FloatField(null=True),
        rule=partial(rules.check_number, minimum=0, maximum=2),
        create=WRITABLE,
        update=WRITABLE,
        description="The penalty on repeated tokens, 0 to 2.",
    )
    stop_sequences = column(
        fields.JSONField[list[str]](default=list, db_default="[]"),
        rule=partial(rules.check_list, most=rules.STOP_SEQUENCES_MAX, item=_short_text),
        create=_LIST_SETTING,
        update=_LIST_SETTING,
        description=f"Where the model stops: at most {rules.STOP_SEQUENCES_MAX}, each 1 to "
        f"{rules.SHORT_TEXT_MAX} characters; [] when none.",
    )
    suggested_models = column(
        fields.JSONField[list[str]](default=list, db_default="[]"),
        rule=partial(rules.check_list, most=rules.SUGGESTED_MODELS_MAX, item=rules.check_model),
        create=_LIST_SETTING,
        update=_LIST_SETTING,
        description=f"Models it works well with: at most {rules.SUGGESTED_MODELS_MAX}; [] when none.",
    )
    is_default = column(
        fields.BooleanField(default=False), description="A Kalito default persona; it cannot be deleted."
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    # Whose persona it is (models/owners.py); Kalito's defaults are everyone's.
    owner_id = column(fields.CharField(max_length=OWNER_MAX, default=UNOWNED, db_default=UNOWNED), exposed=False)

    class Meta:
        table = "personas"
        ordering = ("name", "id")
        indexes = (Index(fields=("owner_id", "name", "id")),)

    @classmethod
    async def ensure_defaults(cls) -> None:
        """Create the Kalito default personas that are missing (a fresh database has none)."""
        existing = set(await cls.filter(is_default=True).values_list("id", flat=True))
        moment = clock.now()
        await cls.bulk_create(
            [
                cls(**persona, is_default=True, created_at=moment, updated_at=moment)
                for persona in DEFAULT_PERSONAS
                if persona["id"] not in existing
            ],
            # Several workers starting on a fresh database all find them missing: the first wins.
            ignore_conflicts=True,
        )

    @classmethod
    def visible_to(cls, owner: Owner) -> QuerySet[Persona]:
        """The personas `owner` sees: Kalito's defaults and their own (every one, for everyone)."""
        return cls.all() if owner.everyone else cls.filter(Q(is_default=True) | Q(owner_id=owner.id))

    @classmethod
    async def by_id(cls, owner: Owner, persona_id: str) -> PersonaRow | None:
        persona = await cls.visible_to(owner).get_or_none(id=rules.check_id("id", persona_id))
        return PersonaRow.from_model(persona) if persona else None

    @classmethod
    async def by_ids(cls, persona_ids: Sequence[str]) -> list[PersonaRow | None]:
        """The personas in the order asked for (None where there is none): a DataLoader batch,
        of the personas of sessions already read (a session names one its owner may use)."""
        found = {persona.id: PersonaRow.from_model(persona) for persona in await cls.filter(id__in=set(persona_ids))}
        return [found.get(persona_id) for persona_id in persona_ids]

    @classmethod
    async def all_in_order(cls, owner: Owner) -> list[PersonaRow]:
        return [PersonaRow.from_model(persona) for persona in await cls.visible_to(owner)]

    @classmethod
    async def require_exists(cls, owner: Owner, field: str, persona_id: str) -> str:
        """Check that a (well-formed) persona reference from an input names a persona the
        owner sees (another user's is no persona)."""
        if not await cls.visible_to(owner).filter(id=persona_id).exists():
            raise InvalidInput(field, f"{field} names no persona: {persona_id!r}")
        return persona_id

    @classmethod
    async def create_persona(cls, owner: Owner, persona_id: str | None, values: Mapping[str, Any]) -> PersonaRow:
        persona_id = rules.check_id_or_new("id", persona_id)
        columns = PersonaRow.check(PersonaRow.created(values))
        if await cls.exists(id=persona_id):  # anyone's: an id cannot be made twice
            raise Conflict(f"a persona with id {persona_id!r} already exists")
        moment = clock.now()
        return PersonaRow.from_model(
            await cls.create(id=persona_id, **columns, created_at=moment, updated_at=moment, owner_id=owner.id)
        )

    @classmethod
    async def _changeable(cls, owner: Owner, persona_id: str) -> Persona:
        """The persona `owner` may change or delete: their own, or a default for those who
        manage them; another user's is NotFound, a default read-only (Conflict)."""
        rules.check_id("id", persona_id)
        persona = await cls.visible_to(owner).get_or_none(id=persona_id)
        if persona is None:
            raise NotFound(f"no persona with id {persona_id!r}")
        if persona.is_default and not owner.manages_defaults:
            raise Conflict(f"{persona_id!r} is a default persona: only an admin may change it")
        return persona

    @classmethod
    async def update_persona(cls, owner: Owner, persona_id: str, values: Mapping[str, Any]) -> PersonaRow:
        rules.check_id("id", persona_id)
        columns = PersonaRow.check(PersonaRow.changed(values))
        persona = await cls._changeable(owner, persona_id)
        persona.update_from_dict({**columns, "updated_at": clock.later_than(persona.updated_at)})
        await persona.save(update_fields=[*columns, "updated_at"])
        return PersonaRow.from_model(persona)

    @classmethod
    async def delete_persona(cls, owner: Owner, persona_id: str) -> str:
        """Delete a persona; its sessions keep going without one (the foreign key sets null)."""
        persona = await cls._changeable(owner, persona_id)
        if persona.is_default:
            # Kalito itself refuses this (a trigger): every install keeps its defaults.
            raise Conflict(f"{persona_id!r} is a default persona and cannot be deleted")
        await persona.delete()
        return persona_id


class PersonaRow(Row, model=Persona):
    """A persona as read or written, without a model instance."""

    __slots__ = ()
