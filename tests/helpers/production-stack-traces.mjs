// Imported after tsx by startProcess({ productionStackTraces: true }): tsx turns on source-mapped stack traces, which
// the service's image does not run with (`node dist/src/main.js`). With them every Error's stack is mapped back to the
// TypeScript sources when it is read, and Node reads it for every socket error (a reset connection): tens of
// microseconds each, so a crowd of 2,000 sockets dropping at once cost the API a turn of ~100 ms that production does
// not pay. Tests that time the service's event loop start it without them.
process.setSourceMapsEnabled(false);
