"""Bringing conversations in from other assistants' files: `kalito-graphql import-kalito`."""
