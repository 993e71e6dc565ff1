// import ... from 'wskit': the objects of the CommonJS entry (index.cjs), so that importing and
// requiring wskit in one application give the same classes. The default export is the WebSocket class
// with the rest of the API as its properties, as ws's is (`new WebSocket.Server(...)`).
import WebSocket from './index.cjs';

export default WebSocket;
export const {
  CloseCode,
  CloseEvent,
  createFlashPolicyServer,
  createWebSocketStream,
  ErrorEvent,
  Event,
  InMemoryBroker,
  isHixie76,
  MessageEvent,
  ReadyState,
  RedisBroker,
  toWebStreams,
  WebSocketError,
  WebSocketRangeError,
  WebSocketSyntaxError,
  WebSocketTypeError,
  WebSocketServer,
  WebSocketStream,
} = WebSocket;
export { WebSocket };
