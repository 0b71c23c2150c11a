// afest tablet's service worker (scope /tablette/): the tablet opens without a network.
//
// Served at /tablette/sw.js, so it controls the tablet's pages only. Workbox (vendored,
// pinned, static/vendor/workbox-7.4.1) does the caching:
// - the tablet's pages (its learners, a learner, her forms): network first, the copy of the
//   last time she was online when the network fails or takes more than 4 s;
// - the static files (CSS, JS, htmx): the cached copy at once, refreshed behind.
// The pages are the signed-in tutor's: offline.js empties "afest-tablet" when another person
// signs in on the tablet and when she signs out, and warms it with her learners' forms while
// she is online. Entries typed offline are kept and sent by offline.js, not here.
importScripts("/static/vendor/workbox-7.4.1/workbox-sw.js");
workbox.setConfig({ modulePathPrefix: "/static/vendor/workbox-7.4.1/", debug: false });

var TABLET = "afest-tablet";
var STATIC = "afest-static";

workbox.core.clientsClaim();
self.skipWaiting();

workbox.routing.registerRoute(
  function (ctx) { return ctx.request.method === "GET" && ctx.url.pathname.indexOf("/static/") === 0; },
  new workbox.strategies.StaleWhileRevalidate({ cacheName: STATIC })
);
workbox.routing.registerRoute(
  function (ctx) {
    return ctx.request.method === "GET" && ctx.request.mode === "navigate"
      && ctx.url.pathname.indexOf("/tablette/") === 0;
  },
  new workbox.strategies.NetworkFirst({
    cacheName: TABLET,
    networkTimeoutSeconds: 4,
    matchOptions: { ignoreVary: true, ignoreSearch: true },
    plugins: [{
      // only real pages: not a redirect to the login page, not an error
      cacheWillUpdate: function (args) {
        var r = args.response;
        return r && r.status === 200 && !r.redirected ? r : null;
      }
    }]
  })
);
