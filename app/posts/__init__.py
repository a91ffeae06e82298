"""Posts and likes."""
