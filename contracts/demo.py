"""Demo back office for `make run`: one staff account per role, then subscribers and their paperwork."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from . import roles

DEMO_PASSWORD = "demo-pass-2026"

# (username, display name, role, is_superuser)
DEMO_STAFF = [
    ("uketsuke", "受付 花子", roles.CLERK, False),
    ("uketsuke2", "受付 次郎", roles.CLERK, False),
    ("shonin", "承認 太郎", roles.APPROVER, False),
    ("keiri", "経理 桜", roles.ACCOUNTING, False),
    ("kitei", "規程 守", roles.TARIFF_MANAGER, False),
    ("admin", "管理 者", roles.SYSTEM_ADMIN, True),
]


def load_staff() -> list[str]:
    user_model = get_user_model()
    lines = []
    for username, display, role, superuser in DEMO_STAFF:
        last, first = display.split(" ")
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"last_name": last, "first_name": first, "is_staff": True, "is_superuser": superuser},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            lines.append(f"職員アカウントを作成: {username}（{role}）")
        user.groups.add(Group.objects.get(name=role))
    return lines


def load_demo() -> list[str]:
    lines = load_staff()
    return lines or ["デモデータは登録済みです。"]
