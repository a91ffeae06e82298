"""Mail: 6-digit codes sent to an address for a purpose (confirming it, resetting a password),
the mail backends, and the development outbox."""
