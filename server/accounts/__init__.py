"""Pages to manage users, their roles and compounds, and their devices' tokens."""
