"""The register of households and residents: list, search, edit, import, export."""
