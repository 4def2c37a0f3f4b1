app_name = "options"

urlpatterns: list = []
