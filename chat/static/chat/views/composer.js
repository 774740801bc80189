// The composer: the box, Enter to send, its size, the character counter and
// the error under it. It checks only what the page must (a frame the server
// would close the socket for); the server stays the judge of length.
import { number } from "../format.js";
import { gettext, interpolate } from "../i18n.js";

export class ComposerView {
  // elements: {form, input, error, charCount}
  constructor(elements, { maxLength, maxFrameBytes, onSubmit, onTyping }) {
    Object.assign(this, elements);
    this.maxLength = maxLength;
    this.maxFrameBytes = maxFrameBytes;

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value;
      if (!text.trim()) {
        this.input.focus();
        return;
      }
      if (this.frameBytes(text) > this.maxFrameBytes) {
        // Such a frame would close the socket (1009); refuse it here instead.
        this.showError(
          interpolate(gettext("Not sent: a message is at most %(limit)s characters."), {
            limit: number(this.maxLength),
          })
        );
        return;
      }
      this.showError("");
      this.setText("");
      onSubmit(text);
      this.input.focus();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.input.addEventListener("input", () => {
      this.changed();
      if (this.input.value.trim()) onTyping();
    });
  }

  frameBytes(text) {
    const frame = JSON.stringify({ type: "message", message: text, client_id: "c-" + "0".repeat(32) });
    return new TextEncoder().encode(frame).length;
  }

  setText(text) {
    this.input.value = text;
    this.changed();
  }

  // A refused post: its text goes back into the box, ahead of anything typed
  // since, and the reason shows under it.
  refused(text, detail) {
    const rest = this.input.value.trim();
    this.setText(rest ? `${text}\n${rest}` : text);
    this.showError(interpolate(gettext("Not sent: %(reason)s"), { reason: detail }));
    this.input.focus();
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  changed() {
    this.autosize();
    this.updateCharCount();
  }

  // CSSOM, not a style attribute: allowed by a strict Content-Security-Policy.
  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, window.innerHeight * 0.3)}px`;
  }

  updateCharCount() {
    const length = [...this.input.value.trim()].length;
    this.charCount.classList.toggle("over", length > this.maxLength);
    this.charCount.textContent =
      length > this.maxLength * 0.9 ? `${number(length)} / ${number(this.maxLength)}` : "";
  }
}
