// chatbox pages: forms post JSON to the API, the chat view streams and scrolls.
// User text goes into the page with textContent; the one exception is a message's
// ``html``, which the box renders from the text and sanitizes (chatbox/web/rich_text.py).
"use strict";

// The page's language, and its words for what this script writes: the box puts them in
// the page from the same catalogue as the templates' (chatbox/web/i18n.py).
const LANG = document.documentElement.lang || "en";
const STRINGS = JSON.parse((document.getElementById("strings") || {}).textContent || "{}");

function _(text, values = {}) {
  return (STRINGS[text] || text).replace(/%\((\w+)\)s/g, (whole, name) => String(values[name]));
}

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"];
const GROUP_MS = 5 * 60 * 1000;  // one author's messages this close together share a name
const GROUP_ROWS = 10;  // and at most this many, so a long run still shows who is writing
// Rows kept in the page however far back someone scrolls: older or newer ones are
// dropped from the far side and paged in again when scrolled to.
const MAX_ROWS = 300;
const UNREACHABLE = _("The box cannot be reached right now. Nothing you typed is lost; try again in a moment.");
const me = { name: document.body.dataset.meName || "", key: document.body.dataset.meKey || "" };
let conversation = null;  // the chat page's open channel

async function api(method, url, body) {
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new Error(UNREACHABLE);  // the browser's own words ("Failed to fetch") say nothing
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const said = data.detail ? `${data.error}: ${data.detail}` : data.error || response.statusText;
    const error = new Error(said.charAt(0).toUpperCase() + said.slice(1));  // a sentence
    error.status = response.status;
    throw error;
  }
  return data;
}

function showError(scope, error) {
  const box = (scope && scope.querySelector(".form-error")) || document.querySelector(".notice");
  const result = scope && scope.querySelector(".form-result");
  if (result) result.hidden = true;
  box.textContent = error.message;
  box.hidden = false;
}

// A form's good news, in its status line: never in the error's place or colour.
function showResult(form, text, done) {
  const error = form.querySelector(".form-error");
  if (error) error.hidden = true;
  const shown = form.querySelector(".form-result");
  shown.textContent = text;
  shown.classList.toggle("done", done);
  shown.hidden = false;
  shown.scrollIntoView({ block: "nearest" });
}

// The People page lists its reader too: a new name shows there at once.
function showOwnName(session) {
  const own = document.querySelector(".people li.me");
  if (!own) return;
  const shown = session.display_name || session.name;
  own.querySelector(".author").textContent = shown;
  let handle = own.querySelector(".handle");
  if (shown !== session.name && !handle) {
    handle = element("small", "handle");
    own.querySelector(".author").after(" ", handle);
  }
  if (handle) {
    handle.textContent = `@${session.name}`;
    handle.hidden = shown === session.name;
  }
}

function formData(form) {
  const data = {};
  for (const [key, value] of new FormData(form)) data[key] = value;
  return data;
}

function bindForms() {
  // Say what a field wants in words, not the browser's "match the requested format".
  for (const field of document.querySelectorAll("input[data-rule]")) {
    field.addEventListener("invalid", () => {
      if (field.validity.patternMismatch) field.setCustomValidity(field.dataset.rule);
    });
    field.addEventListener("input", () => field.setCustomValidity(""));
  }
  for (const form of document.querySelectorAll("form[data-api]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const result = await api(form.dataset.method || "POST", form.dataset.api, formData(form));
        if (form.dataset.nextChannel !== undefined) location.href = `/chat/${result.id}`;
        else if (form.dataset.next) location.href = form.dataset.next;
        else if (form.dataset.done) showResult(form, form.dataset.done, true);
        else if (form.dataset.show) showResult(form, result[form.dataset.show], false);
        if (form.classList.contains("profile")) showOwnName(result);
      } catch (error) {
        showError(form, error);
      } finally {
        button.disabled = false;
      }
    });
  }
}

// Theme: the system's unless the person chose one on this device.
function currentTheme() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen) return chosen;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function labelThemeButtons() {
  const other = currentTheme() === "dark" ? _("Light theme") : _("Dark theme");
  for (const button of document.querySelectorAll("[data-action=theme]")) button.textContent = other;
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
    button.textContent = _("Copied");
  },
  async "new-code"() {
    const invite = await api("POST", "/api/v1/admin/signup-codes");
    const shown = document.querySelector(".new-invite");
    shown.querySelector(".new-code").textContent = invite.code;
    shown.querySelector(".new-link").value = invite.link;
    shown.querySelector(".new-qr").innerHTML = invite.qr_svg;  // drawn by the box (segno)
    shown.hidden = false;
    shown.scrollIntoView({ block: "nearest" });
  },
  async "accept-invite"() {
    const channel = await api("POST", "/api/v1/invites/accept", { token: inviteToken() });
    history.replaceState(null, "", "/invite");  // drop the key from the address bar
    location.href = `/chat/${channel.id}`;
  },
  theme() {
    const next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem("chatbox-theme", next); } catch { /* this page only */ }
    labelThemeButtons();
  },
  attach(button) {
    button.closest("form").querySelector("input[type=file]").click();
  },
  person(button) {
    const row = button.closest(".message");
    const card = document.querySelector("dialog.person-card");
    const name = row.dataset.name || _("someone");
    const box = name.match(/^(.*) \((.*)\)$/);
    card.querySelector("#person-name").textContent = box ? box[1] : name;
    // Their handle is how to mention them: @name here, @name@box for one on another box.
    const handle = row.dataset.handle ? `@${row.dataset.handle} · ` : "";
    card.querySelector(".person-box").textContent =
      handle + (box ? _("on the box %(box)s", { box: box[2] }) : _("on this box"));
    card.querySelector(".fingerprint").textContent = row.dataset.fingerprint;
    card.dataset.key = row.dataset.author;
    card.querySelector(".person-write").hidden = row.dataset.author === me.key;
    card.querySelector(".person-write .form-error").hidden = true;
    showModeration(card);
    card.showModal();
  },
  async "write-to"(button) {
    const key = button.dataset.key || button.closest("dialog.person-card").dataset.key;
    const channel = await api("POST", "/api/v1/conversations", { members: [key] });
    location.href = `/chat/${encodeURIComponent(channel.id)}`;
  },
  async "write-to-chosen"(button) {
    const chosen = [...document.querySelectorAll(".people input.choose:checked")].map((box) => box.value);
    const channel = await api("POST", "/api/v1/conversations", { members: chosen });
    location.href = `/chat/${encodeURIComponent(channel.id)}`;
  },
  async pin(button) {
    const cid = button.closest(".message").dataset.cid;
    const settings = await conversation.freshSettings();  // another moderator may have changed them
    const pinned = settings.pinned.map((message) => message.cid);
    const next = pinned.includes(cid) ? pinned.filter((other) => other !== cid) : [cid, ...pinned];
    await conversation.saveSettings({
      topic: settings.topic, description: settings.description, pinned: next, posting: settings.posting,
    });
  },
  pinned() {
    const card = document.querySelector("dialog.pinned-card");
    const { settings } = conversation;
    card.querySelector(".channel-description").textContent = settings.description;
    const list = card.querySelector(".pinned-messages");
    list.replaceChildren(...settings.pinned.map((message) => {
      const item = element("li");
      const link = element("a", "", message.text || (message.file && message.file.name) || _("a message"));
      link.href = `/chat/${encodeURIComponent(conversation.channel)}?around=${encodeURIComponent(message.cid)}#m-${message.cid}`;
      item.append(element("strong", "", message.author_name || _("someone")), " ", link);
      return item;
    }));
    card.showModal();
  },
  async "channel-settings"() {
    const card = document.querySelector("dialog.settings-card");
    const form = card.querySelector("form");
    await conversation.freshSettings();
    form.elements.topic.value = conversation.settings.topic;
    form.elements.description.value = conversation.settings.description;
    form.elements.moderators_only.checked = conversation.settings.posting === "moderators";
    card.showModal();
  },
  "close-dialog"(button) {
    button.closest("dialog").close();
  },
  async moderate(button) {
    const card = button.closest("dialog.person-card");
    const { key } = card.dataset;
    const act = button.dataset.act;
    const name = card.querySelector("#person-name").textContent;
    if (act === "ban" && !confirm(_("Ban %(name)s from this channel? What they write from now on counts for nothing on every box that follows the channel, and they can no longer post here.", { name }))) return;
    const base = `/api/v1/channels/${encodeURIComponent(conversation.channel)}`;
    if (act === "remove") {
      if (!confirm(_("Remove %(name)s from this channel? It goes on under a new key that only the others receive, on every box; %(name)s keeps what was written before.", { name }))) return;
      const successor = await api("DELETE", `${base}/members/${key}`);
      location.href = `/chat/${encodeURIComponent(successor.id)}`;
      return;
    }
    const request = {
      appoint: ["POST", `${base}/moderators`, { key }],
      dismiss: ["DELETE", `${base}/moderators/${key}`],
      ban: ["POST", `${base}/bans`, { key }],
      unban: ["DELETE", `${base}/bans/${key}`],
    }[act];
    conversation.moderation = await api(...request);
    showModeration(card);
  },
  async proof(button) {
    const cid = button.closest(".message").dataset.cid;
    const url = `/api/v1/messages/${encodeURIComponent(cid)}/proof`;
    showProof(await api("GET", url), url);
  },
  async "account-state"(button) {
    const name = button.closest("[data-name]").dataset.name;
    await api("PUT", `/api/v1/admin/accounts/${encodeURIComponent(name)}`, { state: button.dataset.state });
    location.reload();
  },
  async "remove-account"(button) {
    const account = button.closest("[data-name]");
    const name = account.dataset.name;
    const question = _("Remove the account of %(shown)s (@%(name)s) for good? Its keys are erased and it cannot log in again; what it wrote stays.", { shown: account.dataset.shown, name });
    if (!confirm(question)) return;
    await api("DELETE", `/api/v1/admin/accounts/${encodeURIComponent(name)}`);
    location.reload();
  },
  async mute(button) {
    const channel = button.closest("[data-channel]").dataset.channel;
    const wanted = button.dataset.muted !== "true";
    const { muted } = await api("PUT", `/api/v1/channels/${channel}/mute`, { muted: wanted });
    button.dataset.muted = String(muted);
    button.querySelector(".label").textContent = muted ? _("Unmute") : _("Mute");
    const link = document.querySelector(`.sidebar a[data-channel-id="${channel}"]`);
    if (link) {
      link.dataset.muted = String(muted);
      link.querySelector(".muted-mark").hidden = !muted;
      if (muted) link.querySelector(".unread").hidden = true;
    }
  },
  async reply(button) {
    threads.replyTo(button.closest(".message"));
  },
  async "cancel-reply"() {
    threads.replyTo(null);
  },
  async "reply-in-thread"() {
    threads.replyTo(threads.root);
    document.querySelector("dialog.thread-card").close();
  },
  async react(button) {
    const row = button.closest(".message");
    const keys = (row.querySelector(`.reaction[data-emoji="${CSS.escape(button.dataset.emoji)}"]`)
      || { dataset: { keys: "" } }).dataset.keys.split(" ");
    const on = !keys.includes(me.key);
    const url = `/api/v1/messages/${encodeURIComponent(row.dataset.cid)}/reaction`;
    const message = await api("PUT", url, { emoji: button.dataset.emoji, on });
    if (conversation) conversation.arrive(message);
  },
  async edit(button) {
    const row = button.closest(".message");
    const url = `/api/v1/messages/${encodeURIComponent(row.dataset.cid)}`;
    const before = row.querySelector(".text") ? (await api("GET", `${url}/versions`)).versions.at(-1).text : "";
    const text = prompt(_("Edit your message:"), before || "");
    if (text === null || !text.trim() || text === before) return;
    if (conversation) conversation.arrive(await api("PUT", url, { text }));
  },
  async delete(button) {
    const row = button.closest(".message");
    const question = row.classList.contains("mine")
      ? _("Delete this message? Its text and file leave this box, and every box that follows the channel once the delete reaches it. A box that ignores the protocol keeps what it already had.")
      : _("Remove this message of %(name)s for everyone, as a moderator? Its text and file leave this box, and every box that follows the channel once the delete reaches it. A box that ignores the protocol keeps what it already had.", { name: row.dataset.name || _("someone") });
    if (!confirm(question)) return;
    await api("DELETE", `/api/v1/messages/${encodeURIComponent(row.dataset.cid)}`);
  },
  async thread(button) {
    await threads.open(button.closest(".message").dataset.cid);
  },
  async versions(button) {
    await threads.versions(button.closest(".message").dataset.cid);
  },
  async notifications(button) {
    // Asked only from this click, never on load.
    const answer = await Notification.requestPermission();
    button.hidden = answer !== "default";
  },
};

// What the person card says of someone's standing in the open channel, and what a
// moderator may do about it there.
function showModeration(card) {
  const view = conversation && conversation.moderation;
  const role = card.querySelector(".person-role");
  const tools = card.querySelector(".person-moderation");
  const { key } = card.dataset;
  if (!view) { role.hidden = true; tools.hidden = true; return; }
  const founder = view.founders.includes(key);
  const moderator = view.moderators.includes(key);
  const banned = view.banned.includes(key);
  role.textContent = founder ? _("Founder of this channel") : moderator ? _("Moderator of this channel")
    : banned ? _("Banned from this channel") : "";
  role.hidden = !role.textContent;
  tools.hidden = !view.you_moderate || key === me.key;
  const member = (view.members || []).includes(key) && !view.successor;
  const shown = {
    appoint: !moderator && !banned, dismiss: moderator && !founder, ban: !moderator && !banned,
    unban: banned, remove: member && !moderator,
  };
  for (const button of tools.querySelectorAll("[data-act]")) button.hidden = !shown[button.dataset.act];
}

function showProof(proof, url) {
  const card = document.querySelector("dialog.proof-card");
  card.querySelector(".proof-what").textContent = _(
    "This message is part of its channel's history as this box wrote it on chain: the channel's " +
    "heads at that time lead to it, and a Merkle path leads from those heads to the root the " +
    "transaction recorded. Changing or removing the message would break that path.");
  const facts = card.querySelector(".proof-facts");
  facts.replaceChildren();
  for (const [term, value] of [[_("Block"), proof.block], [_("Chain"), proof.chain_id],
    [_("Registry"), proof.registry], [_("Transaction"), proof.tx], [_("Batch root"), proof.root]]) {
    facts.append(element("dt", "", term), element("dd", "mono", String(value)));
  }
  card.querySelector(".proof-command").textContent = `chatbox verify ${proof.message}`;
  const link = card.querySelector(".proof-json");
  link.href = url;
  link.download = `proof-${proof.message}.json`;
  card.showModal();
}

// A message's thread (or its earlier versions) in a dialog, and the composer's reply mode.
const threads = {
  root: null,  // the row of the message the open thread hangs from
  replying: null,  // the cid the composer replies to, or null
  async open(cid) {
    const { messages } = await api("GET", `/api/v1/messages/${encodeURIComponent(cid)}/thread`);
    this.show(_("Thread"), messages, true);
    this.root = document.getElementById(`m-${messages[0].cid}`) || { dataset: { cid: messages[0].cid, name: messages[0].author_name || "" } };
  },
  async versions(cid) {
    const { versions } = await api("GET", `/api/v1/messages/${encodeURIComponent(cid)}/versions`);
    this.show(_("Earlier versions"), versions, false);
  },
  show(title, messages, replyable) {
    const card = document.querySelector("dialog.thread-card");
    card.querySelector("#thread-title").textContent = title;
    const list = card.querySelector(".thread-messages");
    list.replaceChildren(...messages.map((message, index) => {
      const row = renderMessage({ ...message, reply_to: null, replies: 0 });
      row.removeAttribute("id");  // the channel's own row keeps the id links point to
      // A reply is edited or deleted here, by its author or a moderator; the message the
      // thread hangs from, and earlier versions, are acted on in the channel.
      if (!replyable || index === 0) row.querySelector(".tools")?.remove();
      for (const tool of row.querySelectorAll("[data-action=reply], [data-action=pin]")) tool.remove();
      return row;
    }));
    card.classList.toggle("moderating", Boolean(conversation && conversation.moderation
      && conversation.moderation.you_moderate));
    card.dataset.root = replyable ? messages[0].cid : "";
    card.querySelector("[data-action=reply-in-thread]").hidden = !replyable;
    decorate(list);
    if (!card.open) card.showModal();
  },
  arrive(message) {
    // An open thread shows a new reply, or its message changed, as it arrives.
    const card = document.querySelector("dialog.thread-card");
    if (!card || !card.open || !card.dataset.root) return;
    if (message.reply_to === card.dataset.root || message.cid === card.dataset.root) {
      this.open(card.dataset.root).catch(() => {});
    }
  },
  replyTo(row) {
    const banner = document.querySelector(".replying");
    this.replying = row ? row.dataset.cid : null;
    if (!banner) return;
    banner.hidden = !row;
    if (row) {
      banner.querySelector(".replying-to").textContent = _("Replying to %(name)s", { name: row.dataset.name || _("someone") });
      document.querySelector(".composer textarea").focus();
    }
  },
};

function bindActions() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    try {
      await actions[button.dataset.action](button);
    } catch (error) {
      showError(button.closest("form, section, main"), error);
    }
  });
}

function bindMenu() {
  const button = document.querySelector(".menu-button");
  const nav = document.getElementById("site-nav");
  if (!button || !nav) return;
  const toggle = (open) => {
    nav.classList.toggle("open", open);
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => toggle(!nav.classList.contains("open")));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("open")) { toggle(false); button.focus(); }
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".top")) toggle(false);
  });
}

// The language chosen on this device; the box reads it from the cookie on every page.
function bindLanguageMenu() {
  for (const menu of document.querySelectorAll("select[data-setting=language]")) {
    menu.addEventListener("change", () => {
      const year = 365 * 24 * 3600;
      document.cookie = `chatbox-lang=${encodeURIComponent(menu.value)}; path=/; max-age=${year}; SameSite=Lax`;
      location.reload();
    });
  }
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
    label.textContent = _("You were invited to the private channel “%(channel)s”.", { channel: invite.name });
    page.querySelector("[data-action]").disabled = false;
  } catch {
    label.textContent = _("This invite link is damaged or incomplete. Ask for a new one.");
  }
}

// A group conversation holds at most eight people: the writer and seven ticked.
function bindGroupChoice() {
  const start = document.querySelector("[data-action=write-to-chosen]");
  if (!start) return;
  const boxes = [...document.querySelectorAll(".people input.choose")];
  const update = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    start.disabled = ticked === 0;
    for (const box of boxes) box.disabled = !box.checked && ticked >= 7;
  };
  for (const box of boxes) box.addEventListener("change", update);
  update();
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
  if (unit === 0) return `${value} B`;
  const shown = value.toLocaleString(LANG, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return `${shown} ${units[unit]}`;
}

// Times: short on the row (the day is its separator's), in full on hover.
function localTimes(root) {
  for (const time of root.querySelectorAll("time[datetime]")) {
    const when = new Date(time.getAttribute("datetime"));
    const row = time.closest(".message");
    time.textContent = row
      ? when.toLocaleTimeString(LANG, { hour: "numeric", minute: "2-digit" })
      : when.toLocaleString(LANG, { dateStyle: "short", timeStyle: "short" });
    time.title = when.toLocaleString(LANG, { dateStyle: "full", timeStyle: "long" });
  }
}

function initials(name) {
  const words = (name || "?").replace(/\(.*\)$/, "").trim().split(/[\s._-]+/).filter(Boolean);
  const letters = words.slice(0, 2).map((word) => [...word][0].toUpperCase()).join("");
  return letters || "?";
}

// An avatar drawn from the author's key: their initials on a colour of their own.
function paintAvatar(row) {
  const avatar = row.querySelector(".avatar");
  if (!avatar || avatar.textContent) return;
  avatar.textContent = initials(row.dataset.name);
  avatar.style.setProperty("--hue", String(parseInt(row.dataset.author.slice(0, 4), 16) % 360));
}

function dayOf(ts) {
  return new Date(ts).toDateString();
}

function dayLabel(ts) {
  const date = new Date(ts);
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86400000);
  if (date.toDateString() === today.toDateString()) return _("Today");
  if (date.toDateString() === yesterday.toDateString()) return _("Yesterday");
  const sameYear = date.getFullYear() === today.getFullYear();
  return date.toLocaleDateString(LANG, { weekday: "long", month: "long", day: "numeric",
    year: sameYear ? undefined : "numeric" });
}

// Group one author's consecutive messages, mark the days, keep rows out of the Tab order.
function decorate(list) {
  for (const separator of list.querySelectorAll(".day")) separator.remove();
  let previous = null;
  let run = 0;  // rows in the current group
  for (const row of list.querySelectorAll(".message")) {
    paintAvatar(row);
    const ts = Number(row.dataset.ts);
    const newDay = !previous || dayOf(Number(previous.dataset.ts)) !== dayOf(ts);
    if (newDay) {
      list.insertBefore(element("li", "day", dayLabel(ts)), row);
    }
    const continued = Boolean(previous) && !newDay && run < GROUP_ROWS
      && previous.dataset.author === row.dataset.author
      && ts - Number(previous.dataset.ts) < GROUP_MS;
    row.classList.toggle("continued", continued);
    row.classList.toggle("mine", row.dataset.author === me.key);
    run = continued ? run + 1 : 1;
    for (const inner of row.querySelectorAll("a, button")) inner.tabIndex = -1;
    for (const mention of row.querySelectorAll(".mention")) {
      mention.classList.toggle("me", mention.dataset.key === me.key);  // resolved by the box
    }
    row.classList.toggle("mentions-me", Boolean(row.querySelector(".mention.me")));
    previous = row;
  }
}

function renderMessage(message) {
  const row = element("li", message.deleted ? "message deleted" : "message");
  row.id = `m-${message.cid}`;
  row.tabIndex = -1;
  Object.assign(row.dataset, {
    cid: message.cid, clock: message.clock, author: message.author, ts: message.ts,
    revision: message.revision,
    name: message.author_name || "", handle: message.author_handle || "",
    fingerprint: message.author_fingerprint,
  });
  const avatar = element("span", "avatar");
  avatar.setAttribute("aria-hidden", "true");
  const body = element("div", "body");
  const meta = element("div", "meta");
  const author = element("button", "author", message.author_name || _("someone"));
  author.type = "button";
  author.dataset.action = "person";
  const time = element("time");
  time.setAttribute("datetime", new Date(message.ts).toISOString());
  meta.append(author, time);
  body.append(meta);
  if (message.deleted) body.append(element("p", "gone", _("This message was deleted.")));
  if (message.html !== null) {
    const text = element("div", "text");
    text.innerHTML = message.html;  // rendered and sanitized by the box, never the raw text
    body.append(text);
  }
  if (message.file) body.append(renderFile(message.file));
  if (message.edited_ts || message.reactions.length || message.replies) {
    body.append(renderExtras(message));
  }
  row.append(avatar, body);
  if (!message.deleted) row.append(renderTools());
  localTimes(row);
  return row;
}

// Under a message: "(edited)", its reactions (a click adds or takes back one's own) and
// its thread's size; the same as _message.html renders.
function renderExtras(message) {
  const extras = element("div", "extras");
  const button = (className, action, text) => {
    const made = element("button", className, text);
    made.type = "button";
    made.dataset.action = action;
    extras.append(made);
    return made;
  };
  if (message.edited_ts) button("edited", "versions", _("(edited)"));
  for (const reaction of message.reactions) {
    const made = button("reaction", "react", `${reaction.emoji} `);
    made.append(element("span", "count", String(reaction.count)));
    made.dataset.emoji = reaction.emoji;
    made.dataset.keys = reaction.keys.join(" ");
    made.title = reaction.people.join(", ");
  }
  if (message.replies) {
    button("replies", "thread", message.replies === 1
      ? _("1 reply") : _("%(count)s replies", { count: message.replies }));
  }
  return extras;
}

function renderTools() {
  const tools = element("div", "tools");
  tools.setAttribute("role", "group");
  tools.setAttribute("aria-label", _("Message actions"));
  for (const [action, text, own] of [["reply", _("Reply"), null], ["react", "👍", null],
    ["edit", _("Edit"), "own-only"], ["pin", _("Pin"), "moderator-only"],
    ["delete", _("Delete"), "own-or-moderator"]]) {
    const made = element("button", own || "", text);
    made.type = "button";
    made.dataset.action = action;
    if (action === "react") {
      made.dataset.emoji = "👍";
      made.title = _("React with a thumbs-up");
    }
    tools.append(made);
  }
  return tools;
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

// The channel list: live unread counts, and the count in the tab's title.
function openLightbox(picture) {
  const box = document.querySelector("dialog.lightbox");
  const image = box.querySelector("img");
  const shown = picture.querySelector("img");
  image.src = picture.href;
  image.alt = shown ? shown.alt : "";
  box.querySelector(".caption").textContent = image.alt;
  box.querySelector("a.download").href = picture.href;
  box.showModal();
}

class ChannelList {
  constructor() {
    this.title = document.title;
    this.links = new Map();
    for (const link of document.querySelectorAll(".channels a[data-channel-id], .conversations a[data-channel-id]")) {
      this.links.set(link.dataset.channelId, link);
    }
    this.showTotal();
  }

  bump(channelId) {
    const link = this.links.get(channelId);
    if (!link || link.dataset.muted === "true") return;
    const badge = link.querySelector(".unread");
    const count = badge.querySelector(".count");
    count.textContent = String(Number(count.textContent || 0) + 1);
    badge.hidden = false;
    this.showTotal();
  }

  name(channelId) {
    const link = this.links.get(channelId);
    return link ? link.querySelector(".channel-name").textContent : _("a channel");
  }

  isDirect(channelId) {
    const link = this.links.get(channelId);
    return Boolean(link && link.closest(".conversations"));
  }

  // A conversation someone started with this person while the page was open, or the
  // channel one of theirs goes on as since a member was removed.
  add(channel) {
    if (this.links.has(channel.id)) return;
    const list = document.querySelector(channel.direct ? ".conversations" : ".channels");
    if (!list) return;
    const before = channel.follows && this.links.get(channel.follows);
    const sigil = before ? before.querySelector(".sigil").cloneNode(true)
      : element("span", "sigil", channel.direct ? "@" : "#");
    sigil.setAttribute("aria-hidden", "true");
    if (before) before.closest("li").remove();  // it goes on as this one
    const link = element("a");
    link.href = `/chat/${encodeURIComponent(channel.id)}`;
    link.dataset.channelId = channel.id;
    link.dataset.muted = "false";
    const unread = element("span", "unread");
    unread.hidden = true;
    unread.append(element("span", "visually-hidden", `${_("unread:")} `), element("span", "count", "0"));
    const muted = element("span", "muted-mark");
    muted.hidden = true;
    link.append(sigil, element("span", "channel-name", channel.title), " ", muted, " ", unread);
    const item = element("li");
    item.append(link);
    list.append(item);
    const empty = list.querySelector(".empty");
    if (empty) empty.hidden = true;
    this.links.set(channel.id, link);
  }

  showTotal() {
    let total = 0;
    for (const link of this.links.values()) {
      const badge = link.querySelector(".unread");
      if (!badge.hidden) total += Number(badge.querySelector(".count").textContent || 0);
    }
    document.title = total ? `(${total}) ${this.title}` : this.title;
  }
}

function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch { /* no audio here */ }
}

function soundOn() {
  try { return localStorage.getItem("chatbox-sound") === "on"; } catch { return false; }
}

function bindAlertSettings() {
  const ask = document.querySelector("[data-action=notifications]");
  if (ask && "Notification" in window && Notification.permission === "default") ask.hidden = false;
  const sound = document.querySelector("[data-setting=sound]");
  if (!sound) return;
  sound.checked = soundOn();
  sound.addEventListener("change", () => {
    try { localStorage.setItem("chatbox-sound", sound.checked ? "on" : "off"); } catch { /* off */ }
  });
}

// One event stream for all of a person's channels: the open one shows its messages, the
// others count them, and a mention of the person notifies.
class LiveChat {
  constructor(channels, conversation) {
    this.channels = channels;
    this.conversation = conversation;
  }

  start() {
    const source = new EventSource("/api/v1/events");
    let dropped = false;
    source.addEventListener("message", (event) => this.arrive(JSON.parse(event.data)));
    source.addEventListener("joined", (event) => this.channels.add(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      dropped = true;
      if (this.conversation) this.conversation.connection(false);
    });
    // After a drop the browser reconnects by itself; fetch what came meanwhile.
    source.addEventListener("open", () => {
      if (this.conversation) this.conversation.connection(true);
      if (dropped && this.conversation) this.conversation.catchUp();
    });
  }

  arrive(message) {
    const mine = message.author === me.key;
    const here = this.conversation && this.conversation.channel === message.channel_id;
    if (here) this.conversation.arrive(message);
    // A message something was said about (an edit, a reaction, a reply, a delete) comes
    // again as it now reads: shown, but neither counted nor announced a second time.
    if (mine || message.revision > 0 || message.deleted) return;
    if (!here) this.channels.bump(message.channel_id);
    if ((message.mentioned || []).includes(me.key)) {
      this.notify(message, here, "mention");
    } else if (message.reply_to_author === me.key) {
      this.notify(message, here, "reply");
    } else if (this.channels.isDirect(message.channel_id)) {
      this.notify(message, here, "direct");
    }
  }

  notify(message, here, why) {
    if (here && !document.hidden) return;
    if (soundOn()) beep();
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const where = this.channels.name(message.channel_id);
    const who = message.author_name || _("someone");
    const names = { name: who, channel: where };
    const title = {
      reply: _("%(name)s replied to you in %(channel)s", names),
      mention: _("%(name)s mentioned you in %(channel)s", names),
      direct: _("%(name)s wrote to you", names),
    }[why];
    const note = new Notification(title, {
      body: (message.text || "").slice(0, 200), tag: message.cid,
    });
    note.addEventListener("click", () => {
      window.focus();
      location.href = `/chat/${message.channel_id}#m-${message.cid}`;
    });
  }
}

class Conversation {
  constructor(section) {
    this.section = section;
    this.channel = section.dataset.channel;
    this.list = section.querySelector(".messages");
    this.marker = section.querySelector(".new-messages");
    this.banner = section.querySelector(".connection");
    this.before = section.dataset.before || null;
    // The newest row kept, while newer ones are out of the page: set when the channel opens
    // at a message further back (a search result), then by paging and trimming.
    this.newer = section.dataset.after || null;
    this.loading = false;
    this.lastRead = 0;
    this.stuck = true;  // following the newest message until the reader scrolls up
    this.moderation = null;  // who moderates here, once asked
    this.settings = null;  // the topic, description and pinned messages, once asked
  }

  start() {
    this.loadModeration();
    this.bindHistory();
    this.decorate();
    if (!this.newer) this.scrollToEnd();
    this.markRead();
    this.bindScrolling();
    this.bindKeys();
    this.bindLongPress();
    this.bindComposer();
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  // Who moderates here (a moderator is offered the delete of anyone's message, pins, the
  // channel's settings and the person card's moderation), and the topic and pins.
  async loadModeration() {
    const base = `/api/v1/channels/${encodeURIComponent(this.channel)}`;
    try {
      [this.moderation, this.settings] = await Promise.all(
        [api("GET", `${base}/moderation`), api("GET", `${base}/settings`)]);
    } catch {
      return;  // offered again on the next visit
    }
    this.section.classList.toggle("moderating", this.moderation.you_moderate);
    this.showSettings();
    const form = document.querySelector("dialog.settings-card form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const settings = {
        topic: form.elements.topic.value, description: form.elements.description.value,
        pinned: this.settings.pinned.map((message) => message.cid),
        posting: form.elements.moderators_only.checked ? "moderators" : "everyone",
      };
      try {
        await this.saveSettings(settings);
        form.closest("dialog").close();
      } catch (error) {
        showError(form, error);
      }
    });
  }

  async freshSettings() {
    this.settings = await api("GET", `/api/v1/channels/${encodeURIComponent(this.channel)}/settings`);
    this.showSettings();
    return this.settings;
  }

  async saveSettings(settings) {
    const url = `/api/v1/channels/${encodeURIComponent(this.channel)}/settings`;
    this.settings = await api("PUT", url, settings);
    this.showSettings();
  }

  showSettings() {
    if (!this.settings) return;
    const topic = this.section.querySelector(".topic");
    topic.textContent = this.settings.topic;
    topic.title = this.settings.topic;
    topic.hidden = !this.settings.topic;
    const button = this.section.querySelector("[data-action=pinned]");
    button.hidden = !this.settings.pinned.length && !this.settings.description;
    button.querySelector(".count").textContent = this.settings.pinned.length || "";
    this.showPins();
    // One who may not post here is told why in the message box's place, before typing.
    const composer = this.section.querySelector(".composer");
    const reason = this.section.querySelector(".cannot-post");
    const view = this.moderation;
    const banned = view && view.banned.includes(me.key);
    reason.replaceChildren(view && view.removed ? _("A moderator removed you from this channel. You can read what was written before.")
      : banned ? _("A moderator banned you from this channel.")
      : view && view.successor ? _("A member was removed, so this channel goes on under a new key. ")
      : _("Only moderators post in this channel."));
    if (view && view.successor && !view.removed) {
      const onward = element("a", "", _("Write in it"));
      onward.href = `/chat/${encodeURIComponent(view.successor)}`;
      reason.append(onward);
    }
    composer.hidden = !this.settings.you_may_post;
    reason.hidden = this.settings.you_may_post;
  }

  // The rows as every list draws them, and the pins this channel's settings name.
  decorate() {
    decorate(this.list);
    this.showPins();
  }

  // A pinned message carries a mark, and its Pin tool reads Unpin.
  showPins() {
    if (!this.settings) return;
    const pinned = new Set(this.settings.pinned.map((message) => message.cid));
    for (const row of this.rows()) {
      row.classList.toggle("pinned", pinned.has(row.dataset.cid));
      const tool = row.querySelector("[data-action=pin]");
      if (tool) tool.textContent = pinned.has(row.dataset.cid) ? _("Unpin") : _("Pin");
    }
  }

  arrive(message) {
    if (message.reply_to) {  // a reply lives in its thread; the channel shows its count
      threads.arrive(message);
      return;
    }
    const shown = document.getElementById(`m-${message.cid}`);
    if (shown) {  // the same message again: edited, reacted to, replied to or deleted
      if (Number(message.revision) >= Number(shown.dataset.revision || 0)) {
        const follow = this.stuck;  // a row grown by a reaction must not push the end away
        shown.replaceWith(renderMessage(message));
        this.decorate();
        if (follow) this.scrollToEnd();
      }
      threads.arrive(message);
      return;
    }
    if (this.newer) {  // far back in history: it shows once the reader comes back down
      if (message.author === me.key) this.jumpToNewest();  // what one sends, one sees
      else this.marker.hidden = false;
      return;
    }
    const follow = this.stuck;
    const row = renderMessage(message);
    const later = [...this.list.querySelectorAll(".message")].find(
      (other) => Number(other.dataset.clock) > message.clock);
    this.list.insertBefore(row, later || this.end);
    this.decorate();
    if (follow || message.author === me.key) this.scrollToEnd();
    else this.marker.hidden = false;
    this.markRead();
  }

  async catchUp() {
    if (this.newer) return;
    const page = await api("GET", `/api/v1/channels/${this.channel}/messages?limit=50`);
    page.messages.forEach((message) => this.arrive(message));
  }

  connection(up) {
    this.banner.textContent = up ? "" : _("Connection to the box lost. Reconnecting by itself…");
    this.banner.hidden = up;
    // A stream refused for good may mean the session ended (logged out elsewhere, or
    // switched off by an admin): say so, rather than "reconnecting" forever.
    if (!up) api("GET", "/api/v1/session").catch((error) => { if (error.status === 401) this.loggedOut(); });
  }

  loggedOut() {
    const link = element("a", "", _("Log in again"));
    link.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    this.banner.replaceChildren(_("You are no longer logged in."), " ", link);
    this.banner.hidden = false;
  }

  markRead() {
    const messages = this.list.querySelectorAll(".message");
    if (!messages.length || document.hidden || !this.stuck || this.newer) return;
    const clock = Number(messages[messages.length - 1].dataset.clock);
    if (clock <= this.lastRead) return;
    this.lastRead = clock;
    api("POST", `/api/v1/channels/${this.channel}/read`, { clock }).catch(() => {});
  }

  nearEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 60;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
    this.stuck = true;
    this.marker.hidden = true;
  }

  bindScrolling() {
    this.list.addEventListener("scroll", () => {
      this.stuck = this.nearEnd();
      if (this.stuck) { this.marker.hidden = true; this.markRead(); }
    }, { passive: true });
    // A picture that loads late must not push the newest message out of view.
    this.list.addEventListener("load", () => { if (this.stuck) this.scrollToEnd(); }, true);
    // Nor may the list growing shorter: the connection banner showing, a reply's banner,
    // a message box grown by a long text, a phone's keyboard opening.
    new ResizeObserver(() => { if (this.stuck) this.scrollToEnd(); }).observe(this.list);
    this.marker.addEventListener("click", () => (this.newer ? this.jumpToNewest() : this.scrollToEnd()));
    if (location.hash.startsWith("#m-")) {
      const target = document.getElementById(location.hash.slice(1));
      const centre = () => { target.scrollIntoView({ block: "center" }); this.stuck = this.nearEnd(); };
      if (target) {
        centre();
        // The browser jumps to the fragment itself once the page has loaded: centre again.
        window.addEventListener("load", () => requestAnimationFrame(centre), { once: true });
      }
    }
  }

  // The list is one Tab stop; arrow keys move between messages, Enter opens what one holds.
  bindKeys() {
    this.list.addEventListener("keydown", (event) => {
      const rows = [...this.list.querySelectorAll(".message")];
      if (!rows.length) return;
      const at = rows.indexOf(document.activeElement);
      let next = null;
      if (event.key === "ArrowUp") next = at === -1 ? rows.length - 1 : Math.max(at - 1, 0);
      else if (event.key === "ArrowDown") next = at === -1 ? rows.length - 1 : Math.min(at + 1, rows.length - 1);
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = rows.length - 1;
      else if (event.key === "Enter" && at !== -1) {
        const target = rows[at].querySelector(".text a, .picture, .file, .anchored");
        if (target) { event.preventDefault(); target.click(); }
        return;
      } else if (event.key === "Escape" && at !== -1) {
        this.list.focus();
        return;
      } else {
        return;
      }
      event.preventDefault();
      rows[next].focus({ preventScroll: false });
      rows[next].scrollIntoView({ block: "nearest" });
    });
  }

  // Touch screens have no hover for the full time: holding a finger on a message shows
  // it in place of the short one, until the next touch.
  bindLongPress() {
    const HOLD_MS = 500;
    let timer = null;
    let start = null;
    let shown = null;
    const restore = () => {
      if (!shown) return;
      localTimes(shown.closest(".message"));
      shown.classList.remove("full");
      shown.closest(".message").classList.remove("time-shown");
      shown = null;
    };
    const cancel = () => { clearTimeout(timer); timer = null; };
    this.list.addEventListener("pointerdown", (event) => {
      restore();
      const row = event.pointerType === "touch" && event.target.closest(".message");
      if (!row) return;
      start = { x: event.clientX, y: event.clientY };
      timer = setTimeout(() => {
        timer = null;
        shown = row.querySelector(".meta time");
        shown.textContent = shown.title;
        shown.classList.add("full");
        row.classList.add("time-shown");
        row.scrollIntoView({ block: "nearest" });  // the longer line must not push it away
      }, HOLD_MS);
    });
    this.list.addEventListener("pointermove", (event) => {
      if (timer && Math.hypot(event.clientX - start.x, event.clientY - start.y) > 10) cancel();
    });
    for (const type of ["pointerup", "pointercancel"]) this.list.addEventListener(type, cancel);
    // The hold that showed the time must not also open the browser's menu.
    this.list.addEventListener("contextmenu", (event) => { if (shown) event.preventDefault(); });
  }

  bindHistory() {
    this.start = this.list.querySelector(".history-start");
    const top = element("li", "sentinel");
    this.end = element("li", "sentinel");
    for (const sentinel of [top, this.end]) sentinel.setAttribute("aria-hidden", "true");
    this.list.prepend(top);
    this.list.append(this.end);
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.page("older");
    }, { root: this.list, rootMargin: "600px 0px 0px 0px" }).observe(top);
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.page("newer");
    }, { root: this.list, rootMargin: "0px 0px 600px 0px" }).observe(this.end);
  }

  rows() {
    return [...this.list.querySelectorAll(".message")];
  }

  // Page in older or newer messages, keeping the reader's place; drop rows from the far
  // side so the page never holds more than MAX_ROWS.
  async page(direction) {
    const cursor = direction === "older" ? this.before : this.newer;
    if (this.loading || !cursor) return;
    this.loading = true;
    try {
      const query = `${direction === "older" ? "before" : "after"}=${encodeURIComponent(cursor)}&limit=50`;
      const page = await api("GET", `/api/v1/channels/${this.channel}/messages?${query}`);
      const rows = this.rows();
      const anchor = direction === "older" ? rows[0] : rows[rows.length - 1];
      const offset = anchor ? anchor.getBoundingClientRect().top : 0;
      const place = direction === "older" ? rows[0] || this.end : this.end;
      for (const message of page.messages) {
        if (!document.getElementById(`m-${message.cid}`)) this.list.insertBefore(renderMessage(message), place);
      }
      if (direction === "older") this.before = page.before;
      else this.newer = page.after;
      this.trim(direction === "older" ? "newest" : "oldest");
      this.decorate();
      if (anchor) this.list.scrollTop += anchor.getBoundingClientRect().top - offset;
      this.start.hidden = Boolean(this.before);
      this.stuck = !this.newer && this.nearEnd();
    } catch (error) {
      showError(null, error);
    } finally {
      this.loading = false;
    }
  }

  trim(side) {
    const rows = this.rows();
    const extra = rows.length - MAX_ROWS;
    if (extra <= 0) return;
    if (side === "newest") {
      rows.slice(-extra).forEach((row) => row.remove());
      this.newer = rows[rows.length - extra - 1].dataset.cid;
    } else {
      rows.slice(0, extra).forEach((row) => row.remove());
      this.before = rows[extra].dataset.cid;
    }
  }

  async jumpToNewest() {
    try {
      const page = await api("GET", `/api/v1/channels/${this.channel}/messages?limit=50`);
      this.rows().forEach((row) => row.remove());
      for (const message of page.messages) this.list.insertBefore(renderMessage(message), this.end);
      this.before = page.before;
      this.newer = null;
      this.start.hidden = Boolean(this.before);
      this.decorate();
      this.scrollToEnd();
      this.markRead();
    } catch (error) {
      showError(null, error);
    }
  }

  bindComposer() {
    const form = this.section.querySelector(".composer");
    const text = form.querySelector("textarea");
    const grow = () => {
      text.style.height = "auto";
      text.style.height = `${Math.min(text.scrollHeight + 2, 128)}px`;
    };
    text.addEventListener("input", grow);
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
      grow();
      try {
        const reply = threads.replying;
        const body = reply ? { text: value, reply_to: reply } : { text: value };
        const posted = await api("POST", `/api/v1/channels/${this.channel}/messages`, body);
        threads.replyTo(null);
        this.arrive(posted);
        if (!reply) this.scrollToEnd();
      } catch (error) {
        text.value = value;  // nothing typed is lost
        grow();
        if (error.status === 401) this.loggedOut();
        else showError(null, error);
      }
    });
    form.querySelector("input[type=file]").addEventListener("change", (event) => {
      const files = [...event.target.files];
      event.target.value = "";
      this.send(files);
    });
    // Files dropped anywhere on the conversation, or pasted into the message box.
    const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
    this.section.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      this.section.classList.add("dropping");
    });
    this.section.addEventListener("dragleave", (event) => {
      if (!this.section.contains(event.relatedTarget)) this.section.classList.remove("dropping");
    });
    this.section.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      this.section.classList.remove("dropping");
      this.send([...event.dataTransfer.files]);
    });
    text.addEventListener("paste", (event) => {
      const files = [...((event.clipboardData && event.clipboardData.files) || [])];
      if (!files.length) return;
      event.preventDefault();
      this.send(files);
    });
    this.list.addEventListener("click", (event) => {
      const picture = event.target.closest(".picture");
      if (!picture) return;
      event.preventDefault();
      openLightbox(picture);
    });
  }

  // Files go one after another, so the progress bar always tells of one.
  send(files) {
    this.queue = files.reduce((queue, file) => queue.then(() => this.upload(file)),
      this.queue || Promise.resolve());
  }

  upload(file) {
    const limit = Number(this.section.dataset.uploadLimit);
    if (file.size > limit) {
      const words = _("%(file)s is larger than this box's limit of %(limit)s", { file: file.name, limit: formatSize(limit) });
      showError(null, new Error(words));
      return Promise.resolve();
    }
    return new Promise((done) => this.transfer(file, done));
  }

  transfer(file, done) {
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
      done();
      let data = {};
      try { data = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status === 201) this.arrive(data);
      else if (request.status === 0) showError(null, new Error(UNREACHABLE));
      else showError(null, new Error(data.detail || data.error || _("upload failed")));
    });
    bar.value = 0;
    bar.setAttribute("aria-label", _("Sending %(file)s", { file: file.name }));
    bar.hidden = false;
    request.send(body);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  bindForms();
  bindActions();
  bindMenu();
  labelThemeButtons();
  bindLanguageMenu();
  describeInvite();
  bindGroupChoice();
  localTimes(document);
  if (!document.body.classList.contains("chat")) return;
  const section = document.querySelector(".conversation[data-channel]");
  conversation = section ? new Conversation(section) : null;
  if (conversation) conversation.start();
  bindAlertSettings();
  new LiveChat(new ChannelList(), conversation).start();
});
