"""Extract-only connectors. See ``connectors.base``."""
