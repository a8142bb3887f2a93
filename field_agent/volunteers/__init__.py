"""The agent's volunteers area."""
