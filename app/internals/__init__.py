"""Every place Agora reaches into a library's private names: one module per library, nothing elsewhere.

Each module says what it replaces, why, what it relies on and ``WRITTEN_AGAINST``; ``tests/internals``
fails when its ``shape_problems()`` lists anything, ``tests/test_architecture.py`` on a private name elsewhere.
"""
