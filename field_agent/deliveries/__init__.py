"""The agent's deliveries area."""
