"""Chats: durable, ordered, resumable conversations (see docs/chats.md)."""
