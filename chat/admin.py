from django.contrib import admin, messages

from chat.models import Message, Room
from chat.services.moderation import delete_messages, record


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "last_seq", "last_message_at", "locked"]
    list_filter = ["kind", "locked"]
    search_fields = ["name"]
    readonly_fields = [
        "last_seq",
        "last_msg_no",
        "last_message_at",
        "created_at",
        "dm_key",
    ]
    actions = ["lock", "unlock"]

    @admin.action(description="Lock selected rooms (read only: posts refused)")
    def lock(self, request, queryset) -> None:
        record(request.user, "locked", queryset.filter(locked=False))
        count = queryset.update(locked=True)
        self.message_user(request, f"Locked {count} room(s).", messages.SUCCESS)

    @admin.action(description="Unlock selected rooms")
    def unlock(self, request, queryset) -> None:
        record(request.user, "unlocked", queryset.filter(locked=True))
        count = queryset.update(locked=False)
        self.message_user(request, f"Unlocked {count} room(s).", messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "user", "text_start", "created_at", "deleted_at"]
    list_filter = ["room", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "room__name"]
    readonly_fields = [
        "room",
        "seq",
        "msg_no",
        "user",
        "text",
        "client_id",
        "created_at",
        "deleted_at",
    ]
    actions = ["delete_for_everyone"]

    @admin.display(description="text")
    def text_start(self, message: Message) -> str:
        return message.text if len(message.text) <= 60 else message.text[:59] + "…"

    @admin.action(description="Delete selected messages (members see a tombstone)")
    def delete_for_everyone(self, request, queryset) -> None:
        record(request.user, "deleted", queryset.filter(deleted_at__isnull=True))
        count = delete_messages(queryset, request.user)
        self.message_user(request, f"Deleted {count} message(s).", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False  # messages enter through the WebSocket or the API only

    def has_delete_permission(self, request, obj=None) -> bool:
        # A removed row would leave a hole in the room's seq numbers, which
        # clients read as a lost message: moderators soft-delete instead.
        return False
