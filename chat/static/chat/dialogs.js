// Dialogs of the team chat: create a room, browse and join public rooms,
// start a DM or group DM, and confirm a deletion. Native <dialog> (focus is
// trapped and Esc closes); errors say what the server refused.
import { api, enc } from "./api.js";
import { $, el } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

function wireCancel(dialog) {
  for (const button of dialog.querySelectorAll("[data-cancel]")) {
    button.addEventListener("click", () => dialog.close());
  }
}

function showError(dialog, text) {
  const error = dialog.querySelector(".error");
  error.textContent = text;
  error.hidden = !text;
}

export class Dialogs {
  // onOpen(room): go to a room the user just made, joined or opened.
  constructor({ me, onOpen }) {
    this.me = me;
    this.onOpen = onOpen;
    this.newRoom = $("new-room-dialog");
    this.browse = $("browse-dialog");
    this.dm = $("dm-dialog");
    this.confirmDialog = $("confirm-dialog");
    for (const dialog of [this.newRoom, this.browse, this.dm]) wireCancel(dialog);

    $("new-room").addEventListener("click", () => {
      showError(this.newRoom, "");
      $("new-room-form").reset();
      this.newRoom.showModal();
    });
    $("new-room-form").addEventListener("submit", (event) => this.create(event));
    $("browse-rooms").addEventListener("click", () => this.openBrowse());
    $("new-dm").addEventListener("click", () => {
      showError(this.dm, "");
      $("dm-form").reset();
      this.dm.showModal();
    });
    $("dm-form").addEventListener("submit", (event) => this.openDm(event));
  }

  async create(event) {
    event.preventDefault();
    const form = event.target;
    const name = $("new-room-name").value.trim();
    const kind = form.querySelector('input[name="kind"]:checked').value;
    const topic = $("new-room-topic").value.trim();
    let room;
    try {
      room = await api("POST", "rooms", { name, kind, ...(topic ? { topic } : {}) });
    } catch (error) {
      showError(this.newRoom, error.message);
      return;
    }
    this.newRoom.close();
    this.onOpen(room.room);
  }

  async openBrowse() {
    showError(this.browse, "");
    const list = $("public-rooms");
    list.replaceChildren(el("li", "muted small", gettext("Loading…")));
    this.browse.showModal();
    try {
      const data = await api("GET", "rooms/public");
      const rooms = data.rooms || data;
      list.replaceChildren();
      if (!rooms.length) list.append(el("li", "muted small", gettext("No public rooms yet.")));
      for (const room of rooms) {
        const li = el("li", "public-room");
        const info = el("div", "public-room-info");
        info.append(el("strong", "", `#${room.room}`));
        if (room.topic) info.append(el("span", "muted small", room.topic));
        const count = room.members;
        info.append(
          el("span", "muted small", interpolate(ngettext("%(count)s member", "%(count)s members", count), { count }))
        );
        const join = el("button", "primary small-button", gettext("Join"));
        join.type = "button";
        const name = room.room;
        join.setAttribute("aria-label", interpolate(gettext("Join #%(room)s"), { room: name }));
        join.addEventListener("click", async () => {
          try {
            await api("PUT", `rooms/${enc(name)}/members/${enc(this.me)}`);
          } catch (error) {
            showError(this.browse, error.message);
            return;
          }
          this.browse.close();
          this.onOpen(name);
        });
        li.append(info, join);
        list.append(li);
      }
    } catch (error) {
      list.replaceChildren();
      showError(this.browse, error.message);
    }
  }

  async openDm(event) {
    event.preventDefault();
    const users = $("dm-users")
      .value.split(/[\s,]+/)
      .map((name) => name.replace(/^@/, "").trim())
      .filter((name) => name && name !== this.me);
    if (!users.length) {
      showError(this.dm, gettext("Type at least one username."));
      return;
    }
    let room;
    try {
      room = await api("POST", "dms", { users });
    } catch (error) {
      showError(this.dm, error.message);
      return;
    }
    this.dm.close();
    this.onOpen(room.room);
  }

  // true when the user confirms.
  confirm(text) {
    $("confirm-text").textContent = text;
    this.confirmDialog.returnValue = "";
    this.confirmDialog.showModal();
    return new Promise((resolve) => {
      this.confirmDialog.addEventListener(
        "close",
        () => resolve(this.confirmDialog.returnValue === "yes"),
        { once: true }
      );
    });
  }
}
