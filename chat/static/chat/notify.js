// Unread and notifications: the tab title and favicon carry the unread
// total; desktop notifications (after the user allows them) for DMs,
// mentions, and every message of a room set to "all", only when the tab is
// hidden or another room is open. Levels per room: all, mentions, none.
import { gettext, interpolate } from "./i18n.js";

const ICON_SIZE = 32;

export class Notifier {
  constructor({ baseTitle, enableButton, onClick }) {
    this.baseTitle = baseTitle;
    this.enableButton = enableButton;
    this.onClick = onClick;
    this.iconLink = null;
    this.originalIcons = [...document.querySelectorAll('link[rel="icon"]')];
    this.lastTotal = -1;
    if ("Notification" in window && Notification.permission === "default") {
      enableButton.hidden = false;
      enableButton.addEventListener("click", async () => {
        await Notification.requestPermission();
        enableButton.hidden = Notification.permission === "default";
      });
    }
  }

  setBaseTitle(title) {
    this.baseTitle = title;
    this.lastTotal = -1;
  }

  showTotal(total) {
    document.title = total ? `(${total}) ${this.baseTitle}` : this.baseTitle;
    if (total === this.lastTotal) return;
    this.lastTotal = total;
    this.favicon(total);
  }

  // A drawn favicon with the count (a data: URL, which the page's
  // Content-Security-Policy allows for images); the normal icons without.
  favicon(total) {
    if (!total) {
      this.iconLink?.remove();
      this.iconLink = null;
      for (const link of this.originalIcons) if (!link.isConnected) document.head.append(link);
      return;
    }
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = ICON_SIZE;
    const g = canvas.getContext("2d");
    g.fillStyle = "#3b5bdb";
    g.beginPath();
    g.roundRect(0, 0, ICON_SIZE, ICON_SIZE, 7);
    g.fill();
    g.fillStyle = "#d92d20";
    g.beginPath();
    g.arc(ICON_SIZE - 11, 11, 11, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = "#ffffff";
    g.font = "bold 15px sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(total > 99 ? "99" : String(total), ICON_SIZE - 11, 12);
    for (const link of this.originalIcons) link.remove();
    if (!this.iconLink) {
      this.iconLink = document.createElement("link");
      this.iconLink.rel = "icon";
      this.iconLink.id = "unread-icon";
      document.head.append(this.iconLink);
    }
    this.iconLink.href = canvas.toDataURL("image/png");
    this.iconLink.dataset.count = String(total);
  }

  // Should this message notify? summary: the room's; mention: it names me.
  wants(summary, mention, active) {
    const level = summary.notify || "all";
    if (level === "none") return false;
    if (!(document.visibilityState === "hidden" || !active)) return false;
    return level === "all" || mention || summary.kind === "dm";
  }

  show({ room, seq, title, body }) {
    if (!("Notification" in window) || Notification.permission !== "granted") return null;
    const note = new Notification(title, { body, tag: `${room}-${seq}` });
    note.onclick = () => {
      window.focus();
      this.onClick(room, seq);
      note.close();
    };
    return note;
  }

  static title(msg, roomLabel, mention) {
    return mention
      ? interpolate(gettext("%(name)s mentioned you in %(room)s"), { name: msg.username, room: roomLabel })
      : interpolate(gettext("%(name)s in %(room)s"), { name: msg.username, room: roomLabel });
  }
}
