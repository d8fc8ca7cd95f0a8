"""The demo workspace: people in every role, calendars, resources and a scheduled project, made through services.

(Interface in place; the full demo content is being written.)"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_PASSWORD = "keelplan-demo"


@dataclass
class DemoResult:
    users: list[str] = field(default_factory=list)
    password: str = DEMO_PASSWORD

    def login_help(self) -> str:
        names = ", ".join(self.users)
        return (f"Demo users: {names} (password {self.password!r}).\n"
                f"  Get a token: curl -X POST http://127.0.0.1:8000/api/token/ -H 'Content-Type: application/json' "
                f"-d '{{\"username\": \"{self.users[0]}\", \"password\": \"{self.password}\"}}'")


@transaction.atomic
def demo_load() -> DemoResult:
    from keelplan.accounts.services import user_create

    User = get_user_model()
    result = DemoResult()
    for name in ("olivia",):
        if not User.objects.filter(username=name).exists():
            user_create(username=name, password=DEMO_PASSWORD)
        result.users.append(name)
    return result


def demo_load_if_empty() -> DemoResult | None:
    if get_user_model().objects.exists():
        return None
    return demo_load()
