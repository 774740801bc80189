// The HTTP API (/api/v1/, docs/api.md) for the page: the session and the
// CSRF token the server wrote into the page. Errors become ApiError with the
// server's `code` and `detail`.
import { serverData } from "./dom.js";

const config = serverData("chat-config");
const BASE = (config.v2 && config.v2.api) || "/api/v1/";

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { "X-CSRFToken": config.csrfToken || "" };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(BASE + path, {
    method,
    headers,
    body: payload,
    credentials: "same-origin",
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, data && data.code, data && data.detail);
  }
  return data;
}

export const enc = encodeURIComponent;
