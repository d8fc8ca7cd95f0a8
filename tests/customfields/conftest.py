"""Fixtures for the custom field tests."""

from __future__ import annotations

import pytest

from conftest import make_user


@pytest.fixture
def admin(db):
    """A workspace administrator, who alone may write custom field definitions."""
    return make_user("fields-admin", full_name="Ada Admin", workspace_admin=True)
