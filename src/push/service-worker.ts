/**
 * The service worker the web app registers (served at /sw.js by src/http/routes/push.ts): it turns a web push
 * message (src/push/payload.ts) into a notification and opens the announcement when the notification is clicked.
 *
 * Kept as a string here, not a file beside the build: the same bytes are served from source (tsx) and from dist/, and
 * tests/http/push-service-worker.test.ts runs this exact source against a stand-in for the browser's worker scope.
 * Plain ES2017 with no imports, no eval and no inline code from outside, so the app's CSP (script-src 'self') holds.
 */
export const SERVICE_WORKER_SOURCE = `'use strict';
// Meldingskanal service worker: shows web push messages and opens them on click. No caching, no fetch handler.

self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

// Only addresses on this origin are opened: a message can never send someone elsewhere.
function sameOriginUrl(value) {
  try {
    var url = new URL(String(value), self.location.origin);
    return url.origin === self.location.origin ? url.href : self.location.origin + '/';
  } catch (error) {
    return self.location.origin + '/';
  }
}

function readMessage(event) {
  try {
    var message = event.data ? event.data.json() : null;
    return message && typeof message === 'object' ? message : null;
  } catch (error) {
    return null;
  }
}

self.addEventListener('push', function (event) {
  var message = readMessage(event) || {};
  // Browsers require a visible notification for every push (userVisibleOnly): an unreadable message still gets one.
  var title = typeof message.title === 'string' && message.title ? message.title : 'Meldingskanal';
  var options = {
    body: typeof message.body === 'string' ? message.body : '',
    lang: typeof message.language === 'string' ? message.language : '',
    data: { url: sameOriginUrl(message.url || '/') },
    requireInteraction: message.importance === 'critical'
  };
  if (typeof message.id === 'string') {
    // The tag is the announcement: a second message about it replaces the first instead of stacking up.
    options.tag = message.id;
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var url = sameOriginUrl((event.notification.data && event.notification.data.url) || '/');
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === url && typeof windows[i].focus === 'function') return windows[i].focus();
      }
      return self.clients.openWindow ? self.clients.openWindow(url) : undefined;
    })
  );
});
`;
