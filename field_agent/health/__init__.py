"""The agent's health area."""
