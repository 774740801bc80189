from django.contrib import admin

from .models import Message, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "last_seq", "last_message_at", "locked"]
    search_fields = ["name"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "user", "created_at", "deleted_at"]
    list_filter = ["room"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
