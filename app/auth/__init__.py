"""Email accounts and JWTs."""
