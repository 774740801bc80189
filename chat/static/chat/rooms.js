// The room-name rule, the same as the server's (chat/rooms.py ROOM_NAME_RE).
"use strict";
window.ChatRooms = Object.freeze({
  NAME_RE: /^[A-Za-z0-9_-]{1,64}$/,
  NAME_RULE: "A room name is 1 to 64 letters (A–Z), digits, “-” or “_”: no spaces, dots or accents.",
  canonical(name) {
    return name.toLowerCase();
  },
});
