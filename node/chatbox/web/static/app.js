// chatbox pages: forms post JSON to the API, the chat view streams and scrolls.
// Every piece of user text is put in the page with textContent, never as HTML.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"];

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.detail ? `${data.error}: ${data.detail}` : data.error || response.statusText);
  }
  return data;
}

function showError(scope, error) {
  const box = (scope && scope.querySelector(".form-error")) || document.querySelector(".notice");
  box.textContent = error.message;
  box.hidden = false;
}

function formData(form) {
  const data = {};
  for (const [key, value] of new FormData(form)) data[key] = value;
  return data;
}

function bindForms() {
  for (const form of document.querySelectorAll("form[data-api]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const result = await api(form.dataset.method || "POST", form.dataset.api, formData(form));
        if (form.dataset.nextChannel !== undefined) location.href = `/chat/${result.id}`;
        else if (form.dataset.next) location.href = form.dataset.next;
        else if (form.dataset.done) showError(form, new Error(form.dataset.done));
      } catch (error) {
        showError(form, error);
      } finally {
        button.disabled = false;
      }
    });
  }
}

const actions = {
  async logout() {
    await api("DELETE", "/api/v1/session");
    location.href = "/login";
  },
  async join(button) {
    const channel = await api("POST", `/api/v1/channels/${button.dataset.channel}/join`);
    location.href = `/chat/${channel.id}`;
  },
  async copy(button) {
    const field = document.querySelector(button.dataset.copy);
    field.select();
    await navigator.clipboard.writeText(field.value).catch(() => document.execCommand("copy"));
    button.textContent = "Copied";
  },
  async "new-code"() {
    const { code } = await api("POST", "/api/v1/admin/signup-codes");
    const shown = document.querySelector(".new-code");
    shown.textContent = code;
    shown.hidden = false;
  },
  async "accept-invite"() {
    const channel = await api("POST", "/api/v1/invites/accept", { token: inviteToken() });
    history.replaceState(null, "", "/invite");  // drop the key from the address bar
    location.href = `/chat/${channel.id}`;
  },
};

function bindActions() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    try {
      await actions[button.dataset.action](button);
    } catch (error) {
      showError(button.closest("main, form"), error);
    }
  });
}

function inviteToken() {
  return location.hash.slice(1);
}

function describeInvite() {
  const page = document.querySelector(".accept-invite");
  if (!page) return;
  const label = page.querySelector(".invite-name");
  try {
    const padded = inviteToken().replace(/-/g, "+").replace(/_/g, "/");
    const invite = JSON.parse(atob(padded + "=".repeat((4 - (padded.length % 4)) % 4)));
    label.textContent = `You were invited to the private channel “${invite.name}”.`;
    page.querySelector("[data-action]").disabled = false;
  } catch {
    label.textContent = "This invite link is damaged or incomplete. Ask for a new one.";
  }
}

function localTimes(root) {
  for (const time of root.querySelectorAll("time[datetime]")) {
    const when = new Date(time.getAttribute("datetime"));
    time.textContent = when.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
    time.title = when.toString();
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatSize(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function renderMessage(message) {
  const item = element("li", "message");
  item.id = `m-${message.cid}`;
  item.dataset.clock = message.clock;
  const meta = element("div", "meta");
  meta.append(element("span", "author", message.author_name || "someone"));
  const fingerprint = element("span", "fingerprint", message.author_fingerprint);
  fingerprint.title = "author key fingerprint";
  meta.append(fingerprint);
  const time = element("time");
  time.setAttribute("datetime", new Date(message.ts).toISOString());
  meta.append(time);
  item.append(meta);
  if (message.text !== null) item.append(element("p", "text", message.text));
  if (message.file) item.append(renderFile(message.file));
  localTimes(item);
  return item;
}

function renderFile(file) {
  const url = `/api/v1/files/${encodeURIComponent(file.cid)}`;
  const link = element("a", IMAGE_TYPES.includes(file.mime) ? "picture" : "file");
  link.href = url;
  if (IMAGE_TYPES.includes(file.mime)) {
    const image = element("img");
    image.src = url;
    image.alt = file.name;
    image.loading = "lazy";
    link.append(image);
  } else {
    link.download = file.name;
    link.append(document.createTextNode(`${file.name} `), element("small", "", `(${formatSize(file.size)})`));
  }
  return link;
}

class Conversation {
  constructor(section) {
    this.section = section;
    this.channel = section.dataset.channel;
    this.list = section.querySelector(".messages");
    this.before = section.dataset.before || null;
    this.loading = false;
    this.lastRead = 0;
  }

  start() {
    this.scrollToEnd();
    this.markRead();
    this.listen();
    this.bindComposer();
    this.bindHistory();
  }

  listen() {
    const source = new EventSource(`/api/v1/channels/${this.channel}/events`);
    let dropped = false;
    source.addEventListener("message", (event) => this.arrive(JSON.parse(event.data)));
    source.addEventListener("error", () => { dropped = true; });
    // After a drop the browser reconnects by itself; fetch what came meanwhile.
    source.addEventListener("open", () => { if (dropped) this.catchUp(); });
  }

  arrive(message) {
    if (document.getElementById(`m-${message.cid}`)) return;
    const atEnd = this.nearEnd();
    const item = renderMessage(message);
    const later = [...this.list.querySelectorAll(".message")].find(
      (other) => Number(other.dataset.clock) > message.clock);
    this.list.insertBefore(item, later || null);
    if (atEnd) this.scrollToEnd();
    this.markRead();
  }

  async catchUp() {
    const page = await api("GET", `/api/v1/channels/${this.channel}/messages?limit=50`);
    page.messages.forEach((message) => this.arrive(message));
  }

  markRead() {
    const messages = this.list.querySelectorAll(".message");
    if (!messages.length || document.hidden) return;
    const clock = Number(messages[messages.length - 1].dataset.clock);
    if (clock <= this.lastRead) return;
    this.lastRead = clock;
    api("POST", `/api/v1/channels/${this.channel}/read`, { clock }).catch(() => {});
  }

  nearEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  bindHistory() {
    const start = this.list.querySelector(".history-start");
    const sentinel = element("li", "sentinel");
    this.list.prepend(sentinel);
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.older(start);
    }, { root: this.list }).observe(sentinel);
  }

  async older(start) {
    if (this.loading || !this.before) return;
    this.loading = true;
    try {
      const query = `before=${encodeURIComponent(this.before)}&limit=50`;
      const page = await api("GET", `/api/v1/channels/${this.channel}/messages?${query}`);
      const height = this.list.scrollHeight;
      const first = this.list.querySelector(".message");
      for (const message of page.messages) {
        if (!document.getElementById(`m-${message.cid}`)) this.list.insertBefore(renderMessage(message), first);
      }
      this.list.scrollTop += this.list.scrollHeight - height;  // keep the reader's place
      this.before = page.before;
      start.hidden = Boolean(this.before);
    } catch (error) {
      showError(null, error);
    } finally {
      this.loading = false;
    }
  }

  bindComposer() {
    const form = this.section.querySelector(".composer");
    const text = form.querySelector("textarea");
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = text.value;
      if (!value.trim()) return;
      text.value = "";
      try {
        this.arrive(await api("POST", `/api/v1/channels/${this.channel}/messages`, { text: value }));
        this.scrollToEnd();
      } catch (error) {
        text.value = value;  // nothing typed is lost
        showError(null, error);
      }
    });
    form.querySelector("input[type=file]").addEventListener("change", (event) => {
      const file = event.target.files[0];
      event.target.value = "";
      if (file) this.upload(file);
    });
  }

  upload(file) {
    const limit = Number(this.section.dataset.uploadLimit);
    if (file.size > limit) {
      showError(null, new Error(`${file.name} is larger than this box's limit of ${formatSize(limit)}`));
      return;
    }
    const bar = this.section.querySelector("progress.upload");
    const body = new FormData();
    body.append("file", file, file.name);
    const request = new XMLHttpRequest();  // fetch() cannot report upload progress
    request.open("POST", `/api/v1/channels/${this.channel}/files`);
    request.setRequestHeader("X-CSRF-Token", csrf());
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = (100 * event.loaded) / event.total;
    });
    request.addEventListener("loadend", () => {
      bar.hidden = true;
      let data = {};
      try { data = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status === 201) this.arrive(data);
      else showError(null, new Error(data.detail || data.error || "upload failed"));
    });
    bar.value = 0;
    bar.hidden = false;
    request.send(body);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  bindForms();
  bindActions();
  describeInvite();
  localTimes(document);
  const section = document.querySelector(".conversation[data-channel]");
  if (section) new Conversation(section).start();
});
