"""Files carried by messages, at the storage level: what a message's
`attachments` list holds, and recording that a message carries uploads (in
the post's own transaction, chat.store.actions). Uploading and serving them is
chat.services.uploads and chat.http.files.
"""

from django.urls import reverse

from chat.models import Attachment, Message, Upload


def descriptor(upload: Upload) -> dict:
    """An upload as an API answer and as a message's `attachments` item."""
    item: dict = {
        "id": upload.id,
        "name": upload.name,
        "size": upload.size,
        "content_type": upload.content_type,
        "url": reverse("chat:upload", args=[upload.id]),
    }
    if upload.thumbnail:
        item["thumbnail_url"] = reverse("chat:upload_thumbnail", args=[upload.id])
        item["width"], item["height"] = upload.width, upload.height
    return item


def attach(room_id: int, seq: int, uploads: list[Upload]) -> list[dict]:
    """Message `seq` of the room carries `uploads`; its `attachments` list.
    Call inside the transaction that stores the message."""
    Attachment.objects.bulk_create(
        [Attachment(upload=u, room_id=room_id, seq=seq) for u in uploads]
    )
    items = [descriptor(u) for u in uploads]
    message = Message.objects.get(room_id=room_id, seq=seq)
    message.data = {**(message.data or {}), "attachments": items}
    message.save(update_fields=["data"])
    return items
