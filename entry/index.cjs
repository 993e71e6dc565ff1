'use strict';
// require('wskit'): the shape of require('ws'), the WebSocket class itself with the rest of the API as
// its properties (WebSocket, WebSocketServer, Server, createWebSocketStream, and wskit's own exports).
// The classes are the CommonJS build's (dist/cjs); the ES module entry (index.mjs) re-exports these
// same objects, so an application that both imports and requires wskit has one copy of each class.
const api = require('../dist/cjs/index.js');

const WebSocket = api.WebSocket;
for (const name of Object.keys(api)) {
  if (name !== 'default') WebSocket[name] = api[name];
}
WebSocket.Server = api.WebSocketServer;

module.exports = WebSocket;
