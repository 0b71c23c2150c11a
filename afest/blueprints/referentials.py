"""Placeholder, filled below."""

from flask import Blueprint

bp = Blueprint("referentials", __name__)
