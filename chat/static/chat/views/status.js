// The connection state in the room's header.
import { el } from "../dom.js";
import { gettext, interpolate } from "../i18n.js";
import { State } from "../socket.js";

export class StatusView {
  // elements: {status, text, retry, form}
  constructor(elements, { loginUrl, onRetry }) {
    Object.assign(this, elements);
    this.loginUrl = loginUrl;
    this.retry.addEventListener("click", onRetry);
  }

  show(state, detail) {
    let text;
    if (state === State.CONNECTING) {
      text = detail.again ? gettext("Reconnecting…") : gettext("Connecting…");
    } else if (state === State.ONLINE) {
      text = gettext("Connected");
    } else if (state === State.WAITING) {
      text = interpolate(gettext("Disconnected. Reconnecting in %(seconds)s s…"), {
        seconds: detail.seconds,
      });
    } else {
      text =
        detail.reason === "revoked"
          ? gettext("You were logged out. Log in again to keep chatting.")
          : gettext("You are logged out. Log in again to keep chatting.");
    }
    this.status.dataset.state = state;
    this.text.textContent = text;
    this.retry.hidden = state !== State.WAITING;
    this.form.dataset.connection = state;
    if (state === State.STOPPED) {
      const link = el("a", "", gettext("Log in"));
      link.href = `${this.loginUrl}?next=${encodeURIComponent(location.pathname)}`;
      this.text.append(" ", link);
    }
  }
}
