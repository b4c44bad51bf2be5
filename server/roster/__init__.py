"""The school roster: who is who in which school, and its JSON import.

* :mod:`.model`: people, derived roles, profiles (what the rest of the server reads);
* :mod:`.document`: the roster file format and its validation;
* :mod:`.rows` and :mod:`.diff`: the stored rows and what an import changes;
* :mod:`.views`: profiles and the directory built from rows;
* :mod:`.demo`: the demo school seeded into an empty database.

Everything but :mod:`.demo` is pure; storage is :mod:`server.store`'s job.
The format and rules are documented in ``docs/roster.md``.
"""
