"""Phone sign-in: 4-digit codes by SMS, their delivery backends, and the development outbox."""
