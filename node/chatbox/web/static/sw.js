// The web app's service worker: the page shell (styles, script, icons) and an offline page
// are kept, so a phone that lost the box's Wi-Fi shows a page that says so instead of
// the browser's error. Messages and the API always come from the box, never a cache.
"use strict";

const SHELL = "chatbox-shell-v1";
const FILES = ["/offline", "/static/style.css", "/static/app.js", "/static/theme.js",
  "/static/icon.svg", "/static/icon-192.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== SHELL).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
  } else if (url.pathname.startsWith("/static/")) {
    // The box first (it is on the LAN, and updates show at once), the kept copy offline.
    event.respondWith(fetch(request).then((response) => {
      const copy = response.clone();
      if (response.ok) caches.open(SHELL).then((cache) => cache.put(request, copy));
      return response;
    }).catch(() => caches.match(request)));
  }
});
