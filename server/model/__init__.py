"""The values every layer shares: chats, rooms, moderation, as the store
keeps them and the services and the wire read them.  Nothing here imports
a feature, the policy or the store (tests/test_layers.py)."""
