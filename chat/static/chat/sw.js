// The service worker: the page's static files from a cache, so an installed
// app opens at once. Only files under the static prefix: pages, /api/,
// /jsi18n/ and the socket always go to the server. The server puts
// self.CHAT_SW = {version, assets, staticPrefix} above this file.
const { version, assets, staticPrefix } = self.CHAT_SW;
const CACHE = `chat-static-${version}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(assets)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys.filter((key) => key.startsWith("chat-static-") && key !== CACHE).map((key) => caches.delete(key))
        )
      )
      .then(() => self.clients.claim())
  );
});

async function fromCache(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (
    event.request.method !== "GET" ||
    url.origin !== self.location.origin ||
    !url.pathname.startsWith(staticPrefix)
  ) {
    return; // not ours: the browser fetches it as if there were no worker
  }
  event.respondWith(fromCache(event.request));
});
