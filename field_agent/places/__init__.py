"""The agent's places area."""
