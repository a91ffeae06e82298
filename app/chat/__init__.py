"""Conversations, messages, points and congratulations."""
