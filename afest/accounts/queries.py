"""Reads of the account screens."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from afest.models import User


def search(session: Session, needle: str, *, page: int, size: int) -> tuple[list[User], bool]:
    """One page of accounts (with their roles) whose name or e-mail holds `needle`, by name;
    and whether more follow."""
    query = select(User)
    if needle:
        like = f"%{needle.strip().lower()}%"
        query = query.where(or_(func.lower(User.full_name).like(like), User.email.like(like)))
    users = list(
        session.exec(
            query.options(selectinload(User.roles))
            .order_by(User.full_name, User.id)
            .offset((page - 1) * size)
            .limit(size + 1)
        )
    )
    return users[:size], len(users) > size
