"""The volunteer laptop's offline app."""
