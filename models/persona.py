"""Personas: the system prompts and presets a session can run with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models import clock, rules
from models.columns import WRITABLE, Row, Writable, column
from models.default_personas import DEFAULT_PERSONAS
from models.errors import Conflict, InvalidInput, NotFound
from models.memory import MAX_TOKENS_LIMIT

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

    class Meta:
        table = "personas"
        ordering = ("name", "id")

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
    async def by_id(cls, persona_id: str) -> PersonaRow | None:
        persona = await cls.get_or_none(id=rules.check_id("id", persona_id))
        return PersonaRow.from_model(persona) if persona else None

    @classmethod
    async def by_ids(cls, persona_ids: Sequence[str]) -> list[PersonaRow | None]:
        """The personas in the order asked for (None where there is none): a DataLoader batch."""
        found = {persona.id: PersonaRow.from_model(persona) for persona in await cls.filter(id__in=set(persona_ids))}
        return [found.get(persona_id) for persona_id in persona_ids]

    @classmethod
    async def all_in_order(cls) -> list[PersonaRow]:
        return [PersonaRow.from_model(persona) for persona in await cls.all()]

    @classmethod
    async def require_exists(cls, field: str, persona_id: str) -> str:
        """Check that a (well-formed) persona reference from an input names a persona."""
        if not await cls.exists(id=persona_id):
            raise InvalidInput(field, f"{field} names no persona: {persona_id!r}")
        return persona_id

    @classmethod
    async def create_persona(cls, persona_id: str | None, values: Mapping[str, Any]) -> PersonaRow:
        persona_id = rules.check_id_or_new("id", persona_id)
        columns = PersonaRow.check(PersonaRow.created(values))
        if await cls.exists(id=persona_id):
            raise Conflict(f"a persona with id {persona_id!r} already exists")
        moment = clock.now()
        return PersonaRow.from_model(await cls.create(id=persona_id, **columns, created_at=moment, updated_at=moment))

    @classmethod
    async def update_persona(cls, persona_id: str, values: Mapping[str, Any]) -> PersonaRow:
        rules.check_id("id", persona_id)
        columns = PersonaRow.check(PersonaRow.changed(values))
        persona = await cls.get_or_none(id=persona_id)
        if persona is None:
            raise NotFound(f"no persona with id {persona_id!r}")
        persona.update_from_dict({**columns, "updated_at": clock.later_than(persona.updated_at)})
        await persona.save(update_fields=[*columns, "updated_at"])
        return PersonaRow.from_model(persona)

    @classmethod
    async def delete_persona(cls, persona_id: str) -> str:
        """Delete a persona; its sessions keep going without one (the foreign key sets null)."""
        rules.check_id("id", persona_id)
        persona = await cls.get_or_none(id=persona_id)
        if persona is None:
            raise NotFound(f"no persona with id {persona_id!r}")
        if persona.is_default:
            # Kalito itself refuses this (a trigger): every install keeps its defaults.
            raise Conflict(f"{persona_id!r} is a default persona and cannot be deleted")
        await persona.delete()
        return persona_id


class PersonaRow(Row, model=Persona):
    """A persona as read or written, without a model instance."""

    __slots__ = ()
