// Types of require('wskit') (index.cjs): the WebSocket class, with the rest of the API as its
// properties, as @types/ws types require('ws'). `import WebSocket = require('wskit')` then gives
// `new WebSocket(url)`, `new WebSocket.Server(options)`, and types such as `WebSocket.ServerOptions`.
import * as api from '../dist/cjs/index.js';

declare class WebSocket extends api.WebSocket {}

declare namespace WebSocket {
  // ws's names
  export import WebSocket = api.WebSocket;
  export import WebSocketServer = api.WebSocketServer;
  export import Server = api.WebSocketServer;
  export import createWebSocketStream = api.createWebSocketStream;
  // wskit's classes and constants
  export import CloseCode = api.CloseCode;
  export import CloseEvent = api.CloseEvent;
  export import ErrorEvent = api.ErrorEvent;
  export import Event = api.Event;
  export import InMemoryBroker = api.InMemoryBroker;
  export import createFlashPolicyServer = api.createFlashPolicyServer;
  export import isHixie76 = api.isHixie76;
  export import MessageEvent = api.MessageEvent;
  export import ReadyState = api.ReadyState;
  export import RedisBroker = api.RedisBroker;
  export import WebSocketError = api.WebSocketError;
  export import WebSocketRangeError = api.WebSocketRangeError;
  export import WebSocketSyntaxError = api.WebSocketSyntaxError;
  export import WebSocketTypeError = api.WebSocketTypeError;
  export import WebSocketStream = api.WebSocketStream;
  export import toWebStreams = api.toWebStreams;
  // types only
  export type BackpressurePolicy = api.BackpressurePolicy;
  export type BinaryType = api.BinaryType;
  export type Broker = api.Broker;
  export type BrokerSink = api.BrokerSink;
  export type ClientOptions = api.ClientOptions;
  export type ConnectionOptions = api.ConnectionOptions;
  export type CodedError = api.CodedError;
  export type ErrorCode = api.ErrorCode;
  export type ErrorKind = api.ErrorKind;
  export type FlashPolicyOptions = api.FlashPolicyOptions;
  export type FlashPolicyServerOptions = api.FlashPolicyServerOptions;
  export type HeartbeatOptions = api.HeartbeatOptions;
  export type LegacyOptions = api.LegacyOptions;
  export type Http2ClientOptions = api.Http2ClientOptions;
  export type Http2UpgradeRequest = api.Http2UpgradeRequest;
  export type PerMessageDeflateOptions = api.PerMessageDeflateOptions;
  export type ProxyOption = api.ProxyOption;
  export type PublishOptions = api.PublishOptions;
  export type RawData = api.RawData;
  export type RedisBrokerOptions = api.RedisBrokerOptions;
  export type RedisClient = api.RedisClient;
  export type SendCallback = api.SendCallback;
  export type SendData = api.SendData;
  export type ServerOptions = api.ServerOptions;
  export type ServerTlsOptions = api.ServerTlsOptions;
  export type TopicsOptions = api.TopicsOptions;
  export type VerifyClientCallback = api.VerifyClientCallback;
  export type VerifyClientInfo = api.VerifyClientInfo;
  export type WebSocketOptions = api.WebSocketOptions;
  export type WebSocketSendOptions = api.WebSocketSendOptions;
  export type WebSocketChunk = api.WebSocketChunk;
  export type WebSocketCloseInfo = api.WebSocketCloseInfo;
  export type WebSocketOpenInfo = api.WebSocketOpenInfo;
  export type WebSocketStreamOptions = api.WebSocketStreamOptions;
  export type WebSocketStreams = api.WebSocketStreams;
  export type WebSocketWritableChunk = api.WebSocketWritableChunk;
  export type WebStreamsOptions = api.WebStreamsOptions;
}

export = WebSocket;
