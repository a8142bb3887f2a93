"""Places: city > district > street > community/village > compound > building; the overview."""
