"""Vietnamese data cleaning rules: small, named, vectorised functions over Arrow arrays (see ``base``)."""
