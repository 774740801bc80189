// Uploads from the composer: the button, pasting and dropping files. Each
// file goes to POST /api/v1/uploads at once and waits under the box with its
// thumbnail; the post then carries their ids (`attachments`) over
// POST /api/v1/rooms/<room>/messages.
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { formatSize } from "./roomview.js";

export class Uploads {
  constructor({ maxBytes, dropTarget, onError }) {
    this.maxBytes = maxBytes;
    this.onError = onError;
    this.files = []; // {file, state: "uploading"|"done"|"failed", upload, li}
    this.list = $("attachments-pending");
    this.input = $("upload-input");
    $("upload-button").addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => {
      this.add([...this.input.files]);
      this.input.value = "";
    });
    $("chat-message-input").addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files || [])];
      if (files.length) {
        event.preventDefault();
        this.add(files);
      }
    });
    dropTarget.addEventListener("dragover", (event) => {
      if ([...event.dataTransfer.types].includes("Files")) {
        event.preventDefault();
        dropTarget.classList.add("dropping");
      }
    });
    dropTarget.addEventListener("dragleave", () => dropTarget.classList.remove("dropping"));
    dropTarget.addEventListener("drop", (event) => {
      dropTarget.classList.remove("dropping");
      const files = [...(event.dataTransfer?.files || [])];
      if (files.length) {
        event.preventDefault();
        this.add(files);
      }
    });
  }

  add(files) {
    for (const file of files) {
      if (this.maxBytes && file.size > this.maxBytes) {
        this.onError(
          interpolate(gettext("%(name)s is too big (%(size)s; the limit is %(limit)s)."), {
            name: file.name,
            size: formatSize(file.size),
            limit: formatSize(this.maxBytes),
          })
        );
        continue;
      }
      const entry = { file, state: "uploading", upload: null, li: null };
      this.files.push(entry);
      this.renderEntry(entry);
      this.upload(entry);
    }
  }

  async upload(entry) {
    const form = new FormData();
    form.append("file", entry.file, entry.file.name || "pasted.png");
    try {
      entry.upload = await api("POST", "uploads", form);
      entry.state = "done";
    } catch (error) {
      entry.state = "failed";
      this.onError(interpolate(gettext("Could not upload %(name)s: %(reason)s"), {
        name: entry.file.name || gettext("file"),
        reason: error.message,
      }));
    }
    this.renderEntry(entry);
  }

  renderEntry(entry) {
    if (!entry.li) {
      entry.li = el("li", "attachment-pending");
      this.list.append(entry.li);
    }
    const li = entry.li;
    li.dataset.state = entry.state;
    li.replaceChildren();
    if (entry.upload && (entry.upload.thumbnail_url || String(entry.upload.content_type).startsWith("image/"))) {
      const img = el("img", "thumb small-thumb");
      img.src = entry.upload.thumbnail_url || entry.upload.url;
      img.alt = "";
      li.append(img);
    }
    const label = {
      uploading: gettext("uploading…"),
      done: formatSize(entry.file.size),
      failed: gettext("failed"),
    }[entry.state];
    li.append(el("span", "attachment-name", entry.upload?.name || entry.file.name || gettext("file")), el("span", "muted small", ` ${label}`));
    const remove = el("button", "link-button", "✕");
    remove.type = "button";
    remove.setAttribute("aria-label", interpolate(gettext("Remove %(name)s"), { name: entry.file.name || gettext("file") }));
    remove.addEventListener("click", () => {
      this.files = this.files.filter((f) => f !== entry);
      li.remove();
      this.list.hidden = !this.files.length;
    });
    li.append(remove);
    this.list.hidden = !this.files.length;
  }

  get busy() {
    return this.files.some((f) => f.state === "uploading");
  }

  get ready() {
    return this.files.filter((f) => f.state === "done");
  }

  // The ids to send, and the list emptied.
  take() {
    const ids = this.ready.map((f) => f.upload.id);
    const names = this.ready.map((f) => f.upload.name);
    this.files = [];
    this.list.replaceChildren();
    this.list.hidden = true;
    return { ids, names };
  }
}
