"""Two ready Kalito files: a realistic one, and one of many messages for volume.

The realistic one is what a user's database holds after a few days of Kalito, with the patterns
real files show:

- Personas: the two defaults Kalito seeds (moments as SQLite's CURRENT_TIMESTAMP writes them),
  one a seeding script wrote (millisecond ISO moments, a JSON list of suggested models), one
  saved by Kalito's editor with empty strings for "no default model" and "no stop sequences".
- An ephemeral conversation (a NULL name in the explicit-save era), ten messages whose ids start
  at 138 (Kalito's ids run on across deleted sessions), token usage on the replies only.
- A saved conversation with a persona, a recap written from its summary, an empty assistant
  reply (a local model that answered nothing), scores such as 0.8999999999999999 and 1.0, three
  pins (`manual`, `concept` and the column's default `user`) and a summary of four messages.

Where the schema has the columns later releases added, the saved conversation is a care session
(`session_type`, `patient_id`, `care_category`), one persona has an eldercare specialty and a
pin a medical category; where it has the older pins' `type`, the `user` pin says `code` there.
"""

from __future__ import annotations

from pathlib import Path

from support.kalito.builder import KalitoFile
from support.kalito.schemas import SEPTEMBER_2025, KalitoSchema

SAMPLE_SESSION_ID = "47ff0057-5978-4eb2-b8c2-89198b878c57"
SAVED_SESSION_ID = "8c1f9d2e-6b3a-4f0e-9a57-2d4c6e8b1f30"

POEM_CONVERSATION = (
    # (id, role, text, token usage, created at)
    (138, "user", "Tell me the basics of the kind of poetry Edgar Allan Poe wrote.", None, "2025-09-13T10:41:26.956Z"),
    (
        139,
        "assistant",
        "Sure! Poe is best known for dark, atmospheric poems about loss, beauty and the supernatural. "
        "He cared about **sound** above all: strict meter (often trochaic), heavy rhyme, and refrains "
        "such as “Nevermore” that come back like a bell. “The Raven” is the best-known example — every "
        "line is built for the ear.",
        825,
        "2025-09-13T10:41:30.643Z",
    ),
    (
        140,
        "user",
        "Lets write our own poem in his style about a black cat on halloween.",
        None,
        "2025-09-13T10:41:56.042Z",
    ),
    (
        141,
        "assistant",
        "That sounds like fun! Poe’s tone would suit it: a Gothic night, shadows, a sense of foreboding, "
        "and a cat that seems to know more than it should. We could tell a story, or paint a mood in "
        "a few haunting stanzas.\n\nWould you like it to be more narrative-driven or more atmospheric?",
        760,
        "2025-09-13T10:41:58.676Z",
    ),
    (142, "user", "more narrative-driven.", None, "2025-09-13T10:42:10.821Z"),
    (
        143,
        "assistant",
        "Here’s a first draft:\n\n---\n\n**The Whispering Shadow**\n\nUpon the night of hollowed breath,  \n"
        "A blackened feline stalks from death—  \nSilent paws on cobblestone,  \nA creature born of "
        "shadows grown.\n\n---\n\nShall I go on with the story, or refine this stanza first?",
        1150,
        "2025-09-13T10:42:14.216Z",
    ),
    (144, "user", "Yes.", None, "2025-09-13T10:42:24.165Z"),
    (
        145,
        "assistant",
        "Great! I’ll carry the story through the night: the cat as a silent watcher, whispers in the "
        "moonlight, and one eerie turn at midnight. Before I write it — any characters or events you "
        "want in it, such as spirits at the door, or shall I take creative liberty?",
        1201,
        "2025-09-13T10:42:26.106Z",
    ),
    (146, "user", "Go ahead and take creative liberty, lets see what you got.", None, "2025-09-13T10:43:13.771Z"),
    (
        147,
        "assistant",
        "**The Shadow’s Vigil**\n\nBeneath the veil of midnight’s gloom,  \nA shadow slips through "
        "haunted tombs—  \nA sleek black figure, eyes like coal,  \nThat keeps the secrets of the "
        "soul.\n\nAnd when the clock strikes twelve once more,  \nIt melts like smoke beneath the door.\n\n"
        "Would you like me to add more imagery?",
        1534,
        "2025-09-13T10:43:17.822Z",
    ),
)

STORIES_SUMMARY = (
    "Edgar Allan Poe's short stories: after an empty first reply, a list of classic tales to read "
    "aloud on Halloween night."
)


SAMPLE_PERSONAS: tuple[dict[str, object], ...] = (
    {
        "id": "default-cloud",
        "name": "Default Cloud Assistant",
        "prompt": "You are Kalito, a personal AI companion designed to be genuinely helpful, contextually "
        "aware, and conversationally intelligent.\n\nCore Personality:\n\nConversational & Natural: "
        "communicate like a thoughtful colleague, not a formal chatbot.\n\nMemory-Aware: build on "
        "what we discussed before.",
        "description": "Personal Default intelligent assistant with contextual memory and conversational depth",
        "icon": "☁️",
        "category": "cloud",
        "temperature": 0.8,
        "maxTokens": 2501,
        "topP": 0.95,
        "repeatPenalty": 1.05,
        "is_default": 1,
        "created_at": "2025-08-31 17:08:41",
        "updated_at": "2025-09-13 10:40:46",
    },
    {
        "id": "default-local",
        "name": "Qwen 2.5 Assistant",
        "prompt": "You are a personable and thoughtful assistant running locally on Qwen-2.5-3B.\n\nRole\n"
        "- Be my everyday conversational partner.\n- Adapt to tone: casual when chatting, structured "
        "when clarity helps.",
        "description": "Your versatile daily driver assistant",
        "icon": "🦉",
        "category": "local",
        "temperature": 0.8,
        "maxTokens": 1201,
        "topP": 0.9,
        "repeatPenalty": 1.1,
        "is_default": 1,
        "created_at": "2025-08-31 17:08:41",
        "updated_at": "2025-09-12 13:24:02",
    },
    {
        "id": "qwen25-coder",
        "name": "Qwen2.5 Code Expert",
        "prompt": "You are a specialized coding assistant powered by Qwen2.5-Coder: clean, efficient, "
        "well-documented code with clear explanations.",
        "description": "A specialized coding assistant powered by Qwen2.5-Coder.",
        "icon": "💻",
        "default_model": "qwen2.5-coder",
        "suggested_models": '["qwen2.5-coder", "qwen2.5", "deepseek-r1"]',
        "temperature": 0.3,
        "maxTokens": 2000,
        "topP": 0.7,
        "repeatPenalty": 1.2,
        "stopSequences": "",
        "created_at": "2025-08-31T17:45:00.000Z",
        "updated_at": "2025-08-31T17:45:00.000Z",
    },
    {
        "id": "mistral-default",
        "name": "Mistral 7B Assistant",
        "prompt": "You are a helpful, reliable, and concise AI assistant running locally.  \n\nTone: "
        "friendly, professional, and to the point.",
        "description": "A lightweight, balanced assistant powered by Mistral 7B for everyday chat.",
        "icon": "🚀",
        "default_model": "",
        "suggested_models": "",
        "temperature": 0.6,
        "maxTokens": 1501,
        "topP": 0.85,
        "repeatPenalty": 1.05,
        "stopSequences": "",
        "created_at": "2025-09-12 17:45:34",
        "updated_at": "2025-09-12 17:49:51",
    },
)


def write_realistic_sample(path: Path, schema: KalitoSchema = SEPTEMBER_2025) -> Path:
    with KalitoFile(path, schema) as kalito:
        for persona in SAMPLE_PERSONAS:
            kalito.persona(**persona)
        kalito.session(id=SAMPLE_SESSION_ID, created_at=POEM_CONVERSATION[0][4])
        for message_id, role, text, token_usage, created_at in POEM_CONVERSATION:
            kalito.message(SAMPLE_SESSION_ID, role, text, id=message_id, token_usage=token_usage, created_at=created_at)
        _saved_conversation(kalito)
    return path


def _saved_conversation(kalito: KalitoFile) -> None:
    session = SAVED_SESSION_ID
    november = kalito.has_column("sessions", "session_type")
    care = {"session_type": "care", "patient_id": "patient-7", "care_category": "reading"} if november else {}
    if kalito.has_column("personas", "eldercare_specialty"):
        kalito.persona(name="Care Companion", eldercare_specialty="companionship", patient_context=1)
    kalito.session(
        id=session,
        **care,
        name="What can you tell me about Edgar Allan Poes short ...",  # Kalito titles a chat by its first question
        model="qwen-2.5-3b",
        recap=STORIES_SUMMARY,
        persona_id="default-local",
        saved=1,
        created_at="2025-09-13T11:02:05.311Z",
    )
    local = {"token_usage": 0}  # a local model reports no usage
    question = kalito.message(
        session,
        "user",
        "What can you tell me about Edgar Allan Poe's short stories?",
        created_at="2025-09-13T11:02:05.311Z",
    )
    silence = kalito.message(session, "assistant", "", **local)
    again = kalito.message(
        session,
        "user",
        "The last answer came back empty. Was that an error on your side? I would still like to know "
        "which of Poe's stories to start with: something short, a little frightening, and good to "
        "read aloud on Halloween night with friends who do not usually read much.",
    )
    answer = kalito.message(
        session,
        "assistant",
        "Sorry about that! Start with the classics, all short enough to read aloud in one sitting:\n\n"
        "1. *The Tell-Tale Heart* — a murderer undone by a beating heart.\n2. *The Black Cat* — fitting "
        "for Halloween.\n3. *The Masque of the Red Death* — a party no one escapes.\n\nShall I pick "
        "passages that read best aloud?",
        **local,
    )
    kalito.message(session, "user", "Thanks, pin that list for me.")
    kalito.pin(
        session,
        "Poe to read aloud: The Tell-Tale Heart, The Black Cat, The Masque of the Red Death",
        source_message_id=answer["id"],
    )
    kalito.pin(
        session,
        "The user reads Poe aloud with friends on Halloween",
        source_message_id=again["id"],
        pin_type="concept",
        importance_score=0.95,
    )
    older_type = {"type": "code"} if kalito.has_column("semantic_pins", "type") else {}
    medical = {"medical_category": "none", "urgency_level": "low"} if november else {}
    kalito.pin(session, "Prefers short stories", pin_type="user", **older_type, **medical)
    kalito.summary(session, STORIES_SUMMARY, [question, silence, again, answer])


def write_many_messages(path: Path, *, messages: int, sessions: int, memory_every: int = 0) -> Path:
    """`sessions` sessions `s0`, `s1`, …; messages 1 to `messages` in order of their ids, message
    n in session `s{n % sessions}`, questions and answers by turns. With `memory_every`, each
    `memory_every`-th message is pinned and sums up its session's span before it, as Kalito's
    memory manager does as a conversation grows: a pin and a summary that many messages each."""
    with KalitoFile(path) as kalito:
        ids = [kalito.session(id=f"s{number}")["id"] for number in range(sessions)]
        kalito.messages(
            {
                "id": number,
                "session_id": ids[number % sessions],
                "role": "user" if number % 2 else "assistant",
                "text": f"message {number}",
            }
            for number in range(1, messages + 1)
        )
        remembered = range(memory_every, messages + 1, memory_every) if memory_every else range(0)
        moment = "2025-09-20T08:00:00.000Z"
        kalito.many(
            "semantic_pins",
            (
                {
                    "id": f"pin_{number}",
                    "session_id": ids[number % sessions],
                    "content": f"a fact from message {number}",
                    "source_message_id": str(number),
                    "importance_score": 0.8,
                    "pin_type": "auto",
                    "created_at": moment,
                }
                for number in remembered
            ),
        )
        kalito.many(
            "conversation_summaries",
            (
                {
                    "id": f"summary_{number}",
                    "session_id": ids[number % sessions],
                    "summary": f"messages up to {number}",
                    "message_count": 2 if number > sessions else 1,
                    # the message before it in its session, and itself
                    "start_message_id": str(number - sessions if number > sessions else number),
                    "end_message_id": str(number),
                    "importance_score": 0.7,
                    "created_at": moment,
                }
                for number in remembered
            ),
        )
    return path
