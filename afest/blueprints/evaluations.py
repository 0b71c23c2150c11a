"""Placeholder, filled below."""

from flask import Blueprint

bp = Blueprint("evaluations", __name__)
