from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from chat.services.moderation import record

from .forms import AdminLoginForm
from .models import ApiToken

# Failed admin logins count with the others (accounts.credentials).
admin.site.login_form = AdminLoginForm


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    search_fields = ["user__username"]
    readonly_fields = ["digest", "created_at"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class ChatUserAdmin(UserAdmin):
    actions = ["deactivate"]

    @admin.action(
        description="Deactivate selected users (sockets closed, tokens refused)"
    )
    def deactivate(self, request, queryset) -> None:
        count = 0
        # save(), not update(): the post_save signal closes the user's sockets
        # on every process (chat/signals.py).
        users = list(queryset.filter(is_active=True))
        for user in users:
            user.is_active = False
            user.save(update_fields=["is_active"])
            count += 1
        record(request.user, "deactivated", users)
        self.message_user(request, f"Deactivated {count} user(s).", messages.SUCCESS)
