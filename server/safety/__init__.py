"""Safety: the policy of who may do what, the content filter, moderation."""
