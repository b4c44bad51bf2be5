"""Signing in with a browser: the authorization-code flow with ESIA (the
relying party), the browser sessions it opens, their pages and routes, and
the local ESIA for development (docs/auth.md, "Signing in with a browser").
Token verification itself is ``server/auth``'s."""
