"""Profile checks: Hunter email verification and Clearbit/Hunter enrichment, run in the background."""
