"""Safety, the feature: moderation, reports, people search and oversight,
school settings and roster uploads, with their WebSocket and HTTP edges.
The rules they follow are the policy's (``server/policy``)."""
