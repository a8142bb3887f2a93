"""The agent's medicine area."""
