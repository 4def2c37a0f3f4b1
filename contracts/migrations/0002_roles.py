from django.db import migrations

# The role groups were created here from the live declaration (contracts.roles), which drifts as roles change:
# they are now synced after every migrate by contracts.apps (post_migrate), from the declaration of the code
# that runs. This migration is kept, empty, so that databases migrated before keep their history.


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_initial"),
        ("options", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = []
