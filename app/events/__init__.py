"""Live updates (SPEC 12): events published after writes commit, streamed to their recipients as Server-Sent Events."""
