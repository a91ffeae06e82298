"""Every place Agora reaches into a library's private names: one module per library, nothing elsewhere.

Each module says what it replaces, why (a measured gain, or a bug of the library's, named), the
gain, and the versions it was written against (``WRITTEN_AGAINST``); its ``shape_problems()`` lists
what no longer looks as the module expects, and ``tests/internals`` fails, naming the library and
its version, when anything does. ``tests/test_architecture.py`` fails on a private library name
anywhere outside this package.
"""
