"""Blueprints: routes only. A view loads, authorizes, validates, calls a service, responds."""
