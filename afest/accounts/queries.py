"""Reads of the account screens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from afest.models import User

PAGE_SIZE = 50


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


@dataclass(frozen=True)
class AccountsPage:
    """What the Comptes page lists: one page of accounts, and whether more follow."""

    users: list[User]
    has_more: bool
    page: int


def accounts_page(session: Session, needle: str, *, page: int) -> AccountsPage:
    """Page `page` (PAGE_SIZE accounts) of those whose name or e-mail holds `needle`."""
    users, has_more = search(session, needle, page=page, size=PAGE_SIZE)
    return AccountsPage(users=users, has_more=has_more, page=page)
