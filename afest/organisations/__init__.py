"""Organisations: OPCOs, support bodies (an Aract), structures and the cohorts that group
them, kept by the administrator one at a time or, for structures, imported in bulk."""
