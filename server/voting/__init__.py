"""Owners' votes: legal rule sets, frozen electorates, which ballot counts, tallies."""
