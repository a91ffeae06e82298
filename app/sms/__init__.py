"""SMS delivery of sign-in codes, and the development outbox."""
