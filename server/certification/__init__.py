"""Certification of epidemic-free compounds 无疫情小区, communities and villages (issue 6).

`rules` holds the rule versions as data, `facts` the inputs (plain rows shaped like the
synced tables), `evaluate` the pure check that turns a compound's facts and a date into
a structured explanation, and the roll-up to community, village and street.
"""
