"""Supplies: fair distribution rounds, group-buying orders, the donations ledger and the
medicine stock (issue #8).

The pure core has no Flask and no database: `allocate` plans who gets what in a round,
`ledger` validates donations entries and adds up balances. Storage and pages build on it.
"""
