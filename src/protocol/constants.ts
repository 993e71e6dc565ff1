import { Buffer } from 'node:buffer';

/** The GUID that RFC 6455 §1.3 appends to Sec-WebSocket-Key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Connection states, numbered as in the WHATWG WebSocket API and ws. */
export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** Close codes with a name in RFC 6455 §7.4.1 and the IANA registry. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatusReceived: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  TlsHandshake: 1015,
} as const;

/** ws's default maximum message size: 100 MiB. */
export const DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024;

/** The largest payload a control frame may carry (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
