// Thin client of the REST API: JSON in and out, session auth with the CSRF header, DRF pagination.

export class ApiError extends Error {
  constructor(status, body, url, json = true) {
    super(ApiError.describe(status, json ? body : null));
    this.status = status;
    this.body = body;
    this.url = url;
    this.json = json;
  }

  static sentences(value) {
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap((v) => ApiError.sentences(v));
    if (value && typeof value === "object") return Object.values(value).flatMap((v) => ApiError.sentences(v));
    return [];
  }

  static describe(status, body) {
    if (body && typeof body === "object") {
      if (typeof body.detail === "string") return body.detail;
      // Field errors read as sentences: the server's messages, without its field names.
      const parts = [];
      for (const [field, value] of Object.entries(body)) {
        if (field === "code") continue;
        parts.push(...ApiError.sentences(value));
      }
      if (parts.length) return [...new Set(parts)].join(" ");
    }
    if (status === 0) return "The server could not be reached.";
    return `The server answered ${status}.`;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function query(params) {
  const entries = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? `?${new URLSearchParams(entries)}` : "";
}

export async function request(method, url, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, null, url);
  }
  const text = await response.text();
  let data = null;
  let json = true;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      json = false;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data, url, json);
  return data;
}

export const get = (url) => request("GET", url);
export const post = (url, body) => request("POST", url, body ?? {});
export const patch = (url, body) => request("PATCH", url, body);
export const del = (url) => request("DELETE", url);

// A whole list: plain arrays, or DRF pages ({results, next}) followed to the end.
export async function list(url) {
  const first = await get(url);
  if (Array.isArray(first)) return first;
  if (!first || !Array.isArray(first.results)) return [];
  const items = [...first.results];
  let next = first.next;
  while (next) {
    const page = await get(next);
    items.push(...page.results);
    next = page.next;
  }
  return items;
}

// Multipart upload with progress (fetch cannot report upload progress).
export function upload(url, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      let json = true;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        json = false;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data, url, json));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, null, url)));
    xhr.send(formData);
  });
}
