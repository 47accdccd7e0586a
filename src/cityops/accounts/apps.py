from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cityops.accounts"
    label = "accounts"
    verbose_name = "账户与组织"

    # The demo city (core.demo): roles and departments first, the demo logins once regions exist.
    def load_demo(self, stdout) -> str:
        from cityops.accounts.demo import load_departments, load_roles

        load_roles()
        return f"departments: {load_departments()}"

    def load_demo_users(self, stdout) -> str:
        from cityops.accounts.demo import load_demo_users, load_district_units

        # Once the regions exist: every district's command centre and bureaus, which the demo users join.
        load_district_units()
        users = load_demo_users()
        stdout.write("演示账号 / demo logins (password: CITYOPS_DEMO_PASSWORD or 'cityops-demo'):")
        for username, label in users:
            stdout.write(f"  {username:<13} {label}")
        return f"{len(users)} demo users ready"

    def demo_usernames(self) -> list[str]:
        from cityops.accounts.demo import DEMO_USERS

        return list(DEMO_USERS)
